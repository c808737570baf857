// Two experiments and a 2×2 matrix verified against the simulated judge, then seen side by side:
// `arr compare` (table, JSON, CSV, --sort, HTML in Chromium), `arr diff`, the matrix members as real Nx
// projects, and a verify with total position bias that fails saying so.
import { execa } from 'execa';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRubricGenerate } from '../../src/targets/rubric-generate.js';
import { runVerify, ThresholdError } from '../../src/targets/verify.js';
import { makeRubricSimRule } from '../helpers/rubric-sim.js';
import { startSimVlm, type SimVlm } from '../helpers/sim-vlm.js';
import { makeWorkspace, type TestWorkspace } from '../helpers/workspace.js';

let ws: TestWorkspace;
let sim: SimVlm;
const quiet = { log: () => {} };
const NAMES = [
  'bright',
  'grid--rubrics-bright.txt--1.0e-5',
  'grid--rubrics-bright.txt--2.0e-5',
  'grid--rubrics-plain.txt--1.0e-5',
  'grid--rubrics-plain.txt--2.0e-5',
  'plain',
];
const callsBy: Record<string, number> = {};
const failures: Record<string, ThresholdError> = {};

async function grey(rel: string, level: number) {
  await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: level, g: level, b: level } } })
    .png()
    .toFile(ws.path(rel));
}

const manifest = (rubric: string, extra = '') => `task: t2i
judge: { base_url: "\${SIM_URL:-http://127.0.0.1:9/v1}", concurrency: 4, max_tokens: 256 }
rubric:
  from: ${rubric}
  allow_unlocked: true
verify: { test: ../data/test.jsonl, min_accuracy: 0.6 }
${extra}`;

const arr = (...args: string[]) =>
  execa(process.execPath, [join(ws.root, 'bin', 'arr.mjs'), ...args], {
    cwd: ws.root,
    reject: false,
    env: { NO_COLOR: '1' },
  });

beforeAll(async () => {
  ws = makeWorkspace({ nx: true });
  ws.write('data/img/.keep', '');
  const lines: string[] = [];
  for (let i = 0; i < 6; i++) {
    // The brighter image is preferred; it is shown first in every other pair.
    await grey(`data/img/${i}b.png`, 190);
    await grey(`data/img/${i}d.png`, 50 + i);
    const first = i % 2 === 0;
    lines.push(
      JSON.stringify({
        query: `pair ${i}`,
        response: first ? [`img/${i}b.png`, `img/${i}d.png`] : [`img/${i}d.png`, `img/${i}b.png`],
        label_rank: first ? [1, 2] : [2, 1],
      }),
    );
  }
  ws.write('data/test.jsonl', lines.join('\n') + '\n');
  // The simulated judge follows brightness only when the rubric mentions it; otherwise the first image
  // shown always wins: total position bias.
  ws.write(
    'experiments/rubrics/bright.txt',
    '1. The brighter image is preferred.\n\n2. Prefer sharper details.\n\n3. Prefer fewer artifacts.\n',
  );
  ws.write('experiments/rubrics/plain.txt', '1. Prefer sharper details.\n');
  ws.write('experiments/bright.yaml', manifest('rubrics/bright.txt'));
  ws.write('experiments/plain.yaml', manifest('rubrics/plain.txt', 'train: { learning_rate: 3.0e-5 }\n'));
  ws.write(
    'experiments/grid.yaml',
    manifest(
      'rubrics/bright.txt',
      'matrix:\n  rubric.from: [rubrics/bright.txt, rubrics/plain.txt]\n  train.learning_rate: [1.0e-5, 2.0e-5]\n',
    ),
  );
  sim = await startSimVlm({ rule: makeRubricSimRule() });
  const env = { SIM_URL: sim.url };
  // bright and plain first: the matrix members then find every artifact they need already built.
  for (const name of ['bright', 'plain', ...NAMES.filter((n) => n.startsWith('grid--'))]) {
    const before = sim.requests.length;
    const ref = { experiment: name, workspaceRoot: ws.root, env };
    await runRubricGenerate(ref, quiet);
    try {
      await runVerify(ref, quiet);
    } catch (error) {
      if (!(error instanceof ThresholdError)) throw error;
      failures[name] = error;
    }
    callsBy[name] = sim.requests.length - before;
  }
}, 120_000);

afterAll(async () => {
  await sim?.close();
  ws?.cleanup();
});

describe('a matrix and two experiments, verified', () => {
  it('shares artifacts: matrix members whose slices match bright or plain cost no judge call', () => {
    expect(callsBy.bright).toBeGreaterThan(0);
    expect(callsBy.plain).toBeGreaterThan(0);
    for (const name of NAMES.filter((n) => n.startsWith('grid--'))) expect(callsBy[name], name).toBe(0);
  });

  it('fails the position-biased verify with that diagnosis and what to do', () => {
    expect(Object.keys(failures).sort()).toEqual([
      'grid--rubrics-plain.txt--1.0e-5',
      'grid--rubrics-plain.txt--2.0e-5',
      'plain',
    ]);
    const message = failures.plain.message;
    expect(message).toContain('FAILED verify.min_accuracy: 0.000 < 0.6');
    expect(failures['grid--rubrics-plain.txt--1.0e-5'].message).toContain(
      'arr judge doctor --experiment grid--rubrics-plain.txt--1.0e-5',
    );
    expect(message).toMatch(
      /why \(position-bias\): the judge gave the same verdict in both orders for only 0\.0% of pairs/,
    );
    expect(message).toContain('arr judge doctor --experiment plain');
    expect(message).toContain('keep verify.both_orders: true');
    expect(message).toContain('stronger judge');
    const report = JSON.parse(readFileSync(ws.path('cache/experiments/plain/verify/report.json'), 'utf8'));
    expect(report.diagnosis.map((d: { cause: string }) => d.cause)).toContain('position-bias');
  });
});

describe('arr compare', () => {
  it('prints one JSON row per experiment, with only the differing parameters, the metrics and the states', async () => {
    const r = await arr('compare', '--json');
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.experiments.map((e: { name: string }) => e.name)).toEqual(NAMES);
    expect(out.differing).toEqual(['rubric.from', 'train.learning_rate']);
    const bright = out.experiments[0];
    expect(Object.keys(bright.params)).toEqual(out.differing);
    expect(Object.keys(bright.metrics)).toEqual([
      'accuracy',
      'ci_low',
      'ci_high',
      'baseline',
      'gain',
      'agreement',
      'failures',
      'calls',
      'tokens',
      'cost',
      'criteria',
    ]);
    expect(bright.metrics).toMatchObject({
      accuracy: 1,
      baseline: 0,
      gain: 1,
      agreement: 1,
      failures: 0,
      criteria: 3,
      calls: callsBy.bright,
    });
    expect(bright.metrics.ci_low).toBeGreaterThan(0.5);
    expect(bright.states).toEqual({
      resolve: 'never built',
      preprocess: 'never built',
      'rubric-generate': 'fresh',
      verify: 'fresh',
      freeze: 'never built',
    });
    const plain = out.experiments[5];
    expect(plain.metrics).toMatchObject({ accuracy: 0, agreement: 0, criteria: 1 });
    expect(plain.params).toEqual({ 'rubric.from': 'experiments/rubrics/plain.txt', 'train.learning_rate': 3e-5 });
    // Members report the numbers of the artifacts they share.
    expect(out.experiments[3].metrics).toEqual(plain.metrics);
  }, 60_000);

  it('shows a matrix by its manifest name, as a table, as CSV, and sorted by a column', async () => {
    const table = await arr('compare', 'grid', '--sort', 'accuracy');
    expect(table.exitCode, table.stderr).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^name\s+rubric\.from\s+train\.learning_rate\s+accuracy\s+baseline\s+gain\s+agreement/);
    expect(lines).toHaveLength(5);
    expect(lines[1]).toMatch(/^grid--rubrics-bright\.txt--1\.0e-5\s.*100\.0% \[\d+\.\d%, 100\.0%\]/);
    expect(lines[4]).toMatch(/^grid--rubrics-plain\.txt--2\.0e-5\s.*0\.0%/);
    const csv = await arr('compare', 'grid', '--csv', '--sort', 'train.learning_rate');
    const rows = csv.stdout
      .trim()
      .split('\r\n')
      .map((l) => l.split(','));
    expect(rows[0].slice(0, 6)).toEqual([
      'name',
      'rubric.from',
      'train.learning_rate',
      'accuracy',
      'ci_low',
      'ci_high',
    ]);
    expect(rows.slice(1).map((r) => r[2])).toEqual(['0.00001', '0.00001', '0.00002', '0.00002']);
    const bad = await arr('compare', '--sort', 'acuracy');
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain('no column acuracy to sort by');
  }, 60_000);

  it('makes no judge call', () => {
    const total = Object.values(callsBy).reduce((a, b) => a + b, 0);
    expect(sim.requests.length).toBe(total);
  });
});

describe('arr diff', () => {
  it('names the differing parameters with their origins, the input files, the rubric diff and metric deltas', async () => {
    const r = await arr('diff', 'bright', 'grid--rubrics-plain.txt--2.0e-5', '--json');
    expect(r.exitCode, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout);
    const from = d.params.find((p: { field: string }) => p.field === 'rubric.from');
    expect(from).toMatchObject({
      a: 'experiments/rubrics/bright.txt',
      b: 'experiments/rubrics/plain.txt',
      a_from: 'experiments/bright.yaml:4',
      b_from: 'experiments/grid.yaml:8 (matrix rubric.from)',
    });
    expect(d.params.find((p: { field: string }) => p.field === 'train.learning_rate')).toMatchObject({
      a: null,
      b: 0.00002,
      a_from: 'schema default',
    });
    expect(d.files.map((f: { input: string }) => f.input)).toContain('rubric.from');
    expect(d.rubric).toContain('-1. The brighter image is preferred.');
    expect(d.rubric).toContain('+1. Prefer sharper details.');
    expect(d.metrics.accuracy).toEqual({ a: 1, b: 0, delta: -1 });
    const text = await arr('diff', 'bright', 'plain');
    expect(text.stdout).toContain('rubric.from');
    expect(text.stdout).toMatch(/accuracy\s+100\.0% → 0\.0%\s+-100\.0 points/);
  }, 60_000);
});

describe('the matrix in a real Nx graph', () => {
  it('lists every member as a project', async () => {
    const r = await execa(join(ws.root, 'node_modules', '.bin', 'nx'), ['show', 'projects', '--json'], {
      cwd: ws.root,
      reject: false,
      env: { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', NO_COLOR: '1', NX_ISOLATE_PLUGINS: 'false' },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const projects: string[] = JSON.parse(r.stdout);
    expect(projects.filter((p) => p.startsWith('grid')).sort()).toEqual(NAMES.filter((n) => n.startsWith('grid')));
    expect(projects).toEqual(expect.arrayContaining(['bright', 'plain']));
  }, 60_000);

  // Two of the four members (one glob over the sweep) keep the test lean: each task is an `arr` process.
  it('runs a sweep with nx run-many over a <name>--* glob, each member building itself from the shared artifacts', async () => {
    const before = sim.requests.length;
    const r = await execa(
      join(ws.root, 'node_modules', '.bin', 'nx'),
      ['run-many', '-t', 'verify', '-p', 'grid--*--1.0e-5', '--output-style=static'],
      {
        cwd: ws.root,
        reject: false,
        all: true,
        env: {
          NX_DAEMON: 'false',
          NX_NO_CLOUD: 'true',
          NX_TUI: 'false',
          NO_COLOR: '1',
          NX_ISOLATE_PLUGINS: 'false',
          SIM_URL: sim.url,
        },
      },
    );
    // The two members with the plain rubric miss verify.min_accuracy; their failure says why.
    expect(r.exitCode, r.all).toBe(1);
    expect(r.all).toContain('verify grid--rubrics-bright.txt--1.0e-5: accuracy 100.0%');
    expect(r.all).toContain('run `arr judge doctor --experiment grid--rubrics-plain.txt--1.0e-5`');
    expect(r.all).not.toContain('grid--rubrics-bright.txt--2.0e-5:verify');
    expect(sim.requests.length).toBe(before);
  }, 240_000);
});

// --- The HTML page in a browser ------------------------------------------------------------------------

const chromiumPath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium'].find(
  (p): p is string => Boolean(p) && existsSync(p!),
);
const skipBrowser = !chromiumPath && process.env.ARR_SKIP_BROWSER_TESTS === '1';

describe('arr compare --html in chromium', () => {
  it('draws accuracy ± interval and the baseline per experiment, the table and working report links, with no request', async (ctx) => {
    if (skipBrowser) ctx.skip('ARR_SKIP_BROWSER_TESTS=1 and no chromium: browser test skipped');
    if (!chromiumPath)
      throw new Error(
        'chromium is needed (apt-get install -y chromium, or CHROMIUM_PATH); ARR_SKIP_BROWSER_TESTS=1 skips on purpose',
      );
    const page_ = ws.path('out/compare.html');
    const r = await arr('compare', '--html', page_);
    expect(r.exitCode, r.stderr).toBe(0);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--headless=new'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const requests: string[] = [];
      page.on('request', (req) => requests.push(req.url()));
      const url = pathToFileURL(page_).href;
      await page.goto(url, { waitUntil: 'load' });
      expect(await page.locator('#chart circle.accuracy').count()).toBe(6);
      expect(await page.locator('#chart line.ci').count()).toBe(6);
      expect(await page.locator('#chart path.baseline').count()).toBe(6);
      const labels = await page.$$eval('#chart text.label', (ts) => ts.map((t) => t.textContent));
      expect(labels).toEqual(NAMES);
      // The bright experiment's dot sits right of the plain one's (100% vs 0%).
      const cx = async (i: number) => Number(await page.locator('#chart circle.accuracy').nth(i).getAttribute('cx'));
      expect(await cx(0)).toBeGreaterThan(await cx(5));
      const header = await page.locator('#params thead').innerText();
      expect(header).toMatch(/rubric\.from\s+train\.learning_rate\s+accuracy/);
      expect(await page.locator('tr.experiment').count()).toBe(6);
      const hrefs = await page.$$eval('a.report', (as) => as.map((a) => (a as unknown as { href: string }).href));
      expect(hrefs).toHaveLength(6);
      for (const href of hrefs) expect(existsSync(new URL(href).pathname), href).toBe(true);
      expect(resolve(dirname(page_), decodeURIComponent(new URL(hrefs[0]).pathname))).toMatch(
        /cache\/artifacts\/verify\/[0-9a-f]+\/report\.html$/,
      );
      await page.locator('a.report').first().click();
      await page.waitForURL(/report\.html$/);
      expect(await page.locator('header').innerText()).toContain('bright');
      expect(await page.locator('script').count()).toBe(0);
      expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
