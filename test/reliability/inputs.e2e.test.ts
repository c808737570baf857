// Items 5 to 9 of the reliability catalogue: hostile input files fail at once with a located message:
// devices, FIFOs, huge sparse files, files outside the roots, prototype keys, invalid UTF-8, duplicate
// keys, and deep or huge records.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkImages } from '../../src/data/images.js';
import { loadDataset } from '../../src/data/load-dataset.js';
import { readRecords } from '../../src/data/read-records.js';
import { formatDiagnostic, type Diagnostic } from '../../src/diagnostics.js';
import { checkInputs } from '../../src/manifest/inputs.js';
import { loadExperiment } from '../../src/manifest/load.js';
import { readPromptItems } from '../../src/preprocess/items.js';
import { findUnsafeKey } from '../../src/util/safe-keys.js';
import { makeWorkspace, writeT2iExperiment, type TestWorkspace } from '../helpers/workspace.js';

const GiB = 1024 ** 3;
let ws: TestWorkspace;
beforeEach(async () => {
  ws = makeWorkspace();
  await writeT2iExperiment(ws);
});
afterEach(() => ws.cleanup());

const load = (env: Record<string, string> = {}) =>
  loadExperiment(ws.path('experiments/exp-a.yaml'), { workspaceRoot: ws.root, env });
const shown = (ds: Diagnostic[]) => ds.map((d) => formatDiagnostic(d, ws.root)).join('\n');
/** Points exp-a's extends at `target` (a path as written in the manifest). */
const extendsOf = (target: string, extra = '') =>
  ws.write(
    'experiments/exp-a.yaml',
    readFileSync(ws.path('experiments/exp-a.yaml'), 'utf8').replace(/^extends: .*$/m, `extends: ${target}${extra}`),
  );
const sparse = (rel: string, bytes: number) => {
  const file = ws.write(rel, '');
  truncateSync(file, bytes);
  return file;
};
const roots = () => [ws.root];

describe('reliability: manifest and base files (item 5)', () => {
  it('item 5: extends: /dev/zero is refused before it is read, at the extends line', () => {
    extendsOf('/dev/zero');
    const loaded = load();
    expect(loaded.ok).toBe(false);
    expect(shown(loaded.diagnostics)).toMatch(
      /^experiments\/exp-a\.yaml:2:1 extends: \/dev\/zero is outside the workspace and data\.allowed_roots/m,
    );
  });

  it('item 5: a device under an allowed root is still refused as not a regular file', () => {
    extendsOf('/dev/zero', '\ndata: { allowed_roots: [/dev] }');
    expect(shown(load().diagnostics)).toContain(
      'extends: cannot read manifest: a character device, not a regular file: /dev/zero',
    );
  });

  it('item 5: a 20 GiB sparse base inside the workspace is refused by its size (ARR_MAX_MANIFEST_BYTES)', () => {
    sparse('experiments/base/huge.yaml', 20 * GiB);
    extendsOf('./base/huge.yaml');
    expect(shown(load().diagnostics)).toContain(
      `extends: cannot read manifest: ${20 * GiB} bytes, over the 1048576-byte limit (ARR_MAX_MANIFEST_BYTES)`,
    );
    // The limit is the user's to raise or lower.
    extendsOf('./base/judge.yaml');
    expect(shown(load({ ARR_MAX_MANIFEST_BYTES: '10' }).diagnostics)).toContain(
      'over the 10-byte limit (ARR_MAX_MANIFEST_BYTES)',
    );
  });

  it('item 5: a FIFO, a directory, a file outside the workspace and a symlink out of it are refused', () => {
    execFileSync('mkfifo', [ws.path('experiments/base/pipe.yaml')]);
    extendsOf('./base/pipe.yaml');
    expect(shown(load().diagnostics)).toContain('a FIFO (named pipe), not a regular file');
    extendsOf('./base');
    expect(shown(load().diagnostics)).toContain('a directory, not a regular file');
    extendsOf('/etc/passwd');
    expect(shown(load().diagnostics)).toContain('/etc/passwd is outside the workspace');
    symlinkSync('/etc/hostname', ws.path('experiments/base/link.yaml'));
    extendsOf('./base/link.yaml');
    expect(shown(load().diagnostics)).toMatch(/link\.yaml \(a link to \/etc\/hostname\) is outside the workspace/);
  });

  it("item 5: a base under the leaf's data.allowed_roots is read", () => {
    const shared = makeWorkspace();
    try {
      writeFileSync(join(shared.root, 'judge.yaml'), 'judge: { concurrency: 3 }\n');
      extendsOf(join(shared.root, 'judge.yaml'), `\ndata: { allowed_roots: [${shared.root}] }`);
      const loaded = load();
      expect(loaded.diagnostics.filter((d) => d.severity !== 'warning')).toEqual([]);
      expect(loaded.experiment!.judge.concurrency).toBe(3);
    } finally {
      shared.cleanup();
    }
  });
});

describe('reliability: datasets, prompt lists and images (item 5)', () => {
  it('item 5: a 20 GiB sparse dataset is refused by ARR_MAX_DATASET_BYTES, naming the field', async () => {
    sparse('data/t2i/seed.jsonl', 20 * GiB);
    const problems = await checkInputs(load(), ws.root);
    expect(shown(problems)).toContain(
      `cannot read the dataset (${20 * GiB} bytes, over the ${2 * GiB}-byte limit (ARR_MAX_DATASET_BYTES))`,
    );
  });

  it('item 5: /dev/zero and a FIFO as datasets fail at once without being read', () => {
    expect(readRecords('/dev/zero.jsonl').diagnostics[0].message).toMatch(/ENOENT/);
    symlinkSync('/dev/zero', ws.path('data/zero.jsonl'));
    expect(readRecords(ws.path('data/zero.jsonl')).diagnostics[0].message).toBe(
      'cannot read the dataset (a character device, not a regular file)',
    );
    execFileSync('mkfifo', [ws.path('data/pipe.jsonl')]);
    expect(readRecords(ws.path('data/pipe.jsonl')).diagnostics[0].message).toBe(
      'cannot read the dataset (a FIFO (named pipe), not a regular file)',
    );
  });

  it('item 5: a .jsonl dataset is read in bounded pieces and keeps its line numbers across them', () => {
    // ~3 MiB over many 1 MiB reads; a bad record near the end must still be located by its line.
    const line = JSON.stringify({
      query: 'x'.repeat(900),
      response: ['images/0.png', 'images/1.png'],
      label_rank: [1, 2],
    });
    const lines = Array.from({ length: 3500 }, () => line);
    lines[3400] = '{"query": "broken"';
    ws.write('data/t2i/big.jsonl', lines.join('\n') + '\n');
    const r = readRecords(ws.path('data/t2i/big.jsonl'));
    expect(r.records).toHaveLength(3499);
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({ line: 3401, field: 'records[3400]' });
  });

  it('item 5: an image that is a 20 GiB sparse file or a device fails with its record located', async () => {
    sparse('data/t2i/images/huge.png', 20 * GiB);
    ws.write(
      'data/t2i/seed.jsonl',
      JSON.stringify({ query: 'q', response: ['images/huge.png', 'images/1.png'], label_rank: [1, 2] }) + '\n',
    );
    const result = await loadDataset(ws.path('data/t2i/seed.jsonl'), { task: 't2i', allowedRoots: roots() });
    expect(shown(result.diagnostics)).toMatch(
      /seed\.jsonl:1:\d+ records\[0\]\.response\[0\]: .*huge\.png is 21474836480 bytes, over the 268435456-byte limit for one image/,
    );
    const dev = await checkImages(
      [
        {
          ref: { kind: 'file', path: '/dev/zero', given: '/dev/zero' } as never,
          role: 'candidate',
          at: { file: 'x.jsonl', line: 1 },
        },
      ],
      { allowedRoots: ['/dev'] },
    );
    expect(dev.diagnostics[0].message).toContain('/dev/zero is not a file');
  });
});

describe('reliability: prototype keys (item 6)', () => {
  it('item 6: __proto__ in a manifest is refused at its line and Object.prototype stays clean', () => {
    ws.write(
      'experiments/exp-a.yaml',
      readFileSync(ws.path('experiments/exp-a.yaml'), 'utf8') + '__proto__:\n  polluted: yes\n',
    );
    const loaded = load();
    expect(loaded.ok).toBe(false);
    expect(shown(loaded.diagnostics)).toMatch(/exp-a\.yaml:\d+:1 __proto__: the key "__proto__" is not allowed/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('item 6: constructor and prototype keys in a base and in --set are refused too', () => {
    const set = loadExperiment(ws.path('experiments/exp-a.yaml'), {
      workspaceRoot: ws.root,
      env: {},
      overrides: { '__proto__.x': 1 },
    });
    expect(shown(set.diagnostics)).toContain('--set __proto__.x: the key "__proto__" is not allowed');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    ws.write(
      'experiments/base/judge.yaml',
      readFileSync(ws.path('experiments/base/judge.yaml'), 'utf8') + 'train:\n  constructor: { prototype: 1 }\n',
    );
    expect(shown(load().diagnostics)).toMatch(
      /judge\.yaml:\d+:3 train\.constructor: the key "constructor" is not allowed/,
    );
  });

  it('item 6: datasets (.jsonl, .json, .yaml) refuse them naming the record field', () => {
    ws.write('data/a.jsonl', '{"query":"q","response":["images/0.png"],"__proto__":{"label_rank":[1]}}\n');
    expect(readRecords(ws.path('data/a.jsonl')).diagnostics[0]).toMatchObject({
      line: 1,
      col: 42,
      field: 'records[0].__proto__',
    });
    ws.write('data/b.json', '[{"query":"q"},\n {"query":"q","meta":{"constructor":1}}]');
    expect(readRecords(ws.path('data/b.json')).diagnostics[0]).toMatchObject({
      line: 2,
      field: 'records[1].meta.constructor',
    });
    ws.write('data/c.yaml', '- query: q\n  prototype: 1\n');
    expect(readRecords(ws.path('data/c.yaml')).diagnostics[0]).toMatchObject({
      line: 2,
      col: 3,
      field: 'records[0].prototype',
    });
  });

  it('item 6: findUnsafeKey checks parsed request bodies for the reward service', () => {
    expect(findUnsafeKey(JSON.parse('{"messages":[{"content":"x","__proto__":{"a":1}}]}'))).toMatchObject({
      path: ['messages', 0, '__proto__'],
    });
    expect(findUnsafeKey(JSON.parse('{"messages":[{"content":"x"}]}'))).toBeUndefined();
  });
});

describe('reliability: invalid UTF-8 (item 7)', () => {
  const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "café" in Latin-1
  it('item 7: in a manifest, a dataset and a prompt list, at its line and column', async () => {
    const [before, after] = readFileSync(ws.path('experiments/exp-a.yaml'), 'utf8').split('two images.');
    writeFileSync(ws.path('experiments/exp-a.yaml'), Buffer.concat([Buffer.from(before), latin1, Buffer.from(after)]));
    const m = load().diagnostics[0];
    expect(m).toMatchObject({ line: 5, col: '  task_description: Compare caf'.length + 1 });
    expect(m.message).toMatch(/^invalid UTF-8 \(bytes e9/);

    writeFileSync(
      ws.path('data/t2i/test.jsonl'),
      Buffer.concat([
        Buffer.from('{"query":"ok","response":["images/0.png","images/1.png"],"label_rank":[1,2]}\n{"query":"'),
        latin1,
        Buffer.from('","response":["images/0.png","images/1.png"],"label_rank":[1,2]}\n'),
      ]),
    );
    const d = readRecords(ws.path('data/t2i/test.jsonl'));
    expect(d.records).toHaveLength(1);
    expect(d.diagnostics[0]).toMatchObject({ line: 2, col: 14, field: 'records[1]' });

    writeFileSync(
      ws.path('data/t2i/prompts.txt'),
      Buffer.concat([Buffer.from('one\ntwo '), latin1, Buffer.from('\n')]),
    );
    await expect(readPromptItems(ws.path('data/t2i/prompts.txt'), {} as never)).rejects.toThrow(
      /prompts\.txt:2:8 preprocess\.prompts: invalid UTF-8/,
    );
  });
});

describe('reliability: duplicate keys (item 8)', () => {
  it('item 8: label_rank twice in a JSONL record is an error at the second one, not a flipped label', () => {
    ws.write(
      'data/t2i/seed.jsonl',
      '{"query":"q","response":["images/0.png","images/1.png"],"label_rank":[1,2],"label_rank":[2,1]}\n',
    );
    const r = readRecords(ws.path('data/t2i/seed.jsonl'));
    expect(r.records).toEqual([]);
    expect(r.diagnostics).toEqual([
      expect.objectContaining({
        line: 1,
        col: 76,
        field: 'records[0].label_rank',
        message: 'duplicate key "label_rank": JSON keeps only the last one; remove one of them',
      }),
    ]);
  });

  it('item 8: in a .json array too, and escaped spellings count as the same key', () => {
    ws.write('data/d.json', '[\n{"query":"q","label_rank":[1,2],"label\\u005frank":[2,1]}\n]');
    expect(readRecords(ws.path('data/d.json')).diagnostics[0]).toMatchObject({
      line: 2,
      field: 'records[0].label_rank',
    });
  });
});

describe('reliability: deep or huge records (item 9)', () => {
  it('item 9: a record with 200k images fails with its location, not a stack overflow', async () => {
    const images = Array.from({ length: 200_000 }, (_, i) => `images/${i % 8}.png`);
    ws.write(
      'data/t2i/seed.jsonl',
      JSON.stringify({ query: 'q', response: images, label_rank: images.map((_, i) => i + 1) }) + '\n',
    );
    const result = await loadDataset(ws.path('data/t2i/seed.jsonl'), { task: 't2i', allowedRoots: roots() });
    expect(shown(result.diagnostics)).toMatch(
      /seed\.jsonl:1:\d+ records\[0\]\.response: 200000 candidate images in one record; at most 64/,
    );
  }, 30_000);

  it('item 9: absurd nesting in a record, a .json dataset and a manifest is a located error', () => {
    ws.write('data/deep.jsonl', `{"query":"q","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}\n`);
    expect(readRecords(ws.path('data/deep.jsonl')).diagnostics[0]).toMatchObject({
      line: 1,
      field: expect.stringMatching(/^records\[0\]\.x(\[0\])+$/),
      message: 'nested more than 64 levels deep',
    });
    ws.write('data/deep.yaml', `- q: ${'['.repeat(5000)}${']'.repeat(5000)}\n`);
    expect(readRecords(ws.path('data/deep.yaml')).diagnostics[0].message).toMatch(/nested/);
    ws.write(
      'experiments/exp-a.yaml',
      readFileSync(ws.path('experiments/exp-a.yaml'), 'utf8') + `deep: ${'['.repeat(200_000)}\n`,
    );
    expect(load().diagnostics[0].message).toMatch(/invalid YAML/);
  });
});
