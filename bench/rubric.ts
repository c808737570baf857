// Issue #4 figures (run: npx tsx bench/rubric.ts), against the simulated judge whose right answer is
// "the brighter image" (test/helpers/rubric-sim.ts):
//  1. judge calls per kept criterion, against the reference's worst case (1 + 2·max_epochs per seed);
//  2. the share of calls a resumed rubric-generate repeats after a kill (target ≤ 5%);
//  3. verify's wall time at concurrency 32 as a ratio to the ideal (calls / 32 × latency);
//  4. a fully cached `nx run <exp>:freeze` against a bare `nx show projects` (target ≤ 1.5x).
import { execa } from 'execa';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { makeRubricSimRule } from '../test/helpers/rubric-sim.js';
import { startSimVlm } from '../test/helpers/sim-vlm.js';

const repo = join(import.meta.dirname, '..');
const root = mkdtempSync(join(tmpdir(), 'arr-bench-rubric-'));
const write = (rel: string, text: string) => {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), text);
};
for (const dir of ['src', 'tasks', 'bin', 'schemas']) cpSync(join(repo, dir), join(root, dir), { recursive: true });
for (const file of ['package.json', 'package-lock.json', 'tsconfig.json', 'nx.json', '.env'])
  cpSync(join(repo, file), join(root, file));
symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));

async function pairs(file: string, n: number, prefix: string, brightFirst: (i: number) => boolean) {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const b = `img/${prefix}${i}b.png`;
    const d = `img/${prefix}${i}d.png`;
    for (const [rel, level] of [
      [b, 170 + (i % 60)],
      [d, 30 + (i % 60)],
    ] as const) {
      mkdirSync(dirname(join(root, 'data', rel)), { recursive: true });
      await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: level, g: level, b: level } } })
        .png()
        .toFile(join(root, 'data', rel));
    }
    const first = brightFirst(i);
    lines.push(
      JSON.stringify({
        query: `${prefix} ${i}${i % 5 === 4 ? ' HARD' : i % 5 === 0 ? ' EASY' : ''}`,
        response: first ? [b, d] : [d, b],
        label_rank: first ? [1, 2] : [2, 1],
      }),
    );
  }
  write(file, lines.join('\n') + '\n');
}
await pairs('data/seed.jsonl', 40, 's', (i) => i % 5 === 0);
await pairs('data/test.jsonl', 200, 't', (i) => i % 2 === 0);
const manifest = (concurrency: number) => `task: t2i
judge: { base_url: "\${SIM_URL}", concurrency: ${concurrency} }
rubric: { seed: ../data/seed.jsonl, per_pair: 5, max_epochs: 5, categorize: { max_categories: 5 } }
verify: { test: ../data/test.jsonl, min_accuracy: 0.6 }
freeze: { name: bench, version: 1 }
`;

const LATENCY = 100;
const sim = await startSimVlm({ rule: makeRubricSimRule(), latencyMs: LATENCY });
const env = { SIM_URL: sim.url, NO_COLOR: '1', NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };
const arr = (...args: string[]) =>
  execa('node', [join(root, 'bin/arr.mjs'), ...args], { cwd: root, env, reject: false });

// 1 + 2: a build killed half way, then resumed.
write('experiments/bench.yaml', manifest(8));
const killAt = 120;
const child = arr('build', 'rubric-generate', 'bench');
while (sim.requests.length < killAt) await new Promise((r) => setTimeout(r, 5));
child.kill('SIGKILL');
await child;
const sig = (r: (typeof sim.requests)[number]) => JSON.stringify(r.body.messages);
const firstRun = new Set(sim.requests.map(sig));
const before = sim.requests.length;
const resumed = await arr('build', 'rubric-generate', 'bench');
if (resumed.exitCode !== 0) throw new Error(resumed.stderr);
const second = sim.requests.slice(before);
const repeated = second.filter((r) => firstRun.has(sig(r))).length;
const totalDistinct = before + second.length - repeated;
const stats = JSON.parse(
  (await import('node:fs')).readFileSync(join(root, 'cache/experiments/bench/rubric-generate/stats.json'), 'utf8'),
);
const seeds = stats.seeds.total;
const referenceWorst = seeds * (1 + 2 * 5);
console.log(
  `rubric-generate: ${seeds} seeds, kept ${stats.seeds.kept}, ${stats.criteria.used} criteria used; ${totalDistinct} distinct judge calls (worst case stated ${stats.worst_case.calls})`,
);
console.log(
  `calls per kept criterion: ${(totalDistinct / stats.criteria.generated).toFixed(2)} before dedupe (${stats.criteria.generated} kept criteria; the simulated judge repeats itself, so ${stats.criteria.used} distinct remain); the reference's worst case is ${(referenceWorst / stats.criteria.generated).toFixed(2)} (${referenceWorst} calls = 1 + 2·max_epochs per seed, its last revision never verified)`,
);
console.log(`calls per seed: ${(totalDistinct / seeds).toFixed(2)} against the reference's worst case of ${1 + 2 * 5}`);
console.log(
  `resume after a kill at ${before} calls: ${repeated} of ${second.length} calls repeated = ${((repeated / totalDistinct) * 100).toFixed(1)}% of the build's calls (target <= 5%) ${repeated / totalDistinct <= 0.05 ? 'PASS' : 'FAIL'}`,
);

// 3: verify at concurrency 32.
write('experiments/bench.yaml', manifest(32));
await arr('build', 'resolve', 'bench'); // as Nx runs it first: its artifact vouches for the data
const verifyStart = sim.requests.length;
const t0 = performance.now();
const started = Date.now();
const verify = await arr('build', 'verify', 'bench');
const wall = (performance.now() - t0) / 1000;
if (verify.exitCode !== 0) throw new Error(verify.stderr + verify.stdout);
const verifyCalls = sim.requests.length - verifyStart;
const ideal = (verifyCalls / 32) * (LATENCY / 1000);
const firstAt = sim.requests[verifyStart].receivedAt! - started;
const judging =
  (sim.requests[sim.requests.length - 1].receivedAt! + LATENCY - sim.requests[verifyStart].receivedAt!) / 1000;
console.log(
  `verify: ${verifyCalls} judge calls in ${wall.toFixed(2)} s; ideal ${ideal.toFixed(2)} s; ratio ${(wall / ideal).toFixed(2)}x`,
);
console.log(
  `  of which: ${(firstAt / 1000).toFixed(2)} s before the first call (process start, checks, preflight), ${judging.toFixed(2)} s judging (ratio ${(judging / ideal).toFixed(2)}x), ${(wall - firstAt / 1000 - judging).toFixed(2)} s after (thumbnails, report)`,
);

// 4: the cached chain through Nx.
const nx = (...args: string[]) =>
  execa('node', [join(root, 'node_modules/nx/dist/bin/nx.js'), ...args], { cwd: root, env, reject: false, all: true });
const warm = await nx('run', 'bench:freeze');
if (warm.exitCode !== 0) throw new Error(warm.all);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = async (f: () => Promise<unknown>) => {
  const s = performance.now();
  await f();
  return (performance.now() - s) / 1000;
};
const show: number[] = [];
const freeze: number[] = [];
for (let i = 0; i < 5; i++) {
  show.push(await time(() => nx('show', 'projects')));
  freeze.push(
    await time(async () => {
      const r = await nx('run', 'bench:freeze');
      if (!/Cache:\s+4\/4 hit/.test(r.all ?? '')) throw new Error(`not fully cached:\n${r.all}`);
    }),
  );
}
const ratio = median(freeze) / median(show);
console.log(
  `cached nx run bench:freeze ${median(freeze).toFixed(2)} s / nx show projects ${median(show).toFixed(2)} s = ${ratio.toFixed(2)}x (target <= 1.5x) ${ratio <= 1.5 ? 'PASS' : 'FAIL'}`,
);

await sim.close();
rmSync(root, { recursive: true, force: true });
