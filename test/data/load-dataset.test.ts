import { symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDiagnostic, isError } from '../../src/diagnostics.js';
import { listDatasetImageFiles, loadDataset } from '../../src/data/load-dataset.js';
import { jsonl, removeDir, tempDir, write, writePng, writeTruncatedPng } from './helpers.js';

const ws = tempDir('arr-ws-');
const elsewhere = tempDir('arr-elsewhere-');
const roots = [ws];

const t2iRecords = [
  { id: 'p1', query: 'a red fox', response: ['img/fox1.png', 'img/fox2.png'], label_rank: [2, 1] },
  { id: 'p2', prompt: 'a teapot', image_paths: ['img/tea1.png', 'img/tea2.png'], label_rank: [1, 2] },
];
const editRecords = [
  {
    instruction: 'add a lantern',
    source_image: 'img/fox1.png',
    edited_images: ['img/tea1.png', 'img/tea2.png'],
    label_rank: [1, 2],
  },
  { query: 'remove the cup', response: ['img/fox1.png', 'img/fox2.png', 'img/tea1.png'], label_rank: [2, 1] },
];

beforeAll(async () => {
  for (const n of ['fox1', 'fox2', 'tea1', 'tea2']) await writePng(ws, `data/img/${n}.png`);
  await writeTruncatedPng(ws, 'data/img/broken.png');
  await writePng(elsewhere, 'far.png');
});
afterAll(() => {
  removeDir(ws);
  removeDir(elsewhere);
});

const errors = (ds: { diagnostics: { severity?: string }[] }) => ds.diagnostics.filter((d) => d.severity !== 'warning');

describe('loadDataset', () => {
  const containers: [string, (r: unknown[]) => string][] = [
    ['seed.jsonl', jsonl],
    ['seed.json', (r) => JSON.stringify(r, null, 2)],
    ['seed.yaml', (r) => stringify(r)],
    ['seed.yml', (r) => stringify(r)],
  ];

  it.each(containers)('loads a t2i dataset from %s', async (name, render) => {
    const file = write(ws, `data/${name}`, render(t2iRecords));
    const ds = await loadDataset(file, { task: 't2i', mode: 'pairwise', requireLabel: true, allowedRoots: roots });
    expect(ds.diagnostics).toEqual([]);
    expect(ds.items.map((i) => ({ ...i, line: undefined }))).toEqual([
      {
        index: 0,
        line: undefined,
        query: 'a red fox',
        candidates: [
          { kind: 'file', path: join(ws, 'data/img/fox1.png') },
          { kind: 'file', path: join(ws, 'data/img/fox2.png') },
        ],
        label: { rank: [2, 1] },
        meta: { id: 'p1' },
      },
      {
        index: 1,
        line: undefined,
        query: 'a teapot',
        candidates: [
          { kind: 'file', path: join(ws, 'data/img/tea1.png') },
          { kind: 'file', path: join(ws, 'data/img/tea2.png') },
        ],
        label: { rank: [1, 2] },
        meta: { id: 'p2' },
      },
    ]);
    expect(ds.items.every((i) => typeof i.line === 'number' && i.line >= 1)).toBe(true);
    expect(ds.imageFiles).toEqual(['fox1', 'fox2', 'tea1', 'tea2'].map((n) => join(ws, `data/img/${n}.png`)));
  });

  it('loads an edit dataset, accepting a task alias', async () => {
    const file = write(ws, 'data/edit.jsonl', jsonl(editRecords));
    const ds = await loadDataset(file, { task: 'image_edit', requireLabel: true, allowedRoots: roots });
    expect(errors(ds)).toEqual([]);
    expect(ds.items[0].source).toEqual({ kind: 'file', path: join(ws, 'data/img/fox1.png') });
    expect(ds.items[1].source).toEqual({ kind: 'file', path: join(ws, 'data/img/fox1.png') });
    expect(ds.items[1].candidates).toHaveLength(2);
  });

  it('resolves relative image paths against the dataset file’s folder, not the cwd', async () => {
    const file = write(
      ws,
      'data/nested/deeper/set.jsonl',
      jsonl([{ query: 'q', response: ['../../img/fox1.png', '../../img/fox2.png'], label_rank: [1, 2] }]),
    );
    expect(resolve('../../img/fox1.png')).not.toBe(join(ws, 'data/img/fox1.png'));
    const ds = await loadDataset(file, { task: 't2i', allowedRoots: roots });
    expect(ds.diagnostics).toEqual([]);
    expect(ds.imageFiles).toEqual([join(ws, 'data/img/fox1.png'), join(ws, 'data/img/fox2.png')]);
  });

  it('reports every problem with file, record, field and line, and never throws', async () => {
    const far = join(elsewhere, 'far.png');
    const file = write(
      ws,
      'data/bad.jsonl',
      [
        JSON.stringify({ query: 'ok', response: ['img/fox1.png', 'img/fox2.png'], label_rank: [1, 2] }),
        JSON.stringify({ query: 'missing', response: ['img/fox1.png', 'img/nope.png'], label_rank: [1, 2] }),
        JSON.stringify({ query: 'outside', response: ['img/fox1.png', far], label_rank: [1, 2] }),
        JSON.stringify({ query: 'broken', response: ['img/broken.png', 'img/fox2.png'], label_rank: [1, 2] }),
        JSON.stringify({ query: 'tie', response: ['img/fox1.png', 'img/fox2.png'], label_rank: [1, 1] }),
        '{"query": oops}',
      ].join('\n'),
    );
    const ds = await loadDataset(file, { task: 't2i', requireLabel: true, allowedRoots: roots });
    const shown = ds.diagnostics.map((d) => formatDiagnostic(d, ws));
    expect(ds.items.map((i) => i.query)).toEqual(['ok', 'missing', 'outside', 'broken']);
    expect(ds.diagnostics.every(isError)).toBe(true);
    expect(ds.diagnostics).toHaveLength(5);
    expect(ds.diagnostics[0]).toMatchObject({
      file,
      line: 6,
      field: 'records[5]',
      message: expect.stringMatching(/^line 6 is not valid JSON/),
    });
    expect(ds.diagnostics[1]).toMatchObject({
      file,
      line: 5,
      field: 'records[4].label_rank',
      message: 'label_rank [1, 1] is not a permutation of 1..2',
    });
    const col = (line: string, needle: string) => line.indexOf(needle) + 1;
    const line2 = JSON.stringify({ query: 'missing', response: ['img/fox1.png', 'img/nope.png'], label_rank: [1, 2] });
    expect(ds.diagnostics[2]).toEqual({
      file,
      line: 2,
      col: col(line2, '"img/nope.png"'),
      field: 'records[1].response[1]',
      message: `image not found: ${join(ws, 'data/img/nope.png')}`,
    });
    expect(ds.diagnostics[3]).toMatchObject({
      file,
      line: 3,
      field: 'records[2].response[1]',
      message: `${far} is outside the allowed roots (${ws}); add its folder to data.allowed_roots`,
    });
    expect(ds.diagnostics[4]).toMatchObject({
      file,
      line: 4,
      field: 'records[3].response[0]',
      message: expect.stringMatching(
        new RegExp(`^${join(ws, 'data/img/broken.png')} is not a decodable image \\(.+\\)$`),
      ),
    });
    expect(shown[2]).toBe(
      `data/bad.jsonl:2:${col(line2, '"img/nope.png"')} records[1].response[1]: image not found: ${join(ws, 'data/img/nope.png')}`,
    );
    // the paths are still listed, checks or not
    expect(ds.imageFiles).toContain(far);
    expect(ds.imageFiles).toContain(join(ws, 'data/img/nope.png'));
  });

  it('refuses a symlinked image that escapes the allowed roots', async () => {
    symlinkSync(join(elsewhere, 'far.png'), join(ws, 'data/img/link.png'));
    const file = write(
      ws,
      'data/link.yaml',
      stringify([{ query: 'q', response: ['img/fox1.png', 'img/link.png'], label_rank: [1, 2] }]),
    );
    const ds = await loadDataset(file, { task: 't2i', allowedRoots: roots });
    expect(ds.diagnostics).toEqual([
      expect.objectContaining({
        file,
        line: 4,
        field: 'records[0].response[1]',
        message: expect.stringContaining('(a link to '),
      }),
    ]);
    expect(ds.diagnostics[0].message).toMatch(/is outside the allowed roots .*; add its folder to data.allowed_roots$/);
  });

  it('accepts images outside the workspace when their folder is an allowed root', async () => {
    const file = write(ws, 'data/far.json', JSON.stringify([{ query: 'q', image: join(elsewhere, 'far.png') }]));
    const ds = await loadDataset(file, { task: 't2i', allowedRoots: [ws, elsewhere] });
    expect(ds.diagnostics).toEqual([]);
  });

  it('refuses a dataset file outside the allowed roots', async () => {
    const file = write(elsewhere, 'outside.jsonl', jsonl(t2iRecords));
    const ds = await loadDataset(file, { task: 't2i', allowedRoots: roots });
    expect(ds.items).toEqual([]);
    expect(ds.diagnostics).toEqual([
      { file, message: `the dataset is outside the allowed roots (${ws}); add its folder to data.allowed_roots` },
    ]);
  });

  it('reports a missing file with the OS reason, and an empty dataset', async () => {
    const missing = join(ws, 'data/none.jsonl');
    expect((await loadDataset(missing, { task: 't2i', allowedRoots: roots })).diagnostics).toEqual([
      { file: missing, message: 'cannot read the dataset (ENOENT: no such file or directory)' },
    ]);
    const empty = write(ws, 'data/empty.jsonl', '\n\n');
    expect((await loadDataset(empty, { task: 't2i', allowedRoots: roots })).diagnostics).toEqual([
      { file: empty, message: 'the dataset holds no records' },
    ]);
  });

  it('checks pointwise labels against min/max score', async () => {
    const file = write(ws, 'data/points.yaml', stringify([{ query: 'q', response: 'img/fox1.png', label_score: 9 }]));
    const ds = await loadDataset(file, {
      task: 't2i',
      mode: 'pointwise',
      minScore: 1,
      maxScore: 10,
      requireLabel: true,
      allowedRoots: roots,
    });
    expect(ds.diagnostics).toEqual([]);
    expect(ds.items[0].label).toEqual({ score: 9 });
    const strict = await loadDataset(file, { task: 't2i', mode: 'pointwise', requireLabel: true, allowedRoots: roots });
    expect(strict.diagnostics).toEqual([
      expect.objectContaining({
        file,
        line: 3,
        field: 'records[0].label_score',
        message: 'label_score 9 is outside [1, 5] (rubric.min_score..rubric.max_score)',
      }),
    ]);
  });

  it('can skip the image checks', async () => {
    const file = write(ws, 'data/unchecked.jsonl', jsonl([{ query: 'q', response: ['nope1.png', 'nope2.png'] }]));
    const ds = await loadDataset(file, { task: 't2i', allowedRoots: roots, checkImages: false });
    expect(ds.diagnostics).toEqual([]);
    expect(ds.items).toHaveLength(1);
  });

  it('throws only for a programming error (an unknown task)', async () => {
    await expect(loadDataset(join(ws, 'x.jsonl'), { task: 'video', allowedRoots: roots })).rejects.toThrow(
      /unknown task "video"/,
    );
  });
});

describe('listDatasetImageFiles', () => {
  it('lists the same distinct local paths loadDataset finds, without touching the images', async () => {
    const records = [
      ...editRecords,
      {
        query: 'q',
        source_image: 'img/missing.png',
        edited_image: ['https://x.org/a.png', 'data:image/png;base64,AAAA', 'img/tea1.png'],
      },
    ];
    const file = write(ws, 'data/list.json', JSON.stringify(records));
    const listed = listDatasetImageFiles(file, 'edit');
    expect(listed).toEqual(['fox1', 'fox2', 'missing', 'tea1', 'tea2'].map((n) => join(ws, `data/img/${n}.png`)));
    expect((await loadDataset(file, { task: 'edit', allowedRoots: roots, checkImages: false })).imageFiles).toEqual(
      listed,
    );
  });

  it('follows the task: t2i ignores edit keys', () => {
    const file = write(ws, 'data/list2.jsonl', jsonl([{ query: 'q', source_image: 's.png', response: ['a.png'] }]));
    expect(listDatasetImageFiles(file, 't2i')).toEqual([join(ws, 'data/a.png')]);
    expect(listDatasetImageFiles(file, 'edit')).toEqual([join(ws, 'data/a.png'), join(ws, 'data/s.png')]);
  });

  it('never throws: a missing or malformed file lists what it can', () => {
    expect(listDatasetImageFiles(join(ws, 'data/absent.jsonl'), 't2i')).toEqual([]);
    const file = write(ws, 'data/half.jsonl', '{"image": "a.png"}\n{broken\n42\n');
    expect(listDatasetImageFiles(file, 't2i')).toEqual([join(ws, 'data/a.png')]);
  });
});
