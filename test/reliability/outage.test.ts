// Item 1 of the reliability catalogue: a judge outage never becomes a stored result. The failed calls
// are counted, the build exits 1 and stores nothing, and the next run asks only the calls that failed.
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeKeys } from '../../src/keys/compute.js';
import { loadExperiment } from '../../src/manifest/load.js';
import { ArtifactStore } from '../../src/store/artifacts.js';
import { HashMemo } from '../../src/store/hash.js';
import { runRubricGenerate } from '../../src/targets/rubric-generate.js';
import { runVerify } from '../../src/targets/verify.js';
import { JudgeFailuresError } from '../../src/targets/judge-failures.js';
import { makeRubricSimRule } from '../helpers/rubric-sim.js';
import { startSimVlm, type SimVlm } from '../helpers/sim-vlm.js';
import { makeWorkspace, type TestWorkspace } from '../helpers/workspace.js';

let ws: TestWorkspace;
let sim: SimVlm;

async function grey(rel: string, level: number) {
  await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: level, g: level, b: level } } })
    .png()
    .toFile(ws.path(rel));
}

async function pairs(file: string, n: number, offset: number) {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    await grey(`data/img/${offset + i}b.png`, 180 + i);
    await grey(`data/img/${offset + i}d.png`, 40 + i);
    const first = i % 2 === 0;
    const [b, d] = [`img/${offset + i}b.png`, `img/${offset + i}d.png`];
    lines.push(
      JSON.stringify({
        query: `EASY ${offset + i}`,
        response: first ? [b, d] : [d, b],
        label_rank: first ? [1, 2] : [2, 1],
      }),
    );
  }
  ws.write(file, lines.join('\n') + '\n');
}

function manifest(extra: { verify?: string; rubric?: string; timeoutS?: number; concurrency?: number } = {}) {
  const { timeoutS = 2, concurrency = 4 } = extra;
  ws.write(
    'experiments/exp.yaml',
    `task: t2i
judge: { base_url: "\${SIM_URL}", concurrency: ${concurrency}, max_tokens: 256, timeout_s: ${timeoutS}, retries: 0, reasks: 0 }
rubric:
  seed: ../data/seed.jsonl
  task_description: Compare two renders.
  per_pair: 2
  max_epochs: 1
  categorize: { enabled: false }
${extra.rubric ?? ''}
verify:
  test: ../data/test.jsonl
${extra.verify ?? ''}
`,
  );
}

const ref = () => ({ experiment: 'exp', workspaceRoot: ws.root, env: { SIM_URL: sim.url } });
const logs: string[] = [];
const quiet = { log: (line: string) => void logs.push(line) };

async function artifactExists(target: 'verify' | 'rubric-generate'): Promise<boolean> {
  const loaded = loadExperiment(ws.path('experiments/exp.yaml'), { workspaceRoot: ws.root, env: { SIM_URL: sim.url } });
  const keys = await computeKeys(loaded.experiment!, { workspaceRoot: ws.root, memo: new HashMemo(ws.path('cache')) });
  return new ArtifactStore(ws.path('cache')).has(target, keys[target].key);
}

/** Request bodies (images shortened to their hashes) of requests `from`..`to`, for "asked again?" checks. */
const bodies = (from: number, to = sim.requests.length) =>
  sim.requests.slice(from, to).map((r) => JSON.stringify(r.body.messages));

beforeEach(async () => {
  ws = makeWorkspace();
  logs.length = 0;
  sim = await startSimVlm({ rule: makeRubricSimRule() });
  ws.write('data/img/.keep', '');
  await pairs('data/seed.jsonl', 4, 0);
  await pairs('data/test.jsonl', 8, 100);
});
afterEach(async () => {
  await sim.close();
  ws.cleanup();
});

describe('reliability: judge outages', () => {
  it('item 1: a judge that starts hanging during verify stores nothing, and the next run asks only the failed calls', async () => {
    // A short per-call timeout and room for every hung call at once keep the outage to two waits of 1 s
    // (timeout_s and concurrency are not part of any key, so they change nothing stored).
    manifest({ timeoutS: 1, concurrency: 12 });
    await runRubricGenerate(ref(), quiet);
    const start = sim.requests.length;
    // 8 pairs, both orders, with and without the rubric: 32 judgements; the judge hangs after 12 of them.
    sim.setOptions({ faults: [{ kind: 'hang', after: start + 12 }] });
    const failure = await runVerify(ref(), quiet).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(JudgeFailuresError);
    expect((failure as JudgeFailuresError).exitCode).toBe(1);
    expect((failure as Error).message).toBe(
      'verify exp: 20 of 32 judge calls failed (timeout after 1 s); nothing was stored',
    );
    expect(await artifactExists('verify')).toBe(false);

    const answered = bodies(start, start + 12);
    sim.setOptions({ faults: [] });
    const before = sim.requests.length;
    const summary = await runVerify(ref(), quiet);
    expect(summary).toContain('failures 0');
    expect(sim.requests.length - before).toBe(20);
    for (const body of bodies(before)) expect(answered).not.toContain(body);
    expect(await artifactExists('verify')).toBe(true);
  }, 60_000);

  it('item 1: rubric-generate with failed seed generations exits 1 and keeps no rubric; a healthy rerun re-asks none of the answered calls', async () => {
    manifest();
    sim.setOptions({ faults: [{ kind: '500', after: 3 }] });
    const failure = await runRubricGenerate(ref(), quiet).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(JudgeFailuresError);
    expect((failure as Error).message).toMatch(
      /^rubric-generate exp: \d+ of \d+ judge calls failed \(HTTP 500\); nothing was stored$/m,
    );
    expect(await artifactExists('rubric-generate')).toBe(false);

    const answered = bodies(0, 3);
    sim.setOptions({ faults: [] });
    const before = sim.requests.length;
    await runRubricGenerate(ref(), quiet);
    for (const body of bodies(before)) expect(answered).not.toContain(body);
    expect(await artifactExists('rubric-generate')).toBe(true);
  }, 60_000);

  it("item 1: verify.max_failures accepts some; a report built with more than today's limit is rebuilt, asking only its failed calls", async () => {
    manifest({ verify: '  max_failures: 32' });
    await runRubricGenerate(ref(), quiet);
    const start = sim.requests.length;
    sim.setOptions({ faults: [{ kind: '500', after: start + 28 }] });
    const accepted = await runVerify(ref(), quiet);
    expect(accepted).toMatch(/failures [1-9]/);
    expect(await artifactExists('verify')).toBe(true);

    sim.setOptions({ faults: [] });
    manifest({ verify: '  max_failures: 0' });
    const before = sim.requests.length;
    await runVerify(ref(), quiet);
    expect(logs.join('\n')).toMatch(
      /the stored report has 4 failed judge call\(s\), more than verify.max_failures \(0\); asking them again/,
    );
    expect(sim.requests.length - before).toBe(4);
    const report = JSON.parse(readFileSync(ws.path('cache/experiments/exp/verify/report.json'), 'utf8'));
    expect(report.usage.failures).toBe(0);
  }, 60_000);

  it('item 1: a verdict is a result, not a failure: a judge that answers wrongly still stores its report', async () => {
    manifest();
    await runRubricGenerate(ref(), quiet);
    // Every answer puts the first image first: wrong half the time, but answered.
    sim.setOptions({ rule: () => ({ rank: [1, 2], reason: 'first' }) });
    const summary = await runVerify(ref(), quiet);
    expect(summary).toContain('failures 0');
    expect(await artifactExists('verify')).toBe(true);
  }, 60_000);
});
