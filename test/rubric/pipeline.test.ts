// rubric-generate → verify → freeze against a simulated judge whose right answer is "the brighter image"
// and which only judges by brightness when the rubric says so (test/helpers/rubric-sim.ts).
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsImport from 'ajv-formats';
import { execa } from 'execa';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runFreeze } from '../../src/targets/freeze.js';
import { runRubricGenerate } from '../../src/targets/rubric-generate.js';
import { runVerify, ThresholdError } from '../../src/targets/verify.js';
import { makeRubricSimRule } from '../helpers/rubric-sim.js';
import { startSimVlm, type SimVlm } from '../helpers/sim-vlm.js';
import { makeWorkspace, repoRoot, type TestWorkspace } from '../helpers/workspace.js';
import { writeImportedLock } from '../../src/rubric/locked.js';

let ws: TestWorkspace;
let sim: SimVlm;

async function grey(rel: string, level: number) {
  await sharp({ create: { width: 48, height: 48, channels: 3, background: { r: level, g: level, b: level } } }).png().toFile(ws.path(rel));
}

/** Pairs whose brighter image is preferred; `brightFirst` says where it is shown (default: every other record). */
async function pairs(file: string, queries: string[], offset: number, brightFirst = (i: number) => i % 2 === 0) {
  const lines: string[] = [];
  for (const [i, query] of queries.entries()) {
    const bright = `img/${offset + i}b.png`;
    const dark = `img/${offset + i}d.png`;
    await grey(`data/${bright}`, 180 + (i % 40));
    await grey(`data/${dark}`, 40 + (i % 40));
    const first = brightFirst(i);
    lines.push(JSON.stringify({ query, response: first ? [bright, dark] : [dark, bright], label_rank: first ? [1, 2] : [2, 1] }));
  }
  ws.write(file, lines.join('\n') + '\n');
}

async function workspaceWith(extra = '') {
  ws.write('data/img/.keep', '');
  // Seeds other than the first show the darker (wrong) image first, so the judge's position bias fails them
  // until their criteria mention brightness.
  await pairs('data/seed.jsonl', ['EASY one', 'EASY two', 'plain three', 'plain four', 'HARD five', 'HARD six'], 0, (i) => i === 0);
  await pairs('data/test.jsonl', Array.from({ length: 10 }, (_, i) => `test ${i}`), 100);
  // One held-out label prefers the darker image: a brightness rubric gets 9 of 10 right.
  const test = readFileSync(ws.path('data/test.jsonl'), 'utf8').trim().split('\n');
  test[9] = test[9].replace('"label_rank":[2,1]', '"label_rank":[1,2]');
  ws.write('data/test.jsonl', test.join('\n') + '\n');
  ws.write(
    'experiments/exp.yaml',
    `task: t2i
judge: { base_url: "\${SIM_URL}", concurrency: 4, max_tokens: 256 }
rubric:
  seed: ../data/seed.jsonl
  task_description: Compare two renders.
  per_pair: 3
  max_epochs: 2
  categorize: { max_categories: 2 }
verify: { test: ../data/test.jsonl, min_accuracy: 0.9 }
freeze: { name: bright, version: 1 }
${extra}`,
  );
}

const ref = () => ({ experiment: 'exp', workspaceRoot: ws.root, env: { SIM_URL: sim.url } });
const quiet = { log: () => {} };

beforeEach(async () => {
  ws = makeWorkspace();
  sim = await startSimVlm({ rule: makeRubricSimRule() });
  process.env.SIM_URL = sim.url;
});
afterEach(async () => {
  await sim.close();
  ws.cleanup();
});

describe('rubric-generate', () => {
  it('keeps, revises and drops seeds as it should, and never shows the label to verification', async () => {
    await workspaceWith();
    const summary = await runRubricGenerate(ref(), quiet);
    expect(summary).toContain('kept 4/6 seed pair(s)');
    expect(summary).toContain('dropped seed 4: still [1,2] after 2 revision(s); expected [2,1]');
    const dir = readFileSync(ws.path('cache/experiments/exp/rubric-generate/stamp.json'), 'utf8');
    const key = JSON.parse(dir).key;
    const trace = readFileSync(ws.path(`cache/artifacts/rubric-generate/${key}/trace.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const bySeed = (seed: number, purpose: string) => trace.filter((t) => t.seed === seed && t.purpose === purpose).length;
    expect([bySeed(0, 'revise'), bySeed(1, 'revise')]).toEqual([0, 0]); // EASY: passes at once
    expect([bySeed(2, 'revise'), bySeed(3, 'revise')]).toEqual([1, 1]); // plain: one revision
    expect([bySeed(4, 'revise'), bySeed(5, 'revise')]).toEqual([2, 2]); // HARD: every revision, then dropped
    expect(bySeed(4, 'verify')).toBe(3); // the last revision is verified too
    const stats = JSON.parse(readFileSync(ws.path('cache/experiments/exp/rubric-generate/stats.json'), 'utf8'));
    expect(stats.seeds.dropped.map((d: { seed: number }) => d.seed)).toEqual([4, 5]);
    expect(stats.seeds.dropped[0].reason).toBe('still [1,2] after 2 revision(s); expected [2,1]');
    expect(stats.categorized).toBe(true);
    expect(stats.seed_accuracy).toBe(1);
    const verifications = sim.requests.filter((r) => r.prompt.includes('"rank"'));
    expect(verifications.length).toBeGreaterThan(10);
    for (const r of verifications) expect(r.prompt).not.toMatch(/Ranks from the label|label_rank|标注给出的名次/);
    const rubric = readFileSync(ws.path('cache/experiments/exp/rubric-generate/rubric.txt'), 'utf8');
    expect(rubric).toMatch(/^Rubric 1:\nTheme: .+\n- Tip1: /);
    expect(rubric).toContain('brighter');
  }, 60_000);

  it('states the worst case before any call, and reuses a built artifact without contacting the judge', async () => {
    await workspaceWith();
    const estimate = await runRubricGenerate(ref(), { ...quiet, estimate: true });
    expect(estimate).toContain('6 seed pair(s), 3 criteria each, up to 2 revision(s): at most 43 judgements, 129 calls counting re-asks');
    expect(sim.requests).toHaveLength(0);
    await runRubricGenerate(ref(), quiet);
    const calls = sim.stats.requests;
    const again = await runRubricGenerate(ref(), quiet);
    expect(again).toContain('already built; no judge call made');
    expect(sim.stats.requests).toBe(calls);
  }, 60_000);

  for (const [fault, problem] of [
    ['tie', 'not a permutation'],
    ['wrong-length', 'has 3 entries but there are 2 candidates'],
  ] as const) {
    it(`fails verification on a ${fault} answer; when no seed survives it names every seed and writes no artifact`, async () => {
      await workspaceWith();
      sim.setOptions({ faults: [{ kind: fault, rate: 1 }] });
      const error = await runRubricGenerate(ref(), quiet).catch((e) => e);
      expect(error.message).toContain('no seed pair produced criteria that pass verification');
      for (let seed = 0; seed < 6; seed++) expect(error.message).toContain(`seed ${seed}: `);
      expect(error.message).toContain(problem);
      // Nothing left behind: no artifact, no temp folder, no lock (the kind's folder may exist, empty).
      const kindDir = ws.path('cache/artifacts/rubric-generate');
      expect(existsSync(kindDir) ? readdirSync(kindDir) : []).toEqual([]);
    }, 60_000);
  }
});

describe('verify and freeze', () => {
  it('measures the rubric against the no-rubric baseline, keeps the report when a threshold is missed, and freezes once', async () => {
    await workspaceWith();
    await runRubricGenerate(ref(), quiet);
    const summary = await runVerify(ref(), quiet);
    expect(summary).toContain('accuracy 90.0%');
    // Without a rubric the judge picks whichever image is shown first: the two orders always disagree.
    expect(summary).toContain('baseline (no rubric) 0.0%, gain +90.0 points');
    const report = JSON.parse(readFileSync(ws.path('cache/experiments/exp/verify/report.json'), 'utf8'));
    expect(report.with_rubric.summary.agreement).toBe(1);
    expect(report.baseline.summary.agreement).toBe(0);
    const ajv = new Ajv2020({ strict: false });
    addFormatsImport.default(ajv);
    for (const name of ['judge-report', 'verify-report']) ajv.addSchema(JSON.parse(readFileSync(join(repoRoot, `schemas/${name}.schema.json`), 'utf8')));
    const validate = ajv.getSchema('https://arr.dev/schemas/verify-report.schema.json')!;
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(existsSync(ws.path('cache/experiments/exp/verify/report.html'))).toBe(true);

    const frozen = await runFreeze(ref());
    expect(frozen).toContain('wrote rubrics/bright.v1.txt');
    const lock = JSON.parse(readFileSync(ws.path('rubrics/bright.v1.lock.json'), 'utf8'));
    expect(lock).toMatchObject({ name: 'bright', version: 1, judge_model: 'Qwen/Qwen3-VL-8B-Instruct', metrics: { accuracy: 0.9, baseline_accuracy: 0, gain: 0.9 }, thresholds: { min_accuracy: 0.9 } });
    expect(await runFreeze(ref())).toContain('already holds this rubric (nothing written)');

    // A threshold the rubric misses: verify fails naming it, the report stays, freeze refuses.
    writeFileSync(ws.path('experiments/exp.yaml'), readFileSync(ws.path('experiments/exp.yaml'), 'utf8').replace('min_accuracy: 0.9', 'min_accuracy: 0.95'));
    const calls = sim.stats.requests;
    const failed = await runVerify(ref(), quiet).catch((e) => e);
    expect(failed).toBeInstanceOf(ThresholdError);
    expect(failed.message).toContain('FAILED verify.min_accuracy: 0.900 < 0.95');
    expect(sim.stats.requests).toBe(calls); // thresholds are not part of the key: nothing re-judged
    expect(existsSync(ws.path('cache/experiments/exp/verify/report.json'))).toBe(true);
    await expect(runFreeze(ref())).rejects.toThrow('not freezing a rubric that misses its thresholds');
  }, 90_000);

  it('refuses a different text under a frozen version', async () => {
    await workspaceWith();
    await runRubricGenerate(ref(), quiet);
    await runVerify(ref(), quiet);
    await runFreeze(ref());
    // Another rubric (here a given one) frozen under the same name and version.
    ws.write('rubrics/other.txt', '1. The brighter image is preferred.\n');
    writeFileSync(ws.path('experiments/exp.yaml'), readFileSync(ws.path('experiments/exp.yaml'), 'utf8').replace('  seed: ../data/seed.jsonl\n', '  from: ../rubrics/other.txt\n  allow_unlocked: true\n'));
    await runRubricGenerate(ref(), quiet);
    await runVerify(ref(), quiet);
    await expect(runFreeze(ref())).rejects.toThrow(/freeze\.version/);
    expect(readFileSync(ws.path('rubrics/bright.v1.txt'), 'utf8')).toMatch(/^Rubric 1:/);
  }, 60_000);

  it('reuses a frozen rubric through rubric.from with no generation at all', async () => {
    await workspaceWith();
    ws.write('rubrics/imported/given.txt', 'Rubric 1:\nTheme: Brightness\n- Tip1: The brighter image is preferred.\n');
    await writeImportedLock(ws.path('rubrics/imported/given.txt'), { name: 'given', importedFrom: 'given.txt' });
    writeFileSync(ws.path('experiments/exp.yaml'), readFileSync(ws.path('experiments/exp.yaml'), 'utf8').replace('  seed: ../data/seed.jsonl\n', '  from: ../rubrics/imported/given.txt\n'));
    expect(await runRubricGenerate(ref(), quiet)).toContain('reusing the frozen rubric');
    expect(sim.requests).toHaveLength(0);
    expect(await runVerify(ref(), quiet)).toContain('accuracy 90.0%');
  }, 60_000);
});

describe('resuming a killed generation', () => {
  it('repeats few calls after a kill', async () => {
    await workspaceWith();
    await sim.close();
    sim = await startSimVlm({ rule: makeRubricSimRule(), latencyMs: 60 });
    const signature = (r: (typeof sim.requests)[number]) => JSON.stringify(r.body.messages);
    const args = [join(repoRoot, 'bin/arr.mjs'), 'build', 'rubric-generate', 'exp'];
    const env = { SIM_URL: sim.url, NO_COLOR: '1' };
    const child = execa('node', args, { cwd: ws.root, env, reject: false });
    await expect.poll(() => sim.requests.length, { timeout: 30_000, interval: 10 }).toBeGreaterThanOrEqual(20);
    child.kill('SIGKILL');
    await child;
    const first = new Set(sim.requests.map(signature));
    const before = sim.requests.length;
    const rerun = await execa('node', args, { cwd: ws.root, env, reject: false });
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    const second = sim.requests.slice(before);
    const repeated = second.filter((r) => first.has(signature(r))).length;
    // Only calls in flight at the kill (at most judge.concurrency) are asked again.
    expect(repeated).toBeLessThanOrEqual(4);
    console.log(`resume: ${repeated} of ${second.length} calls repeated (${((repeated / (before + second.length - repeated)) * 100).toFixed(1)}% of the build's calls)`);
  }, 90_000);
});
