// rubric-generate → verify → freeze against a simulated judge whose right answer is "the brighter image"
// and which only judges by brightness when the rubric says so (test/helpers/rubric-sim.ts).
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsImport from 'ajv-formats';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runFreeze } from '../../src/targets/freeze.js';
import { runRubricGenerate } from '../../src/targets/rubric-generate.js';
import { runVerify, ThresholdError } from '../../src/targets/verify.js';
import { makeRubricSimRule } from '../helpers/rubric-sim.js';
import { startSimVlm, type SimVlm } from '../helpers/sim-vlm.js';
import { makeWorkspace, repoRoot, type TestWorkspace } from '../helpers/workspace.js';
import { writePipelineWorkspace } from './pipeline-workspace.js';
import { writeImportedLock } from '../../src/rubric/locked.js';

let ws: TestWorkspace;
let sim: SimVlm;

const ref = () => ({ experiment: 'exp', workspaceRoot: ws.root, env: { SIM_URL: sim.url } });
const quiet = { log: () => {} };

const startingSimUrl = process.env.SIM_URL;
beforeEach(async () => {
  ws = makeWorkspace();
  sim = await startSimVlm({ rule: makeRubricSimRule() });
  process.env.SIM_URL = sim.url;
});
afterEach(async () => {
  await sim.close();
  ws.cleanup();
  // Unit files share a worker (isolate: false): put the environment back.
  if (startingSimUrl === undefined) delete process.env.SIM_URL;
  else process.env.SIM_URL = startingSimUrl;
});

describe('rubric-generate', () => {
  it('keeps, revises and drops seeds as it should, and never shows the label to verification', async () => {
    await writePipelineWorkspace(ws);
    const summary = await runRubricGenerate(ref(), quiet);
    expect(summary).toContain('kept 4/6 seed pair(s)');
    expect(summary).toContain('dropped seed 4: still [1,2] after 2 revision(s); expected [2,1]');
    const dir = readFileSync(ws.path('cache/experiments/exp/rubric-generate/stamp.json'), 'utf8');
    const key = JSON.parse(dir).key;
    const trace = readFileSync(ws.path(`cache/artifacts/rubric-generate/${key}/trace.jsonl`), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const bySeed = (seed: number, purpose: string) =>
      trace.filter((t) => t.seed === seed && t.purpose === purpose).length;
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
    await writePipelineWorkspace(ws);
    const estimate = await runRubricGenerate(ref(), { ...quiet, estimate: true });
    expect(estimate).toContain(
      '6 seed pair(s), 3 criteria each, up to 2 revision(s): at most 43 judgements, 129 calls counting re-asks',
    );
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
      await writePipelineWorkspace(ws);
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
    await writePipelineWorkspace(ws);
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
    for (const name of ['judge-report', 'verify-report'])
      ajv.addSchema(JSON.parse(readFileSync(join(repoRoot, `schemas/${name}.schema.json`), 'utf8')));
    const validate = ajv.getSchema('https://arr.dev/schemas/verify-report.schema.json')!;
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(existsSync(ws.path('cache/experiments/exp/verify/report.html'))).toBe(true);

    const frozen = await runFreeze(ref());
    expect(frozen).toContain('wrote rubrics/bright.v1.txt');
    const lock = JSON.parse(readFileSync(ws.path('rubrics/bright.v1.lock.json'), 'utf8'));
    expect(lock).toMatchObject({
      name: 'bright',
      version: 1,
      judge_model: 'Qwen/Qwen3-VL-8B-Instruct',
      metrics: { accuracy: 0.9, baseline_accuracy: 0, gain: 0.9 },
      thresholds: { min_accuracy: 0.9 },
    });
    expect(await runFreeze(ref())).toContain('already holds this rubric (nothing written)');

    // A threshold the rubric misses: verify fails naming it, the report stays, freeze refuses.
    writeFileSync(
      ws.path('experiments/exp.yaml'),
      readFileSync(ws.path('experiments/exp.yaml'), 'utf8').replace('min_accuracy: 0.9', 'min_accuracy: 0.95'),
    );
    const calls = sim.stats.requests;
    const failed = await runVerify(ref(), quiet).catch((e) => e);
    expect(failed).toBeInstanceOf(ThresholdError);
    expect(failed.message).toContain('FAILED verify.min_accuracy: 0.900 < 0.95');
    expect(sim.stats.requests).toBe(calls); // thresholds are not part of the key: nothing re-judged
    expect(existsSync(ws.path('cache/experiments/exp/verify/report.json'))).toBe(true);
    await expect(runFreeze(ref())).rejects.toThrow('not freezing a rubric that misses its thresholds');
  }, 90_000);

  it('refuses a different text under a frozen version', async () => {
    await writePipelineWorkspace(ws);
    await runRubricGenerate(ref(), quiet);
    await runVerify(ref(), quiet);
    await runFreeze(ref());
    // Another rubric (here a given one) frozen under the same name and version.
    ws.write('rubrics/other.txt', '1. The brighter image is preferred.\n');
    writeFileSync(
      ws.path('experiments/exp.yaml'),
      readFileSync(ws.path('experiments/exp.yaml'), 'utf8').replace(
        '  seed: ../data/seed.jsonl\n',
        '  from: ../rubrics/other.txt\n  allow_unlocked: true\n',
      ),
    );
    await runRubricGenerate(ref(), quiet);
    await runVerify(ref(), quiet);
    await expect(runFreeze(ref())).rejects.toThrow(/freeze\.version/);
    expect(readFileSync(ws.path('rubrics/bright.v1.txt'), 'utf8')).toMatch(/^Rubric 1:/);
  }, 60_000);

  it('reuses a frozen rubric through rubric.from with no generation at all', async () => {
    await writePipelineWorkspace(ws);
    ws.write('rubrics/imported/given.txt', 'Rubric 1:\nTheme: Brightness\n- Tip1: The brighter image is preferred.\n');
    await writeImportedLock(ws.path('rubrics/imported/given.txt'), { name: 'given', importedFrom: 'given.txt' });
    writeFileSync(
      ws.path('experiments/exp.yaml'),
      readFileSync(ws.path('experiments/exp.yaml'), 'utf8').replace(
        '  seed: ../data/seed.jsonl\n',
        '  from: ../rubrics/imported/given.txt\n',
      ),
    );
    expect(await runRubricGenerate(ref(), quiet)).toContain('reusing the frozen rubric');
    expect(sim.requests).toHaveLength(0);
    expect(await runVerify(ref(), quiet)).toContain('accuracy 90.0%');
  }, 60_000);
});
