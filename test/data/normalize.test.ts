import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  EDIT_OUTPUT_KEYS,
  EDIT_RESPONSE_KEYS,
  EDIT_SOURCE_KEYS,
  normalizeRecord,
  normalizeTaskType,
  resolveImageRef,
  T2I_IMAGE_KEYS,
  type NormalizeOptions,
} from '../../src/data/normalize.js';
import { parseRecords } from '../../src/data/read-records.js';
import type { DatasetItem, ImageRef } from '../../src/data/types.js';

// Records are parsed from text at a virtual path; normalization never touches the disk.
const DIR = '/data/sets';
const FILE = join(DIR, 'seed.jsonl');

function norm(record: unknown, opts: Partial<NormalizeOptions> = {}, file = FILE) {
  const raw = parseRecords(file, JSON.stringify(record) + '\n', 'jsonl').records[0];
  return normalizeRecord(raw, file, { task: 't2i', ...opts });
}
function item(record: unknown, opts: Partial<NormalizeOptions> = {}): DatasetItem {
  const r = norm(record, opts);
  expect(r.diagnostics.filter((d) => d.severity !== 'warning')).toEqual([]);
  return r.item!;
}
const f = (rel: string): ImageRef => ({ kind: 'file', path: join(DIR, rel) });
const paths = (refs: ImageRef[]) => refs.map((r) => (r.kind === 'file' ? r.path : r.url));

describe('normalizeTaskType', () => {
  it.each([
    ['t2i', 't2i'],
    ['text_to_image', 't2i'],
    ['Text-To-Image', 't2i'],
    ['text2image', 't2i'],
    ['image_generation', 't2i'],
    ['gen', 't2i'],
    ['edit', 'edit'],
    ['image_edit', 'edit'],
    ['image-editing', 'edit'],
    ['I2I', 'edit'],
    ['image_to_image', 'edit'],
    ['video', undefined],
  ])('%s → %s', (alias, task) => {
    expect(normalizeTaskType(alias)).toBe(task);
  });
});

describe('t2i candidates', () => {
  it.each(T2I_IMAGE_KEYS.map((k) => [k]))('takes candidates from %s', (key) => {
    const it_ = item({ query: 'q', [key]: ['a.png', 'b.png'] });
    expect(it_.candidates).toEqual([f('a.png'), f('b.png')]);
    expect(it_.source).toBeUndefined();
  });

  it('uses the first non-empty key in the reference order', () => {
    const rec = {
      query: 'q',
      generated_images: ['g.png'],
      image: 'i.png',
      response: ['r1.png', 'r2.png'],
      image_paths: [],
    };
    expect(paths(item(rec).candidates)).toEqual([join(DIR, 'r1.png'), join(DIR, 'r2.png')]);
  });

  it('reads a string as one image and drops null entries (a list of only nulls counts as empty)', () => {
    expect(item({ query: 'q', image: 'one.png' }).candidates).toEqual([f('one.png')]);
    expect(item({ query: 'q', image_paths: [null], response: ['a.png', null, 'b.png'] }).candidates).toEqual([
      f('a.png'),
      f('b.png'),
    ]);
  });

  it('ignores edit keys for t2i, with a warning', () => {
    const r = norm({ query: 'q', source_image: 's.png', response: ['a.png'] });
    expect(r.item!.source).toBeUndefined();
    expect(r.diagnostics).toEqual([
      expect.objectContaining({
        severity: 'warning',
        field: 'records[0].source_image',
        message: 'source_image is ignored for t2i datasets',
      }),
    ]);
  });
});

describe('query aliases', () => {
  it('takes the first non-empty of query, prompt, instruction', () => {
    expect(item({ query: 'Q', prompt: 'P', instruction: 'I', image: 'a.png' }).query).toBe('Q');
    expect(item({ query: '', prompt: 'P', image: 'a.png' }).query).toBe('P');
    expect(item({ query: null, instruction: 'I', image: 'a.png' }).query).toBe('I');
  });
});

describe('edit: base and candidates (split_image_paths)', () => {
  const edit: Partial<NormalizeOptions> = { task: 'edit' };

  it.each(EDIT_SOURCE_KEYS.map((k) => [k]))('takes the base from %s (first element of a list)', (key) => {
    const it_ = item(
      { instruction: 'add a lantern', [key]: ['base.png', 'other.png'], edited_images: ['e1.png', 'e2.png'] },
      edit,
    );
    expect(it_.source).toEqual(f('base.png'));
    expect(it_.candidates).toEqual([f('e1.png'), f('e2.png')]);
  });

  it.each(EDIT_OUTPUT_KEYS.map((k) => [k]))('takes explicit edits from %s', (key) => {
    const it_ = item({ query: 'q', source_image: 'base.png', [key]: ['e1.png', 'e2.png'], response: ['r.png'] }, edit);
    expect(it_.candidates).toEqual([f('e1.png'), f('e2.png')]);
  });

  it('source keys and output keys follow the reference order', () => {
    const it_ = item(
      { query: 'q', ref_image: 'ref.png', source_image: 'src.png', result_images: ['r.png'], edited_image: 'e.png' },
      edit,
    );
    expect(it_.source).toEqual(f('src.png'));
    expect(it_.candidates).toEqual([f('e.png')]);
  });

  it.each(EDIT_RESPONSE_KEYS.map((k) => [k]))('with a base and no explicit edits, falls back to %s', (key) => {
    const it_ = item({ query: 'q', base_image: 'base.png', [key]: ['c1.png', 'c2.png', 'c3.png'] }, edit);
    expect(it_.source).toEqual(f('base.png'));
    expect(it_.candidates).toEqual([f('c1.png'), f('c2.png'), f('c3.png')]); // no inference when a base key is set
  });

  it('explicit edits without a base: no base', () => {
    const it_ = item({ query: 'q', edited_images: ['e1.png', 'e2.png', 'e3.png'] }, edit);
    expect(it_.source).toBeUndefined();
    expect(it_.candidates).toHaveLength(3);
  });

  it('infers a base when response has one more image than label_rank', () => {
    const it_ = item({ query: 'q', response: ['b.png', 'e1.png', 'e2.png'], label_rank: [2, 1] }, edit);
    expect(it_.source).toEqual(f('b.png'));
    expect(it_.candidates).toEqual([f('e1.png'), f('e2.png')]);
    expect(it_.label).toEqual({ rank: [2, 1] });
  });

  it('no base when label_rank covers every response image (even 3 of them)', () => {
    const it_ = item({ query: 'q', response: ['e1.png', 'e2.png', 'e3.png'], label_rank: [3, 1, 2] }, edit);
    expect(it_.source).toBeUndefined();
    expect(it_.candidates).toHaveLength(3);
  });

  it('infers a base from label_score with exactly two response images', () => {
    const it_ = item({ query: 'q', response: ['b.png', 'e.png'], label_score: 4 }, { ...edit, mode: 'pointwise' });
    expect(it_.source).toEqual(f('b.png'));
    expect(it_.candidates).toEqual([f('e.png')]);
    expect(it_.label).toEqual({ score: 4 });
  });

  it('infers a base from response_includes_base with two or more images', () => {
    const it_ = item({ query: 'q', responses: ['b.png', 'e.png'], response_includes_base: true }, edit);
    expect(it_.source).toEqual(f('b.png'));
    expect(it_.candidates).toEqual([f('e.png')]);
    expect(
      item({ query: 'q', responses: ['e1.png', 'e2.png'], response_includes_base: false }, edit).source,
    ).toBeUndefined();
  });

  it('reads the legacy [base, edit1, edit2] layout when there are three or more images and no label', () => {
    const it_ = item({ query: 'q', images: ['b.png', 'e1.png', 'e2.png'] }, edit);
    expect(it_.source).toEqual(f('b.png'));
    expect(it_.candidates).toEqual([f('e1.png'), f('e2.png')]);
  });

  it('two unlabelled images and no hint: both are candidates', () => {
    const it_ = item({ query: 'q', image_paths: ['e1.png', 'e2.png'] }, edit);
    expect(it_.source).toBeUndefined();
    expect(it_.candidates).toHaveLength(2);
  });

  it('ignores t2i-only keys for edit, with a warning', () => {
    const r = norm({ query: 'q', source_image: 'b.png', generated_images: ['g.png'], response: ['e.png'] }, edit);
    expect(r.item!.candidates).toEqual([f('e.png')]);
    expect(r.diagnostics.map((d) => d.message)).toEqual(['generated_images is ignored for edit datasets']);
  });

  it('keeps the record task_type as tags and unknown keys as meta', () => {
    const it_ = item(
      { id: 'x-1', query: 'q', source_image: 'b.png', edited_image: 'e.png', task_type: 'add-object', extra: { a: 1 } },
      edit,
    );
    expect(it_.taskType).toBe('add-object');
    expect(it_.meta).toEqual({ id: 'x-1', extra: { a: 1 } });
    expect(it_.index).toBe(0);
    expect(it_.line).toBe(1);
  });
});

describe('image references', () => {
  it('resolves relative paths against the dataset folder, keeps absolute ones, passes URLs through', () => {
    expect(resolveImageRef('img/a.png', '/d')).toEqual({ kind: 'file', path: '/d/img/a.png' });
    expect(resolveImageRef('../b.png', '/d/x')).toEqual({ kind: 'file', path: '/d/b.png' });
    expect(resolveImageRef('/abs/c.png', '/d')).toEqual({ kind: 'file', path: '/abs/c.png' });
    expect(resolveImageRef('~/c.png', '/d')).toEqual({ kind: 'file', path: join(homedir(), 'c.png') });
    expect(resolveImageRef('file:///abs/d.png', '/d')).toEqual({ kind: 'file', path: '/abs/d.png' });
    expect(resolveImageRef('HTTPS://x.org/a.png', '/d')).toEqual({ kind: 'url', url: 'HTTPS://x.org/a.png' });
    expect(resolveImageRef('data:image/png;base64,AAAA', '/d')).toEqual({
      kind: 'data',
      url: 'data:image/png;base64,AAAA',
      mime: 'image/png',
    });
    expect(resolveImageRef('data:,hello', '/d')).toMatchObject({ kind: 'data', mime: 'text/plain' });
  });

  it('reports unsupported schemes and malformed data URLs at the image', () => {
    const r = norm({ query: 'q', response: ['a.png', 's3://bucket/b.png'], label_rank: [1, 2] });
    expect(r.item).toBeUndefined();
    expect(r.diagnostics).toEqual([
      expect.objectContaining({
        field: 'records[0].response[1]',
        message: '"s3://bucket/b.png" uses the unsupported URL scheme s3:// (use a local path, http(s):// or data:)',
      }),
    ]);
    expect(norm({ query: 'q', image: 'data:image/png;base64' }).diagnostics[0].message).toMatch(
      /is not a valid data: URL/,
    );
  });

  it('returns every image use with its field and role, base first', () => {
    const r = norm({ query: 'q', response: ['b.png', 'e1.png', 'e2.png'], label_rank: [1, 2] }, { task: 'edit' });
    expect(r.images.map((u) => [u.role, u.at.field, u.ref])).toEqual([
      ['source', 'records[0].response[0]', f('b.png')],
      ['candidate', 'records[0].response[1]', f('e1.png')],
      ['candidate', 'records[0].response[2]', f('e2.png')],
    ]);
  });
});

describe('validation errors name the file, record, field and line', () => {
  // A .json dataset with several records, so lines and indices are distinct.
  const JSON_FILE = join(DIR, 'test.json');
  const lines = [
    '[',
    '  {"query": "ok", "response": ["a.png", "b.png"], "label_rank": [1, 2]},',
    '  {"query": "too many",',
    '   "response": ["a.png", "b.png"],',
    '   "label_rank": [1, 2, 3]},',
    '  {"query": "tie", "response": ["a.png", "b.png"],',
    '   "label_rank": [1, 1]},',
    '  {"response": ["a.png", "b.png"], "label_rank": [2, 1]},',
    '  {"query": "no images", "label_rank": [1, 2]},',
    '  {"query": "no label", "response": ["a.png", "b.png"]},',
    '  {"query": "score", "response": "a.png",',
    '   "label_score": 7},',
    '  {"query": "bad type", "response": ["a.png", 3], "label_score": 2.5, "prompt": 1}',
    ']',
  ];
  const records = parseRecords(JSON_FILE, lines.join('\n'), 'json').records;
  const run = (i: number, opts: Partial<NormalizeOptions> = {}) =>
    normalizeRecord(records[i], JSON_FILE, { task: 't2i', mode: 'pairwise', requireLabel: true, ...opts });

  it('accepts a valid record', () => {
    expect(run(0).item).toMatchObject({ index: 0, line: 2, query: 'ok', label: { rank: [1, 2] } });
  });

  it('label_rank longer than the candidates', () => {
    expect(run(1).item).toBeUndefined();
    expect(run(1).diagnostics).toEqual([
      {
        file: JSON_FILE,
        line: 5,
        col: 4,
        field: 'records[1].label_rank',
        message: 'label_rank has 3 entries but the record has 2 candidate images',
      },
    ]);
  });

  it('label_rank that is not a permutation', () => {
    expect(run(2).diagnostics).toEqual([
      {
        file: JSON_FILE,
        line: 7,
        col: 4,
        field: 'records[2].label_rank',
        message: 'label_rank [1, 1] is not a permutation of 1..2',
      },
    ]);
    const zero = norm({ query: 'q', response: ['a.png', 'b.png'], label_rank: [0, 1] });
    expect(zero.diagnostics[0].message).toBe('label_rank [0, 1] is not a permutation of 1..2');
  });

  it('a record with no query', () => {
    expect(run(3).diagnostics).toEqual([
      {
        file: JSON_FILE,
        line: 8,
        col: 3,
        field: 'records[3]',
        message: 'record has no query (set query, prompt, instruction)',
      },
    ]);
  });

  it('a record with no candidate images', () => {
    expect(run(4).diagnostics).toEqual([
      {
        file: JSON_FILE,
        line: 9,
        col: 3,
        field: 'records[4]',
        message:
          'record has no candidate images (looked for image_paths, response, responses, images, image, generated_image, generated_images)',
      },
    ]);
  });

  it('a record with no label when labels are required (and none needed otherwise)', () => {
    expect(run(5).diagnostics).toEqual([
      {
        file: JSON_FILE,
        line: 10,
        col: 3,
        field: 'records[5]',
        message: 'record has no label_rank (required in pairwise mode)',
      },
    ]);
    expect(run(5, { requireLabel: false }).item?.label).toBeUndefined();
    expect(run(5, { mode: 'pointwise' }).diagnostics.find((d) => d.severity !== 'warning')?.message).toBe(
      'record has no label_score (required in pointwise mode)',
    );
    expect(run(5, { mode: undefined }).diagnostics[0].message).toBe('record has no label (label_rank or label_score)');
  });

  it('label_score outside [min_score, max_score] in pointwise mode', () => {
    expect(run(6, { mode: 'pointwise' }).diagnostics).toEqual([
      {
        file: JSON_FILE,
        line: 12,
        col: 4,
        field: 'records[6].label_score',
        message: 'label_score 7 is outside [1, 5] (rubric.min_score..rubric.max_score)',
      },
    ]);
    expect(run(6, { mode: 'pointwise', minScore: 0, maxScore: 10 }).item?.label).toEqual({ score: 7 });
  });

  it('wrong types, each at its own field', () => {
    const d = run(7).diagnostics;
    expect(d.map((x) => [x.field, x.line, x.message])).toEqual([
      ['records[7].response[1]', 13, 'an image must be a path or URL string (or null), found the integer 3'],
      ['records[7].label_score', 13, 'label_score must be an integer, found 2.5'],
      ['records[7].prompt', 13, 'prompt must be a string, found the integer 1'],
    ]);
  });

  it('a record that is not an object', () => {
    const raw = parseRecords(FILE, '{"query":"a","image":"a.png"}\n[1, 2]\n', 'jsonl').records[1];
    expect(normalizeRecord(raw, FILE, { task: 't2i' }).diagnostics).toEqual([
      { file: FILE, line: 2, col: 1, field: 'records[1]', message: 'a record must be an object, found an array' },
    ]);
  });

  it('warns (does not fail) on a pairwise record with three candidates', () => {
    const r = norm({ query: 'q', response: ['a.png', 'b.png', 'c.png'], label_rank: [3, 1, 2] }, { mode: 'pairwise' });
    expect(r.item?.label).toEqual({ rank: [3, 1, 2] });
    expect(r.diagnostics).toEqual([
      expect.objectContaining({
        severity: 'warning',
        message: 'pairwise mode expects 2 candidate images; the record has 3 (it is judged listwise)',
      }),
    ]);
  });

  it('reports the line in YAML datasets too', () => {
    const yamlFile = join(DIR, 'seed.yaml');
    const rec = parseRecords(
      yamlFile,
      '- query: a\n  response: [a.png, b.png]\n  label_rank:\n    - 1\n    - 1\n',
      'yaml',
    ).records[0];
    expect(normalizeRecord(rec, yamlFile, { task: 't2i' }).diagnostics).toEqual([
      {
        file: yamlFile,
        line: 3,
        col: 3,
        field: 'records[0].label_rank',
        message: 'label_rank [1, 1] is not a permutation of 1..2',
      },
    ]);
  });
});
