// The smaller parts of issue 13: each verify diagnosis from its numbers, `arr runs` over run records of
// every vintage, compare's sorting and criteria count, and `arr build` sweeping a repeated --set.
import { execa } from 'execa';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { setCombinations } from '../../src/commands/shared.js';
import { renderCompareCsv } from '../../src/report/compare-render.js';
import { diagnoseVerify, pairsToDecide, wilsonAt } from '../../src/report/verify-diagnosis.js';
import { listRuns } from '../../src/state/runs.js';
import { countCriteria, sortComparison, type Comparison } from '../../src/targets/compare.js';
import { makeWorkspace, writeT2iExperiment, type TestWorkspace } from '../helpers/workspace.js';

type Summary = {
  total: number;
  judged: number;
  correct: number;
  accuracy: number;
  ci95: [number, number];
  agreement: number | null;
  disagreements: number;
  failures: number;
  stoppedBy: null;
};
const summary = (correct: number, total: number, extra: Partial<Summary> = {}): Summary => ({
  total,
  judged: total,
  correct,
  accuracy: correct / total,
  ci95: wilsonAt(correct / total, total),
  agreement: 1,
  disagreements: 0,
  failures: 0,
  stoppedBy: null,
  ...extra,
});
const report = (s: Summary, baseline: Summary | null, min_accuracy = 0.6) => ({
  experiment: 'exp',
  passed: false,
  both_orders: true,
  with_rubric: { summary: s, items: [] },
  baseline: baseline ? { summary: baseline, items: [] } : null,
  gain: baseline ? s.accuracy - baseline.accuracy : null,
  thresholds: { min_accuracy, min_agreement: 0, min_gain: 0 },
});
const causes = (r: ReturnType<typeof report>) => diagnoseVerify(r).map((d) => d.cause);

describe('verify diagnosis', () => {
  it('blames position bias when the orders disagree, and not the rubric', () => {
    const d = diagnoseVerify(
      report(summary(0, 10, { agreement: 0, disagreements: 10 }), summary(0, 10, { agreement: 0 })),
    );
    expect(d.map((x) => x.cause)).toEqual(['position-bias']);
    expect(d[0].actions.join(' ')).toMatch(/arr judge doctor --experiment exp.*verify\.both_orders.*stronger judge/);
  });

  it('says the rubric does not help when the gain is not positive', () => {
    expect(causes(report(summary(5, 10), summary(6, 10)))).toContain('no-gain');
  });

  it('says how many test pairs would decide a check whose interval straddles the threshold', () => {
    const d = diagnoseVerify(report(summary(11, 20), summary(5, 20), 0.6)).find((x) => x.cause === 'too-few-pairs')!;
    const needed = pairsToDecide(0.55, 0.6)!;
    // At 55% observed, the upper bound drops below 60% only with a few hundred pairs.
    expect(needed).toBeGreaterThan(300);
    expect(wilsonAt(0.55, needed)[1]).toBeLessThan(0.6);
    expect(wilsonAt(0.55, needed - 1)[1]).toBeGreaterThanOrEqual(0.6);
    expect(d.actions[0]).toContain(`about ${needed} pairs would make the check decisive (${needed - 20} more)`);
    expect(pairsToDecide(0.6, 0.6)).toBeNull();
  });

  it('points at the endpoint when many judgements failed', () => {
    expect(causes(report(summary(3, 10, { failures: 4 }), summary(2, 10)))[0]).toBe('endpoint-failures');
  });

  it('says nothing about a passed verify', () => {
    expect(diagnoseVerify({ ...report(summary(0, 10, { agreement: 0 }), null), passed: true })).toEqual([]);
  });
});

describe('compare parts', () => {
  const c: Comparison = {
    differing: ['rubric.per_pair'],
    experiments: [
      {
        name: 'a',
        params: { 'rubric.per_pair': 5 },
        metrics: {
          accuracy: 0.7,
          ci_low: 0.5,
          ci_high: 0.8,
          baseline: 0.5,
          gain: 0.2,
          agreement: 1,
          failures: 0,
          calls: 10,
          tokens: 100,
          cost: null,
          criteria: 4,
        },
        states: { verify: 'fresh' },
      },
      {
        name: 'b, "quoted"',
        params: { 'rubric.per_pair': 3 },
        metrics: {
          accuracy: null,
          ci_low: null,
          ci_high: null,
          baseline: null,
          gain: null,
          agreement: null,
          failures: null,
          calls: null,
          tokens: null,
          cost: null,
          criteria: null,
        },
        states: { verify: 'never built' },
      },
      {
        name: 'c',
        params: { 'rubric.per_pair': 4 },
        metrics: {
          accuracy: 0.9,
          ci_low: 0.7,
          ci_high: 0.95,
          baseline: 0.5,
          gain: 0.4,
          agreement: 1,
          failures: 0,
          calls: 4,
          tokens: 40,
          cost: null,
          criteria: 2,
        },
        states: { verify: 'fresh' },
      },
    ],
  };
  it('sorts metrics best first with missing values last, parameters ascending', () => {
    expect(sortComparison(c, 'accuracy').experiments.map((e) => e.name)).toEqual(['c', 'a', 'b, "quoted"']);
    expect(sortComparison(c, 'calls').experiments.map((e) => e.name)).toEqual(['c', 'a', 'b, "quoted"']);
    expect(sortComparison(c, 'rubric.per_pair').experiments.map((e) => e.name)).toEqual(['b, "quoted"', 'c', 'a']);
  });
  it('quotes CSV cells that need it', () => {
    expect(renderCompareCsv(c).split('\r\n')[2]).toBe('"b, ""quoted""",3,,,,,,,,,,,,never built');
  });
  it('counts tips of a categorised rubric and items of a list', () => {
    expect(countCriteria('Rubric 1:\nTheme: A\n- Tip1: x\n- Tip2: y\n\nRubric 2:\nTheme: B\n- Tip1: z\n')).toBe(3);
    expect(countCriteria('1. one\n\n2. two\n')).toBe(2);
    expect(countCriteria('anything goes\n')).toBe(0);
  });
});

let ws: TestWorkspace | undefined;
afterEach(() => ws?.cleanup());

describe('arr runs', () => {
  it('lists runs of every vintage: finished, never started, still running, unreadable', async () => {
    ws = makeWorkspace();
    ws.write(
      'cache/runs/20261130T100000Z-aaaa/run.json',
      JSON.stringify({
        schema: 1,
        run_id: '20261130T100000Z-aaaa',
        experiment: 'exp-a',
        target: 'train-flux',
        status: 'succeeded',
        started: '2026-11-30T10:00:00.000Z',
        ended: '2026-11-30T10:05:00.000Z',
        duration_s: 300,
        exit_code: 0,
        inputs: { rubric: { path: '/ws/rubrics/exp-a.v1.txt', sha256: 'ab'.repeat(32) } },
        reward_service: {
          url: 'http://127.0.0.1:1',
          stats: { requests: 40, items: 160, failures: 2, mean_reward: 0.61 },
        },
      }),
    );
    ws.write(
      'cache/runs/20261130T110000Z-bbbb/run.json',
      JSON.stringify({
        schema: 1,
        run_id: '20261130T110000Z-bbbb',
        experiment: 'exp-b',
        target: 'train-edit',
        status: 'failed',
        started: '2026-11-30T11:00:00.000Z',
        ended: '2026-11-30T11:00:01.500Z',
        exit_code: null,
        error: 'the reward service did not start: port in use',
      }),
    );
    ws.write(
      'cache/runs/20261130T120000Z-cccc/run.json',
      JSON.stringify({
        run_id: '20261130T120000Z-cccc',
        experiment: 'exp-a',
        status: 'running',
        started: new Date(Date.now() - 60_000).toISOString(),
        reward_service: { url: 'x' },
      }),
    );
    ws.write('cache/runs/20261130T130000Z-dddd/run.json', '{ not json');
    const runs = await listRuns(ws.root);
    expect(runs.map((r) => r.status)).toEqual(['unknown', 'running', 'failed', 'succeeded']);
    const done = runs[3];
    expect(done).toMatchObject({
      experiment: 'exp-a',
      duration_s: 300,
      exit_code: 0,
      rubric: { file: '/ws/rubrics/exp-a.v1.txt' },
      reward: { requests: 40, failures: 2, mean_reward: 0.61 },
    });
    expect(runs[2]).toMatchObject({ duration_s: 1.5, reward: null, error: expect.stringContaining('did not start') });
    expect(runs[1].duration_s).toBeGreaterThanOrEqual(59);
    expect(runs[0].error).toContain('unreadable run.json');
    expect((await listRuns(ws.root, 'exp-a')).map((r) => r.run_id)).toEqual([
      '20261130T120000Z-cccc',
      '20261130T100000Z-aaaa',
    ]);
  });
});

describe('arr build with a field set more than once', () => {
  it('builds every combination', async () => {
    expect(
      setCombinations([
        ['a', 1],
        ['b', 'x'],
        ['a', 2],
        ['c', true],
      ]),
    ).toEqual([
      { a: 1, b: 'x', c: true },
      { a: 2, b: 'x', c: true },
    ]);
    ws = makeWorkspace({ nx: true });
    await writeT2iExperiment(ws);
    const r = await execa(
      process.execPath,
      [
        ws.path('bin/arr.mjs'),
        'build',
        'resolve',
        'exp-a',
        '--set',
        'train.learning_rate=1.0e-5',
        '--set',
        'train.learning_rate=2.0e-5',
        '--set',
        'judge.concurrency=2',
      ],
      { cwd: ws.root, reject: false },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('== 0.00001 (train.learning_rate=0.00001)');
    expect(r.stdout).toContain('resolve exp-a--0.00002:');
    expect(readdirSync(join(ws.root, 'cache/artifacts/resolve')).filter((d) => !d.startsWith('.'))).toHaveLength(2);
    // Each combination is an experiment of its own, with its own outputs.
    expect(readdirSync(join(ws.root, 'cache/experiments')).sort()).toEqual(['exp-a--0.00001', 'exp-a--0.00002']);

    // arr validate checks every member of a matrix and names the one whose value is wrong.
    ws.write(
      'experiments/sweep.yaml',
      'task: t2i\nextends: ./base/judge.yaml\nrubric: { seed: ../data/t2i/seed.jsonl }\nmatrix:\n  rubric.per_pair: [3, 0]\n',
    );
    const v = await execa(process.execPath, [ws.path('bin/arr.mjs'), 'validate', 'experiments/sweep.yaml'], {
      cwd: ws.root,
      reject: false,
    });
    expect(v.exitCode).toBe(1);
    expect(v.stdout).toMatch(/experiments\/sweep\.yaml:5:\d+ rubric\.per_pair: sweep--0: must be >= 1/);
    expect(v.stdout).not.toContain('sweep--3:');
  }, 60_000);
});
