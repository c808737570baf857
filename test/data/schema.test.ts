// Holds schemas/dataset-record.schema.json and the hand-written record checks in src/data together:
// same keys, same verdict on record types, and normalized items that match $defs/DatasetItem.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsImport from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { KNOWN_RECORD_KEYS, normalizeRecord } from '../../src/data/normalize.js';
import { parseRecords } from '../../src/data/read-records.js';

const addFormats = addFormatsImport.default;
const schemaPath = join(import.meta.dirname, '../../schemas/dataset-record.schema.json');
const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats(ajv);
const validateRecord = ajv.compile(schema);
const validateItem = ajv.getSchema(`${schema.$id}#/$defs/DatasetItem`)!;

/** Every `properties` entry anywhere in the schema. */
function allProperties(node: unknown, path = '#', out: [string, Record<string, unknown>][] = []) {
  if (Array.isArray(node)) node.forEach((n, i) => allProperties(n, `${path}/${i}`, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'properties')
        for (const [name, p] of Object.entries(v as object)) out.push([`${path}/properties/${name}`, p]);
      allProperties(v, `${path}/${k}`, out);
    }
  }
  return out;
}

describe('dataset-record schema', () => {
  it('is a strict draft 2020-12 schema with the agreed $id', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toBe('https://arr.dev/schemas/dataset-record.schema.json');
    expect(validateItem).toBeTypeOf('function');
  });

  it('gives every property a title and a description', () => {
    const props = allProperties(schema);
    expect(props.length).toBeGreaterThan(30);
    for (const [path, p] of props) {
      expect(p.title, path).toBeTypeOf('string');
      expect(p.description, path).toBeTypeOf('string');
    }
  });

  it('defines exactly the keys the normalizer knows, and allows others', () => {
    expect(Object.keys(schema.properties).sort()).toEqual([...KNOWN_RECORD_KEYS].sort());
    expect(validateRecord({ query: 'q', id: 7, source: { any: 'thing' } })).toBe(true);
  });

  const typeCases: [string, Record<string, unknown>][] = [
    ['t2i pair', { query: 'q', response: ['a.png', 'b.png'], label_rank: [2, 1] }],
    [
      'nulls as absent',
      {
        query: null,
        prompt: 'p',
        image_paths: [null, 'a.png'],
        source_image: null,
        label_score: null,
        task_type: null,
        response_includes_base: null,
      },
    ],
    [
      'every image key',
      Object.fromEntries(
        [...KNOWN_RECORD_KEYS]
          .filter((k) => k.includes('image') || k.startsWith('response') || k === 'images')
          .filter((k) => k !== 'response_includes_base')
          .map((k) => [k, 'x.png']),
      ),
    ],
    [
      'edit',
      {
        instruction: 'i',
        source_image: ['b.png'],
        edited_images: ['e.png'],
        task_type: 'add',
        response_includes_base: true,
        label_score: 3,
      },
    ],
    ['query not a string', { query: 3, image: 'a.png' }],
    ['image not a string', { query: 'q', response: ['a.png', 4] }],
    ['image list an object', { query: 'q', response: { a: 1 } }],
    ['label_rank of strings', { query: 'q', response: ['a.png', 'b.png'], label_rank: ['1', '2'] }],
    ['label_rank of floats', { query: 'q', response: ['a.png', 'b.png'], label_rank: [1.5, 2] }],
    ['label_rank a number', { query: 'q', response: ['a.png'], label_rank: 1 }],
    ['label_score float', { query: 'q', response: 'a.png', label_score: 2.5 }],
    ['label_score string', { query: 'q', response: 'a.png', label_score: '2' }],
    ['task_type a list', { query: 'q', response: 'a.png', task_type: ['add'] }],
    ['response_includes_base a string', { query: 'q', response: ['a.png', 'b.png'], response_includes_base: 'yes' }],
  ];

  it.each(typeCases)('the schema and the normalizer agree on types: %s', (_name, record) => {
    const file = '/d/seed.jsonl';
    const raw = parseRecords(file, JSON.stringify(record) + '\n', 'jsonl').records[0];
    const r = normalizeRecord(raw, file, { task: record.instruction ? 'edit' : 't2i' });
    const typeError = r.diagnostics.some((d) => / must be /.test(d.message));
    expect(typeError).toBe(!validateRecord(record));
  });

  it('normalized items validate against $defs/DatasetItem', () => {
    const file = '/d/seed.jsonl';
    const text = [
      { id: 1, query: 'q', response: ['a.png', 'https://x.org/b.png'], label_rank: [2, 1] },
      { instruction: 'i', response: ['b.png', 'data:image/png;base64,AAAA'], label_score: 3, task_type: 'add' },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n');
    const records = parseRecords(file, text, 'jsonl').records;
    const items = [
      normalizeRecord(records[0], file, { task: 't2i' }).item,
      normalizeRecord(records[1], file, { task: 'edit', mode: 'pointwise' }).item,
    ];
    for (const item of items) {
      expect(item).toBeDefined();
      expect(validateItem(item), JSON.stringify(validateItem.errors)).toBe(true);
    }
    expect(items[1]!.source).toEqual({ kind: 'file', path: '/d/b.png' });
  });
});
