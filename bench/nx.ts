// Benchmark for the Nx integration; prints ratios measured in this run (it is not a test).
//  1. A fully cached `nx run exp-flux:resolve` against a bare `nx show projects`, with plugin isolation
//     on (Nx's default) and off (NX_ISOLATE_PLUGINS=false). It runs in a snapshot of this workspace
//     (everything but node_modules, .git, .nx, cache/, dist/) so that edits made meanwhile cannot turn
//     the cached runs into real ones; pass --in-place to measure the workspace itself.
//  2. 500 manifests in a throwaway copy of the workspace: (a) `nx show projects` with 500 manifests vs
//     the two examples only, with the plugin's plan cache (.nx/workspace-data/arr-plans.json) cold and warm; (b) the plugin's
//     createNodes called directly, per manifest, in a fresh process each time, cold and warm.
// Run: npx tsx bench/nx.ts [--in-place]     (BENCH_RUNS=<n> changes the number of timed runs, default 5)
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  openSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SELF = fileURLToPath(import.meta.url);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 5));
const MANIFESTS = 500;
const TARGET_RESOLVE_RATIO = 1.5;
const TARGET_SCALE_RATIO = 2;
const TARGET_MS_PER_MANIFEST = 2;

interface ChildResult {
  importMs: number;
  firstMs: number;
  againMs: number;
  projects: number;
}

if (process.argv[2] === '--child') {
  // One fresh process, like an Nx plugin worker: import the plugin, call createNodes once (and once more).
  const [root, mode] = process.argv.slice(3);
  console.log(JSON.stringify(await childCreateNodes(root, mode as 'cold' | 'warm')));
  process.exit(0);
}

const BASE_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
  NO_COLOR: '1',
};
for (const name of [
  'NX_ISOLATE_PLUGINS',
  'NX_PERF_LOGGING',
  'NX_SKIP_NX_CACHE',
  'NX_DISABLE_NX_CACHE',
  'FORCE_COLOR',
  'NX_VERBOSE_LOGGING',
])
  delete BASE_ENV[name];
const NO_ISOLATION_ENV: NodeJS.ProcessEnv = { ...BASE_ENV, NX_ISOLATE_PLUGINS: 'false' };

const temp = mkdtempSync(join(tmpdir(), 'arr-bench-nx-'));
const cleanup = () => rmSync(temp, { recursive: true, force: true });
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

try {
  console.log(
    `bench/nx.ts: ${RUNS} timed runs per figure (median), daemon off, commands run as \`npx nx ...\`; ${process.version}, ${availableParallelism()} CPUs`,
  );
  console.log(
    `load average at start: ${loadavg()[0].toFixed(2)} (1 min)${loadavg()[0] > availableParallelism() / 2 ? ': the machine is busy, expect noisy absolute times' : ''}`,
  );
  const snapshot = makeSnapshot();
  figureResolve(process.argv.includes('--in-place') ? ROOT : snapshot);
  figureScale(snapshot);
  console.log('');
  console.log(`load average at end: ${loadavg()[0].toFixed(2)} (1 min)`);
} finally {
  cleanup();
}

// ---------------------------------------------------------------------------------------------------
// Figure 1

function figureResolve(ws: string): void {
  console.log('');
  console.log(
    `figure 1: cached \`nx run exp-flux:resolve\` vs bare \`nx show projects\` in ${ws === ROOT ? ws : `a snapshot of ${ROOT} (${ws})`}`,
  );
  const variants: [string, NodeJS.ProcessEnv][] = [
    ['default (plugin isolation on)', BASE_ENV],
    ['NX_ISOLATE_PLUGINS=false', NO_ISOLATION_ENV],
  ];
  const medians: Record<string, { show: number; resolve: number }> = {};
  for (const [label, env] of variants) {
    // Warm-up: makes resolve cached (runs it for real if it is not) and warms the page cache.
    nx(ws, ['run', 'exp-flux:resolve'], env);
    nx(ws, ['show', 'projects'], env);
    const show: number[] = [];
    const res: number[] = [];
    let misses = 0;
    while (res.length < RUNS) {
      show.push(timed(() => nx(ws, ['show', 'projects'], env)).ms);
      const { ms, out } = timed(() => nx(ws, ['run', 'exp-flux:resolve'], env));
      if (/Cache:\s+1\/1 hit/.test(out)) res.push(ms);
      else if (++misses > RUNS)
        throw new Error('`nx run exp-flux:resolve` keeps missing the cache (is the workspace being edited?)');
      // A miss means an input changed under us (someone edited the workspace); the run re-cached it.
    }
    const m = { show: median(show), resolve: median(res) };
    medians[label] = m;
    console.log(
      `  ${label}: show projects ${fmtS(m.show)} [${show.map(fmtS).join(' ')}], cached resolve ${fmtS(m.resolve)} [${res.map(fmtS).join(' ')}]` +
        (misses ? ` (${misses} run(s) missed the cache and were discarded: inputs changed meanwhile)` : ''),
    );
    const suffix = env === BASE_ENV ? '' : ` (${label})`;
    console.log(verdict(`cached resolve / show projects${suffix}`, m.resolve / m.show, TARGET_RESOLVE_RATIO, 'x'));
  }
  const on = medians[variants[0][0]];
  const off = medians[variants[1][0]];
  console.log(
    `NX_ISOLATE_PLUGINS=false speed-up: show projects ${(on.show / off.show).toFixed(2)}x (${fmtS(on.show)} -> ${fmtS(off.show)}), ` +
      `cached resolve ${(on.resolve / off.resolve).toFixed(2)}x (${fmtS(on.resolve)} -> ${fmtS(off.resolve)})`,
  );
}

// ---------------------------------------------------------------------------------------------------
// Figure 2

function figureScale(source: string): void {
  const two = makeWorkspace(source, 'two');
  const many = makeWorkspace(source, 'many');
  const template = readFileSync(join(source, 'experiments', 'exp-flux.yaml'), 'utf8');
  if (!/^ {2}seed: /m.test(template) || !/^ {2}name: flux-t2i-general$/m.test(template))
    throw new Error('experiments/exp-flux.yaml changed shape; update the generator');
  for (let i = 0; i < MANIFESTS; i++) {
    const id = String(i).padStart(3, '0');
    const text = template
      .replace(/^( {2}seed: .*)$/m, `$1\n  per_pair: ${1 + (i % 50)}`)
      .replace(/^ {2}name: flux-t2i-general$/m, `  name: bench-${id}`);
    writeFileSync(join(many, 'experiments', `bench-${id}.yaml`), text);
  }
  const expected = { [two]: projectCount(two), [many]: projectCount(many) };

  console.log('');
  console.log(
    `figure 2a: \`nx show projects\` with ${MANIFESTS} more manifests (${expected[many]} projects) vs the two examples (${expected[two]} projects), copies under ${temp}`,
  );
  for (const [label, env] of [
    ['default', BASE_ENV],
    ['NX_ISOLATE_PLUGINS=false', NO_ISOLATION_ENV],
  ] as const) {
    for (const cold of [true, false]) {
      const state = cold ? 'cold plugin cache' : 'warm plugin cache';
      for (const ws of [two, many]) nx(ws, ['show', 'projects'], env); // warm-up (fills the plan cache for the warm runs)
      const times: Record<string, number[]> = { [two]: [], [many]: [] };
      for (let i = 0; i < RUNS; i++) {
        for (const ws of i % 2 ? [many, two] : [two, many]) {
          if (cold) rmSync(join(ws, '.nx', 'workspace-data', 'arr-plans.json'), { force: true });
          const { ms, out } = timed(() => nx(ws, ['show', 'projects'], env));
          const got = out.split('\n').filter((l) => l.trim()).length;
          if (got !== expected[ws])
            throw new Error(`nx show projects listed ${got} projects in ${ws}, expected ${expected[ws]}:\n${out}`);
          times[ws].push(ms);
        }
      }
      const a = median(times[two]);
      const b = median(times[many]);
      console.log(
        `  ${label}, ${state}: 2 manifests ${fmtS(a)} [${times[two].map(fmtS).join(' ')}], ${MANIFESTS + 2} manifests ${fmtS(b)} [${times[many].map(fmtS).join(' ')}]; ${fmtMs((b - a) / MANIFESTS)} per extra manifest`,
      );
      const suffix = label === 'default' ? '' : `, ${label}`;
      console.log(
        verdict(
          `show projects ${MANIFESTS} manifests / 2 manifests (${state}${suffix})`,
          b / a,
          TARGET_SCALE_RATIO,
          'x',
        ),
      );
    }
  }

  for (const [label, env] of [
    ['isolation on', BASE_ENV],
    ['NX_ISOLATE_PLUGINS=false', NO_ISOLATION_ENV],
  ] as const) {
    console.log(
      `  where the time goes (${MANIFESTS + 2} manifests, warm plugin cache, ${label}; NX_PERF_LOGGING, one run): ${perfBreakdown(many, env)}`,
    );
  }

  // Can the workspace itself turn isolation off? nx.json has no such setting, but Nx loads the root .env
  // files before it builds the graph. Isolated plugins print `start-plugin-worker` perf marks.
  writeFileSync(join(two, '.env'), 'NX_ISOLATE_PLUGINS=false\n');
  const perf = nx(two, ['show', 'projects'], { ...BASE_ENV, NX_PERF_LOGGING: 'true' });
  const workers = perf.split('\n').filter((l) => l.includes("'start-plugin-worker:")).length;
  const envFile = median(
    Array.from({ length: Math.min(RUNS, 3) }, () => timed(() => nx(two, ['show', 'projects'], BASE_ENV)).ms),
  );
  rmSync(join(two, '.env'));
  console.log(
    `  root .env with NX_ISOLATE_PLUGINS=false: ${workers === 0 ? 'honoured (no plugin workers started)' : `NOT honoured (${workers} plugin workers started)`}, ` +
      `show projects (2 manifests, warm) ${fmtS(envFile)}`,
  );

  console.log('');
  console.log(
    `figure 2b: the plugin's createNodes called directly over the ${MANIFESTS} manifests, a fresh process per run (like an Nx plugin worker)`,
  );
  const files = readdirSync(join(many, 'experiments')).filter((f) => f.startsWith('bench-'));
  if (files.length !== MANIFESTS) throw new Error(`expected ${MANIFESTS} bench manifests, found ${files.length}`);
  child(many, 'warm'); // fills the plan cache for the warm runs
  for (const mode of ['cold', 'warm'] as const) {
    const results = Array.from({ length: RUNS }, () => child(many, mode));
    const first = median(results.map((r) => r.firstMs));
    const again = median(results.map((r) => r.againMs));
    const imp = median(results.map((r) => r.importMs));
    const note = mode === 'cold' ? 'no arr-plans.json' : 'arr-plans.json current';
    console.log(
      `  ${mode} (${note}): first call ${fmtMs(first)} total [${results.map((r) => fmtMs(r.firstMs)).join(' ')}], ` +
        `a second ${mode} call in the same process ${fmtMs(again)} (${fmtMs(again / MANIFESTS)} per manifest); importing the plugin took ${fmtMs(imp)}`,
    );
    console.log(
      verdict(
        `createNodes per manifest, ${mode} (first call in a fresh process)`,
        first / MANIFESTS,
        TARGET_MS_PER_MANIFEST,
        ' ms',
      ),
    );
  }
}

/** The main NX_PERF_LOGGING figures of one `nx show projects`. */
function perfBreakdown(ws: string, env: NodeJS.ProcessEnv): string {
  const out = nx(ws, ['show', 'projects'], { ...env, NX_PERF_LOGGING: 'true' });
  const marks = new Map<string, number[]>();
  for (const m of out.matchAll(/^Time taken for '(.+)' ([\d.]+)ms$/gm))
    marks.set(m[1], [...(marks.get(m[1]) ?? []), Number(m[2])]);
  const max = (name: string) => (marks.has(name) ? fmtMs(Math.max(...marks.get(name)!)) : 'n/a');
  const workers = [...marks.keys()].filter((k) => k.startsWith('start-plugin-worker:')).length;
  return [
    `graph ${max('createProjectGraphAsync')}`,
    `loading ./tasks/src/plugin.ts ${max('Load Nx Plugin: ./tasks/src/plugin.ts')}`,
    `building project configs (all plugins, slowest pass) ${max('build-project-configs')}`,
    marks.has('./tasks/src/plugin.ts:createNodes')
      ? `of which our createNodes ${max('./tasks/src/plugin.ts:createNodes')}`
      : '',
    `merging ${max('createNodes:merge')}`,
    `writing .nx/workspace-data ${max('write cache')}`,
    `${workers} plugin worker processes`,
  ]
    .filter(Boolean)
    .join(', ');
}

/**
 * A copy of the workspace; node_modules is a link to this workspace's (so executors resolve through
 * node_modules/@arr/tasks to this workspace's tasks/, and run the copy's engine: context.root is the copy).
 */
function makeSnapshot(): string {
  const ws = join(temp, 'snapshot');
  const skip = new Set(['node_modules', '.git', '.nx', 'cache', 'dist'].map((e) => join(ROOT, e)));
  cpSync(ROOT, ws, { recursive: true, filter: (src) => !skip.has(src) });
  symlinkSync(join(ROOT, 'node_modules'), join(ws, 'node_modules'), 'dir');
  return ws;
}

/** A copy of the workspace's essentials, taken from `source`; node_modules is a link as in makeSnapshot. */
function makeWorkspace(source: string, name: string): string {
  const ws = join(temp, name);
  // .gitignore keeps cache/ out of Nx's file hashing and package-lock.json is what Nx reads for the
  // external nodes, as in the real workspace.
  for (const entry of [
    'package.json',
    'package-lock.json',
    'nx.json',
    'tsconfig.json',
    '.gitignore',
    'tasks',
    'src',
    'schemas',
    'bin',
    'examples',
    'experiments/base',
  ]) {
    if (existsSync(join(source, entry))) cpSync(join(source, entry), join(ws, entry), { recursive: true });
  }
  for (const manifest of readdirSync(join(source, 'experiments')).filter((f) => /\.ya?ml$/.test(f))) {
    cpSync(join(source, 'experiments', manifest), join(ws, 'experiments', manifest));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(ws, 'node_modules'), 'dir');
  return ws;
}

/** Manifests plus the package-json project for tasks/ (@arr/tasks). */
function projectCount(ws: string): number {
  return readdirSync(join(ws, 'experiments')).filter((f) => /\.ya?ml$/.test(f)).length + 1;
}

function child(ws: string, mode: 'cold' | 'warm'): ChildResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', SELF, '--child', ws, mode], {
    cwd: ROOT,
    env: BASE_ENV,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`createNodes child failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  const result: ChildResult = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  if (result.projects !== MANIFESTS)
    throw new Error(`createNodes returned ${result.projects} projects, expected ${MANIFESTS}`);
  return result;
}

async function childCreateNodes(root: string, mode: 'cold' | 'warm'): Promise<ChildResult> {
  const plansFile = join(root, '.nx', 'workspace-data', 'arr-plans.json');
  const files = readdirSync(join(root, 'experiments'))
    .filter((f) => f.startsWith('bench-'))
    .sort()
    .map((f) => `experiments/${f}`);
  let t = performance.now();
  const plugin = await import(pathToFileURL(join(root, 'tasks', 'src', 'plugin.ts')).href);
  const importMs = performance.now() - t;
  const [, createNodesFn] = (plugin.createNodes ?? plugin.default?.createNodes) as [
    string,
    (...args: unknown[]) => unknown,
  ];
  const context = { workspaceRoot: root, nxJsonConfiguration: {} };
  const call = async () => {
    if (mode === 'cold') rmSync(plansFile, { force: true });
    const start = performance.now();
    const results = (await createNodesFn(files, {}, context)) as [string, { projects?: Record<string, unknown> }][];
    return {
      ms: performance.now() - start,
      projects: results.reduce((n, [, r]) => n + Object.keys(r.projects ?? {}).length, 0),
    };
  };
  const first = await call();
  const again = await call();
  return { importMs, firstMs: first.ms, againMs: again.ms, projects: first.projects };
}

// ---------------------------------------------------------------------------------------------------
// Helpers

/**
 * Runs `npx nx <args>` and returns its output. The output goes to a file, not a pipe: with plugin
 * isolation on, a 500-line `nx show projects` read through a child_process pipe came back cut short in
 * about 3 runs out of 10 (Nx 24.0.6 calls process.exit() while stdout writes are still queued).
 */
function nx(cwd: string, args: string[], env: NodeJS.ProcessEnv): string {
  const log = join(temp, 'nx-output.log');
  const fd = openSync(log, 'w');
  let r: SpawnSyncReturns<Buffer>;
  try {
    r = spawnSync('npx', ['nx', ...args], { cwd, env, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const out = readFileSync(log, 'utf8');
  if (r.status !== 0)
    throw new Error(
      `npx nx ${args.join(' ')} failed in ${cwd} (exit ${r.status}${r.error ? `, ${r.error.message}` : ''}):\n${out}`,
    );
  return out;
}

function timed<T>(fn: () => T): { ms: number; out: T } {
  const t = performance.now();
  const out = fn();
  return { ms: performance.now() - t, out };
}

function verdict(label: string, value: number, target: number, unit: 'x' | ' ms'): string {
  const digits = unit === 'x' ? 2 : 3;
  return `${label}: ${value.toFixed(digits)}${unit} (target <= ${target}${unit}) ${value <= target ? 'PASS' : 'FAIL'}`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function fmtS(ms: number): string {
  return `${(ms / 1000).toFixed(2)}s`;
}

function fmtMs(ms: number): string {
  return `${ms.toFixed(ms < 10 ? 2 : 0)} ms`;
}
