// Benchmark for the input-file guards (reliability items 5 to 9): what the strict dataset reader costs
// next to the bare JSON.parse it wraps, and how long hostile files take to be refused.
//
// - reader: readRecords on a .jsonl of N records (bounded 1 MiB reads, strict UTF-8, duplicate and
//   prototype-key scan, depth limit) against readFileSync + split + JSON.parse of the same file;
// - refusals: a 20 GiB sparse base through extends, `extends: /dev/zero`, a 20 GiB sparse dataset,
//   a record with 200k images (before: 101 s and 16.9 GB for /dev/zero; a stack overflow for 200k).
// Run: npx tsx bench/input-guards.ts [--records N] [--rounds N]
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '../src/data/load-dataset.js';
import { readRecords } from '../src/data/read-records.js';
import { loadExperiment } from '../src/manifest/load.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RECORDS = arg('--records', 50_000);
const ROUNDS = arg('--rounds', 5);

const root = mkdtempSync(join(tmpdir(), 'arr-bench-guards-'));
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  const file = join(root, 'data.jsonl');
  const lines = Array.from({ length: RECORDS }, (_, i) =>
    JSON.stringify({
      query: `a photo of ${i} red circles on a table, studio light`,
      response: [`images/${i}a.png`, `images/${i}b.png`],
      label_rank: i % 2 ? [1, 2] : [2, 1],
      meta: { source: 'bench', id: i },
    }),
  );
  writeFileSync(file, lines.join('\n') + '\n');
  const bytes = readFileSync(file).length;

  const bare: number[] = [];
  const guarded: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let t0 = process.hrtime.bigint();
    const values = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l));
    bare.push(ms(t0));
    t0 = process.hrtime.bigint();
    const read = readRecords(file);
    guarded.push(ms(t0));
    if (read.records.length !== values.length || read.diagnostics.length)
      throw new Error('reader disagreed with JSON.parse');
  }
  const b = median(bare);
  const g = median(guarded);
  console.log(`reader: ${RECORDS} records, ${(bytes / 2 ** 20).toFixed(1)} MiB, median of ${ROUNDS}`);
  console.log(`  readFileSync + JSON.parse   ${b.toFixed(1)} ms`);
  console.log(`  readRecords (guarded)       ${g.toFixed(1)} ms   ratio ${(g / b).toFixed(2)}x`);

  mkdirSync(join(root, 'experiments/base'), { recursive: true });
  const manifest = (ext: string) =>
    writeFileSync(join(root, 'experiments/exp.yaml'), `task: t2i\nextends: ${ext}\nrubric: { seed: ../data.jsonl }\n`);
  const refuse = (label: string, run: () => unknown) => {
    const t0 = process.hrtime.bigint();
    const out = run();
    console.log(`  ${label.padEnd(34)} ${ms(t0).toFixed(1)} ms  ${String(out).slice(0, 90)}`);
  };
  console.log('refusals (time to a located message):');
  truncateSync(writeFileAndReturn(join(root, 'experiments/base/huge.yaml')), 20 * 1024 ** 3);
  manifest('./base/huge.yaml');
  refuse(
    'extends: 20 GiB sparse base',
    () => loadExperiment(join(root, 'experiments/exp.yaml'), { workspaceRoot: root, env: {} }).diagnostics[0]?.message,
  );
  manifest('/dev/zero');
  refuse(
    'extends: /dev/zero',
    () => loadExperiment(join(root, 'experiments/exp.yaml'), { workspaceRoot: root, env: {} }).diagnostics[0]?.message,
  );
  truncateSync(writeFileAndReturn(join(root, 'huge.jsonl')), 20 * 1024 ** 3);
  refuse('dataset: 20 GiB sparse .jsonl', () => readRecords(join(root, 'huge.jsonl')).diagnostics[0]?.message);
  const images = Array.from({ length: 200_000 }, (_, i) => `images/${i}.png`);
  writeFileSync(
    join(root, 'wide.jsonl'),
    JSON.stringify({ query: 'q', response: images, label_rank: images.map((_, i) => i + 1) }) + '\n',
  );
  const t0 = process.hrtime.bigint();
  const wide = await loadDataset(join(root, 'wide.jsonl'), { task: 't2i', allowedRoots: [root], checkImages: false });
  console.log(
    `  ${'record with 200k images'.padEnd(34)} ${ms(t0).toFixed(1)} ms  ${wide.diagnostics[0]?.message.slice(0, 90)}`,
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}

function writeFileAndReturn(path: string): string {
  writeFileSync(path, '');
  return path;
}
