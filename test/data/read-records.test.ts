import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetFormat, parseRecords, readRecords } from '../../src/data/read-records.js';
import { removeDir, tempDir, write } from './helpers.js';

const dir = tempDir();
afterAll(() => removeDir(dir));

describe('readRecords: .jsonl', () => {
  it('reads one object per non-blank line and keeps each record line', () => {
    const file = write(dir, 'a.jsonl', '{"query":"a"}\n\n   \n{"query":"b"}\r\n{"query":"c"}');
    const r = readRecords(file);
    expect(r.format).toBe('jsonl');
    expect(r.diagnostics).toEqual([]);
    expect(r.records.map((x) => [x.index, x.line, (x.value as { query: string }).query])).toEqual([
      [0, 1, 'a'],
      [1, 4, 'b'],
      [2, 5, 'c'],
    ]);
  });

  it('reports a bad line with its line number and keeps reading, without renumbering later records', () => {
    const file = write(dir, 'bad.jsonl', '{"query":"a"}\n{"query": "b",}\n{"query":"c"}\n');
    const r = readRecords(file);
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({ file, line: 2, field: 'records[1]' });
    expect(r.diagnostics[0].col).toBeGreaterThan(1);
    expect(r.diagnostics[0].message).toMatch(/^line 2 is not valid JSON/);
    expect(r.records.map((x) => x.index)).toEqual([0, 2]);
  });

  it('locates a field inside a line by column', () => {
    const file = write(
      dir,
      'loc.jsonl',
      '{"query":"a"}\n  {"query": "b", "label_rank": [1, 2], "response": ["x.png", "y.png"]}\n',
    );
    const rec = readRecords(file).records[1];
    expect(rec.col).toBe(3);
    const line = '  {"query": "b", "label_rank": [1, 2], "response": ["x.png", "y.png"]}';
    expect(rec.locate(['label_rank'])).toEqual({ line: 2, col: line.indexOf('"label_rank"') + 1 });
    expect(rec.locate(['response', 1])).toEqual({ line: 2, col: line.indexOf('"y.png"') + 1 });
    // an absent field falls back to the record
    expect(rec.locate(['nope'])).toEqual({ line: 2, col: 3 });
  });

  it('strips a UTF-8 byte order mark', () => {
    const file = write(dir, 'bom.jsonl', '\uFEFF{"query":"a"}\n');
    expect(readRecords(file).records[0].value).toEqual({ query: 'a' });
  });
});

describe('readRecords: .json', () => {
  const text = [
    '[',
    '  {',
    '    "query": "a",',
    '    "label_rank": [1, 2]',
    '  },',
    '  {"query": "b",',
    '   "response": ["x.png",',
    '                "y.png"]}',
    ']',
  ].join('\n');

  it('reads an array of records with the line and column of each record and field', () => {
    const file = write(dir, 'a.json', text);
    const r = readRecords(file);
    expect(r.diagnostics).toEqual([]);
    expect(r.records.map((x) => [x.index, x.line, x.col])).toEqual([
      [0, 2, 3],
      [1, 6, 3],
    ]);
    expect(r.records[0].locate(['label_rank'])).toEqual({ line: 4, col: 5 });
    expect(r.records[1].locate(['response', 1])).toEqual({ line: 8, col: 17 });
  });

  it('finds record starts past brackets, commas and escaped quotes inside strings', () => {
    const tricky = '[ {"q": "a ] , [ \\" {"},\n  5 ,"s,]" , [1,[2]],\n{"x":{"y":[]}}\n,null]';
    const r = readRecords(write(dir, 'tricky.json', tricky));
    expect(r.diagnostics).toEqual([]);
    expect(r.records.map((x) => x.value)).toEqual([{ q: 'a ] , [ " {' }, 5, 's,]', [1, [2]], { x: { y: [] } }, null]);
    const fromScan = r.records.map((x) => [x.line, x.col]);
    expect(fromScan).toEqual([
      [1, 3],
      [2, 3],
      [2, 6],
      [2, 14],
      [3, 1],
      [4, 2],
    ]);
    // the yaml node tree (used for fields) agrees with the scanner
    expect(r.records.map((x) => x.locate([]))).toEqual(fromScan.map(([line, col]) => ({ line, col })));
  });

  it('refuses a document that is not an array', () => {
    const file = write(dir, 'obj.json', '{"query": "a"}');
    const r = readRecords(file);
    expect(r.records).toEqual([]);
    expect(r.diagnostics[0]).toMatchObject({
      file,
      line: 1,
      message: 'a .json dataset must be an array of records, found an object',
    });
  });

  it('reports a syntax error with its line and column', () => {
    const file = write(dir, 'broken.json', '[\n  {"query": "a"},\n  {"query" "b"}\n]');
    const r = readRecords(file);
    expect(r.records).toEqual([]);
    expect(r.diagnostics[0]).toMatchObject({ file, line: 3 });
    expect(r.diagnostics[0].message).toMatch(/^not valid JSON/);
  });

  it('is strict JSON: a bare word is an error, not a YAML string', () => {
    const file = write(dir, 'bare.json', '[{"query": tru}]');
    expect(readRecords(file).diagnostics[0].message).toMatch(/^not valid JSON/);
  });
});

describe('readRecords: .yaml / .yml', () => {
  it('reads a sequence of records with lines for records and fields', () => {
    const file = write(
      dir,
      'a.yaml',
      [
        '# seed set',
        '- query: a',
        '  response:',
        '    - x.png',
        '    - y.png',
        '  label_rank: [2, 1]',
        '- prompt: b',
        '',
      ].join('\n'),
    );
    const r = readRecords(file);
    expect(r.format).toBe('yaml');
    expect(r.diagnostics).toEqual([]);
    expect(r.records.map((x) => [x.index, x.line, x.col])).toEqual([
      [0, 2, 3],
      [1, 7, 3],
    ]);
    expect(r.records[0].value).toEqual({ query: 'a', response: ['x.png', 'y.png'], label_rank: [2, 1] });
    expect(r.records[0].locate(['response', 1])).toEqual({ line: 5, col: 7 });
    expect(r.records[0].locate(['label_rank'])).toEqual({ line: 6, col: 3 });
  });

  it('accepts .yml and an empty file (no records, no error)', () => {
    expect(datasetFormat('x.YML')).toBe('yaml');
    const r = readRecords(write(dir, 'empty.yml', '# nothing yet\n'));
    expect(r.records).toEqual([]);
    expect(r.diagnostics).toEqual([]);
  });

  it('reports a YAML syntax error with its line', () => {
    const file = write(dir, 'bad.yaml', '- query: a\n- query: [b\n');
    const r = readRecords(file);
    expect(r.records).toEqual([]);
    expect(r.diagnostics[0].file).toBe(file);
    expect(r.diagnostics[0].line).toBeGreaterThanOrEqual(2);
    expect(r.diagnostics[0].message).toMatch(/^not valid YAML/);
  });

  it('refuses a mapping at the top', () => {
    const file = write(dir, 'map.yaml', 'records:\n  - query: a\n');
    expect(readRecords(file).diagnostics[0]).toMatchObject({
      file,
      line: 1,
      message: 'a YAML dataset must be a sequence of records, found an object',
    });
  });
});

describe('readRecords: files', () => {
  it('names the file and the OS reason when the file is missing', () => {
    const file = join(dir, 'missing.jsonl');
    const r = readRecords(file);
    expect(r.records).toEqual([]);
    expect(r.diagnostics).toEqual([{ file, message: 'cannot read the dataset (ENOENT: no such file or directory)' }]);
  });

  it('names the OS reason for a folder', () => {
    const sub = join(dir, 'folder.json');
    write(dir, 'folder.json/x', '');
    expect(readRecords(sub).diagnostics[0].message).toBe('cannot read the dataset (a directory, not a regular file)');
  });

  it('refuses an unsupported extension', () => {
    const r = readRecords(join(dir, 'data.csv'));
    expect(r.diagnostics[0].message).toBe('unsupported dataset extension .csv; use .jsonl, .json, .yaml or .yml');
  });

  it('parses text directly (parseRecords)', () => {
    const r = parseRecords(join(dir, 'virtual.jsonl'), '{"query":"q"}\n');
    expect(r.records[0].value).toEqual({ query: 'q' });
  });
});
