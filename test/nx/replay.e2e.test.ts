// Nx and the engine agree: a replay from Nx's cache leaves real artifacts; two builders of one key pay
// once; training fails before any judge call on a machine that cannot train. Real nx, real processes.
import { execa } from 'execa';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRubricSimRule } from '../helpers/rubric-sim.js';
import { startSimVlm, type SimVlm } from '../helpers/sim-vlm.js';
import { makeWorkspace, writePng, writeT2iExperiment, type TestWorkspace } from '../helpers/workspace.js';
import { runNx } from '../helpers/nx.js';

let ws: TestWorkspace;
let sim: SimVlm;
const env = () => ({ ARR_JUDGE_URL: sim.url });

const nx = (args: string[]) => runNx(ws.root, args, env());
async function arr(args: string[]) {
  const r = await execa('node', [ws.path('bin/arr.mjs'), ...args], {
    cwd: ws.root,
    env: env(),
    reject: false,
    all: true,
  });
  return { code: r.exitCode, out: r.all ?? '', stdout: r.stdout };
}
const manifest = (name: string, description: string) =>
  `task: t2i\nextends: ./base/judge.yaml\nrubric: { seed: ../data/bright/pairs.jsonl, per_pair: 2, max_epochs: 1, task_description: ${description} }\nverify: { test: ../data/bright/pairs.jsonl }\nfreeze: { name: ${name}, version: 1 }\n`;

beforeAll(async () => {
  ws = makeWorkspace({ nx: true });
  await writeT2iExperiment(ws);
  for (let i = 0; i < 4; i++) await writePng(ws.path(`data/bright/b/${i}.png`), 0);
  const lines = [0, 1, 2, 3].map((i) =>
    JSON.stringify({
      query: `pair ${i}`,
      response: i % 2 ? [`b/${i}.png`, `../t2i/images/${i}.png`] : [`../t2i/images/${i}.png`, `b/${i}.png`],
      label_rank: i % 2 ? [2, 1] : [1, 2],
    }),
  );
  ws.write('data/bright/pairs.jsonl', lines.join('\n') + '\n');
  sim = await startSimVlm({ rule: makeRubricSimRule() });
}, 60_000);
afterAll(async () => {
  await sim?.close();
  ws?.cleanup();
});

describe('Nx replay leaves the artifacts', () => {
  it('cache/artifacts deleted, Nx cache kept: a replay puts every artifact back, verified, with 0 judge calls', async () => {
    ws.write('experiments/bright.yaml', manifest('bright', 'Which image is brighter?'));
    const first = await nx(['run', 'bright:freeze']);
    expect(first.code, first.out).toBe(0);
    const calls = sim.stats.requests;

    rmSync(ws.path('cache/artifacts'), { recursive: true });
    const replay = await nx(['run', 'bright:freeze']);
    expect(replay.code, replay.out).toBe(0);
    expect(replay.out).toMatch(/Cache:\s+4\/4 hit/);

    const status = await arr(['status', 'bright', '--json']);
    expect(status.code, status.out).toBe(0);
    const states = Object.fromEntries(
      JSON.parse(status.stdout).targets.map((t: { target: string; state: string }) => [t.target, t]),
    );
    for (const target of ['resolve', 'rubric-generate', 'verify', 'freeze'])
      expect(states[target]).toMatchObject({ state: 'fresh', built_by: 'bright' });
    expect((await arr(['status', 'bright', '--check'])).code).toBe(0);
    for (const kind of ['resolve', 'rubric-generate', 'verify', 'freeze'])
      expect(readdirSync(ws.path(`cache/artifacts/${kind}`)).filter((n) => /^[0-9a-f]{64}$/.test(n))).toHaveLength(1);
    expect((await arr(['cache', 'verify'])).code).toBe(0);
    const plan = await arr(['train', '--experiment', 'bright', '--plan']);
    expect(plan.out).toContain('ok   rubric: rubrics/bright.v1.txt matches its lock');

    // Without Nx's replay: the targets themselves adopt what the Nx outputs hold.
    rmSync(ws.path('cache/artifacts'), { recursive: true });
    const rerun = await nx(['run', 'bright:freeze', '--skip-nx-cache']);
    expect(rerun.code, rerun.out).toBe(0);
    expect(rerun.out).toContain('already built; no judge call made');
    expect(sim.stats.requests).toBe(calls);
  }, 240_000);

  it('preprocess is never replayed by Nx (its embeddings cannot travel in the task cache)', async () => {
    const show = await nx(['show', 'project', 'bright', '--json']);
    const project = JSON.parse(show.out.slice(show.out.indexOf('{')));
    expect(project.targets.preprocess.cache).toBe(false);
    expect(project.targets['rubric-generate'].inputs).toContainEqual({ env: 'ARR_JUDGE_BACKEND' });
  }, 60_000);
});

describe('one builder per key', () => {
  it('two rubric-generate processes at once cost the judge calls of one build', async () => {
    ws.write('experiments/duo.yaml', manifest('duo', 'Which picture is paler?'));
    expect((await arr(['build', 'resolve', 'duo'])).code).toBe(0);
    let before = sim.stats.requests;
    const one = await arr(['build', 'rubric-generate', 'duo']);
    expect(one.code, one.out).toBe(0);
    const single = sim.stats.requests - before;
    expect(single).toBeGreaterThan(0);

    // The same key again from nothing: no artifact, no Nx-output copy, no cached judge response.
    for (const dir of ['cache/artifacts/rubric-generate', 'cache/judge', 'cache/experiments/duo/rubric-generate'])
      rmSync(ws.path(dir), { recursive: true });
    before = sim.stats.requests;
    const [a, b] = await Promise.all([
      arr(['build', 'rubric-generate', 'duo']),
      arr(['build', 'rubric-generate', 'duo']),
    ]);
    expect(a.code, a.out).toBe(0);
    expect(b.code, b.out).toBe(0);
    // One build's worth. The count of one build itself varies by a call between runs (the judge client does
    // not merge identical requests in flight, so timing decides some response-cache hits: two identical requests
    // in flight at once both reach the judge, one after the other hits the response cache); two paying
    // builders would cost twice as much.
    const both = sim.stats.requests - before;
    expect(both).toBeGreaterThanOrEqual(single - 2);
    expect(both).toBeLessThanOrEqual(single + 2);
    expect(a.out + b.out).toMatch(/waiting for rubric-generate\/[0-9a-f]{12}: pid \d+ on .+ is building it/);
    expect(
      [a.out, b.out].filter((out) => /built by another process meanwhile; no judge call made/.test(out)),
    ).toHaveLength(1);
  }, 240_000);
});

describe('nx run <exp>:train on a machine that cannot train', () => {
  it('fails before any judge call or encoding, listing every failed check at once', async () => {
    ws.write('experiments/early.yaml', manifest('early', 'Which one is darker?'));
    const before = sim.stats.requests;
    const run = await nx(['run', 'early:train']);
    expect(run.code).not.toBe(0);
    expect(run.out).toContain('early (train-flux, checked before building anything): not launching; fix these first');
    expect(run.out).toContain('FAIL trainer:');
    expect(run.out).toContain('FAIL base-model:');
    expect(run.out).toContain('FAIL gpus:');
    expect(sim.stats.requests).toBe(before);
    expect(existsSync(ws.path('cache/artifacts/embedding'))).toBe(false);
  }, 120_000);
});
