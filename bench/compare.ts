// Issue #13 figures (run: npx tsx bench/compare.ts), against the simulated judge (test/helpers/rubric-sim.ts):
//  1. `arr compare --json` over 50 experiments sharing artifacts, minus a bare `arr --help` (the process
//     start): must stay under 1 s. Also the in-process gathering time, which is what the command adds.
//  2. Judge calls of a 2×2 matrix over train.learning_rate × rubric.per_pair (rubric-generate + verify of
//     every member, one workspace) against the same four combinations built as independent runs (each in
//     a workspace of its own, so nothing is shared).
// BENCH_RUNS=<n> sets the timed runs per command figure (median; default 5).
import { execa } from 'execa';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { runRubricGenerate } from '../src/targets/rubric-generate.js';
import { runVerify, ThresholdError } from '../src/targets/verify.js';
import { gatherComparison, selectExperiments } from '../src/targets/compare.js';
import { makeRubricSimRule } from '../test/helpers/rubric-sim.js';
import { startSimVlm, type SimVlm } from '../test/helpers/sim-vlm.js';

const repo = join(import.meta.dirname, '..');
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 5));
const EXPERIMENTS = 50;
const temps: string[] = [];
const quiet = { log: () => {} };

function workspace(): { root: string; write: (rel: string, text: string) => void } {
  const root = mkdtempSync(join(tmpdir(), 'arr-bench-compare-'));
  temps.push(root);
  for (const dir of ['src', 'bin', 'schemas']) cpSync(join(repo, dir), join(root, dir), { recursive: true });
  for (const file of ['package.json', 'nx.json']) cpSync(join(repo, file), join(root, file));
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
  const write = (rel: string, text: string) => {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  return { root, write };
}

/** Brightness pairs: the brighter image is preferred; `brightFirst` says where it is shown. */
async function pairs(
  ws: ReturnType<typeof workspace>,
  file: string,
  n: number,
  prefix: string,
  brightFirst: (i: number) => boolean,
) {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const b = `img/${prefix}${i}b.png`;
    const d = `img/${prefix}${i}d.png`;
    for (const [rel, level] of [
      [b, 170 + (i % 60)],
      [d, 30 + (i % 60)],
    ] as const) {
      mkdirSync(dirname(join(ws.root, 'data', rel)), { recursive: true });
      await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: level, g: level, b: level } } })
        .png()
        .toFile(join(ws.root, 'data', rel));
    }
    const first = brightFirst(i);
    lines.push(
      JSON.stringify({
        query: `${prefix === 's' ? (i === 0 ? 'EASY' : 'plain') : 'test'} ${i}`,
        response: first ? [b, d] : [d, b],
        label_rank: first ? [1, 2] : [2, 1],
      }),
    );
  }
  ws.write(file, lines.join('\n') + '\n');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const TIME = '/usr/bin/time';
const cpu: Record<string, number[]> = {};

/** Wall ms of one `arr` process; with GNU time present, also records its CPU ms (user + sys) under `label`. */
async function timed(root: string, args: string[], label = args[0]): Promise<number> {
  const command = [process.execPath, join(root, 'bin', 'arr.mjs'), ...args];
  const withTime = existsSync(TIME);
  const t0 = performance.now();
  const r = await execa(
    withTime ? TIME : command[0],
    withTime ? ['-f', 'ARRCPU %U %S', ...command] : command.slice(1),
    { cwd: root, reject: false, env: { NO_COLOR: '1' } },
  );
  const wall = performance.now() - t0;
  if (r.exitCode !== 0) throw new Error(`arr ${args.join(' ')} failed: ${r.stderr}`);
  const m = /ARRCPU ([\d.]+) ([\d.]+)/.exec(r.stderr);
  if (m) (cpu[label] ??= []).push((Number(m[1]) + Number(m[2])) * 1000);
  return wall;
}

async function build(root: string, names: string[], sim: SimVlm): Promise<number> {
  const before = sim.requests.length;
  for (const experiment of names) {
    const ref = { experiment, workspaceRoot: root, env: { SIM_URL: sim.url } };
    await runRubricGenerate(ref, quiet);
    await runVerify(ref, quiet).catch((e) => {
      if (!(e instanceof ThresholdError)) throw e;
    });
  }
  return sim.requests.length - before;
}

const COLD_PROBE = `
const { gatherComparison, selectExperiments } = await import(${JSON.stringify(join(repo, 'src', 'targets', 'compare.ts'))});
const t0 = performance.now();
await gatherComparison(selectExperiments([], process.argv[1]), { workspaceRoot: process.argv[1] });
console.log(performance.now() - t0);`;

const JUDGE = 'judge: { base_url: "${SIM_URL:-http://127.0.0.1:9/v1}", concurrency: 8, max_tokens: 256 }';

async function figureCompare(sim: SimVlm) {
  const ws = workspace();
  await pairs(ws, 'data/test.jsonl', 10, 't', (i) => i % 2 === 0);
  ws.write('experiments/rubrics/bright.txt', '1. The brighter image is preferred.\n\n2. Prefer sharper details.\n');
  ws.write('experiments/rubrics/plain.txt', '1. Prefer sharper details.\n');
  // 50 manifests, two rubric slices between them: 48 share every artifact with one of the first two.
  const names: string[] = [];
  for (let i = 0; i < EXPERIMENTS; i++) {
    const name = `exp-${String(i).padStart(2, '0')}`;
    names.push(name);
    ws.write(
      `experiments/${name}.yaml`,
      `task: t2i\n${JUDGE}\nrubric: { from: rubrics/${i % 2 ? 'plain' : 'bright'}.txt }\nverify: { test: ../data/test.jsonl }\ntrain: { learning_rate: ${i + 1}.0e-6 }\n`,
    );
  }
  const calls = await build(ws.root, names, sim);
  const start: number[] = [];
  const compare: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    start.push(await timed(ws.root, ['--help']));
    compare.push(await timed(ws.root, ['compare', '--json']));
  }
  const cold: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // A fresh process, so the figure includes what a real `arr compare` pays once (schema compile, memo load).
    const r = await execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', COLD_PROBE, ws.root], {
      cwd: repo,
      reject: false,
    });
    if (r.exitCode !== 0) throw new Error(`cold probe failed: ${r.stderr}`);
    cold.push(Number(r.stdout.trim()));
  }
  // The first gathering in this process pays what a fresh `arr compare` pays (schema compile, hash memo load).
  const inProcess: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const { comparison } = await gatherComparison(selectExperiments([], ws.root), { workspaceRoot: ws.root });
    inProcess.push(performance.now() - t0);
    if (comparison.experiments.length !== EXPERIMENTS)
      throw new Error(`compare saw ${comparison.experiments.length} experiments`);
  }
  const before = sim.requests.length;
  await timed(ws.root, ['compare', '--json']);
  const beyond = median(compare) - median(start);
  console.log(
    `1. arr compare over ${EXPERIMENTS} experiments (built with ${calls} judge calls; 2 verify artifacts shared by all):`,
  );
  console.log(
    `   process start (arr --help) median ${median(start).toFixed(0)} ms; arr compare --json median ${median(compare).toFixed(0)} ms`,
  );
  console.log(
    `   beyond process start: ${beyond.toFixed(0)} ms (target < 1000 ms: ${beyond < 1000 ? 'met' : 'NOT met'}); gathering in-process median ${median(inProcess).toFixed(0)} ms (${(median(inProcess) / EXPERIMENTS).toFixed(1)} ms per experiment)`,
  );
  console.log(`   gathering in a fresh process (first call) median ${median(cold).toFixed(0)} ms`);
  if (cpu['--help'] && cpu.compare) {
    const extra = median(cpu.compare) - median(cpu['--help']);
    console.log(
      `   CPU time (user+sys, less sensitive to a busy machine): --help ${median(cpu['--help']).toFixed(0)} ms, compare ${median(cpu.compare).toFixed(0)} ms; beyond process start ${extra.toFixed(0)} ms (target < 1000 ms: ${extra < 1000 ? 'met' : 'NOT met'})`,
    );
  }
  console.log(`   judge calls made by compare: ${sim.requests.length - before}`);
}

async function seededWorkspace() {
  const ws = workspace();
  await pairs(ws, 'data/seed.jsonl', 4, 's', (i) => i === 0);
  await pairs(ws, 'data/test.jsonl', 10, 't', (i) => i % 2 === 0);
  return ws;
}

const SEEDED = (extra: string) =>
  `task: t2i\n${JUDGE}\nrubric:\n  seed: ../data/seed.jsonl\n  task_description: Compare two renders.\n  max_epochs: 2\n  categorize: { max_categories: 2 }\nverify: { test: ../data/test.jsonl }\n${extra}`;

async function figureMatrix(sim: SimVlm) {
  const combos = [3, 5].flatMap((k) => ['1.0e-5', '2.0e-5'].map((lr) => ({ k, lr })));
  const ws = await seededWorkspace();
  ws.write(
    'experiments/grid.yaml',
    SEEDED('matrix:\n  rubric.per_pair: [3, 5]\n  train.learning_rate: [1.0e-5, 2.0e-5]\n'),
  );
  const members = combos.map(({ k, lr }) => `grid--${k}--${lr}`);
  const matrixCalls = await build(ws.root, members, sim);
  let independent = 0;
  for (const { k, lr } of combos) {
    const alone = await seededWorkspace();
    // Same manifest as the member, written out: per_pair and learning_rate set directly.
    alone.write(
      'experiments/one.yaml',
      SEEDED(`train: { learning_rate: ${lr} }\n`).replace('  max_epochs: 2', `  max_epochs: 2\n  per_pair: ${k}`),
    );
    independent += await build(alone.root, ['one'], sim);
  }
  console.log(
    `2. 2×2 matrix over rubric.per_pair [3, 5] × train.learning_rate [1.0e-5, 2.0e-5] (rubric-generate + verify of each member):`,
  );
  console.log(
    `   matrix ${matrixCalls} judge calls; four independent runs ${independent}; ratio ${(matrixCalls / independent).toFixed(2)} (train.* shares every judged artifact, so 2 of the 4 cost nothing)`,
  );
}

try {
  console.log(
    `bench/compare.ts: ${RUNS} timed runs per command figure (median); ${process.version}, ${availableParallelism()} CPUs, load ${loadavg()[0].toFixed(2)}`,
  );
  const sim = await startSimVlm({ rule: makeRubricSimRule() });
  try {
    await figureCompare(sim);
    await figureMatrix(sim);
  } finally {
    await sim.close();
  }
  console.log(`load average at end: ${loadavg()[0].toFixed(2)} (1 min)`);
} finally {
  if (process.env.BENCH_KEEP === '1') console.log(`kept: ${temps.join(' ')}`);
  else for (const t of temps) rmSync(t, { recursive: true, force: true });
}
