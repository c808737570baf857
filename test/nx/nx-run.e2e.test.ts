// A real `nx run` in a temporary copy of the workspace: Nx's cache replays resolve only while its inputs are unchanged.
import { execa } from 'execa';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRubricSimRule } from '../helpers/rubric-sim.js';
import { startSimVlm } from '../helpers/sim-vlm.js';
import { makeWorkspace, writePng, writeT2iExperiment, type TestWorkspace } from '../helpers/workspace.js';
import { runNx } from '../helpers/nx.js';

let ws: TestWorkspace;
const nx = (args: string[], env: Record<string, string> = {}) => runNx(ws.root, args, env);
const ranFresh = (out: string) => /Cache:\s+0\/1 hit/.test(out);
const hit = (out: string) => /Cache:\s+1\/1 hit/.test(out);

beforeAll(async () => {
  ws = makeWorkspace({ nx: true });
  await writeT2iExperiment(ws);
  ws.write(
    'experiments/broken.yaml',
    'task: t2i\njudge:\n  concurrency: 0\nrubric: { seed: ../data/t2i/seed.jsonl }\n',
  );
  ws.write('experiments/unparseable.yaml', 'task: [t2i\n');
}, 60_000);
afterAll(() => ws?.cleanup());

describe('nx run <experiment>:resolve', () => {
  it('lists one project per experiments/*.yaml, not the bases, even with broken manifests beside them', async () => {
    const { code, out } = await nx(['show', 'projects']);
    expect(code).toBe(0);
    expect(
      out
        .split('\n')
        .filter((l) => !l.startsWith('@'))
        .sort(),
    ).toEqual(expect.arrayContaining(['broken', 'exp-a', 'unparseable']));
    expect(out).not.toMatch(/^judge$/m);
  }, 60_000);

  it('builds, then replays from the cache, and restores deleted outputs', async () => {
    const first = await nx(['run', 'exp-a:resolve']);
    expect(first.code, first.out).toBe(0);
    expect(ranFresh(first.out)).toBe(true);
    const lock = ws.path('cache/experiments/exp-a/resolve/lock.json');
    const written = readFileSync(lock, 'utf8');

    const second = await nx(['run', 'exp-a:resolve']);
    expect(second.code).toBe(0);
    expect(hit(second.out)).toBe(true);

    rmSync(ws.path('cache/experiments'), { recursive: true });
    const third = await nx(['run', 'exp-a:resolve']);
    expect(hit(third.out)).toBe(true);
    expect(readFileSync(lock, 'utf8')).toBe(written);
  }, 120_000);

  it('re-runs after a seed image changes', async () => {
    await writePng(ws.path('data/t2i/images/1.png'), 77);
    const run = await nx(['run', 'exp-a:resolve']);
    expect(run.code, run.out).toBe(0);
    expect(ranFresh(run.out)).toBe(true);
  }, 120_000);

  it('re-runs when an env variable the manifest refers to changes, and not when the api key does', async () => {
    const model = await nx(['run', 'exp-a:resolve'], { ARR_JUDGE_MODEL: 'other/model' });
    expect(ranFresh(model.out)).toBe(true);
    expect(
      JSON.parse(readFileSync(ws.path('cache/experiments/exp-a/resolve/lock.json'), 'utf8')).resolved.judge.model,
    ).toBe('other/model');
    const key = await nx(['run', 'exp-a:resolve'], { ARR_JUDGE_MODEL: 'other/model', ARR_JUDGE_API_KEY: 'sk-changed' });
    expect(hit(key.out)).toBe(true);
  }, 120_000);

  it('fails a broken manifest with its validation errors and writes nothing to cache/', async () => {
    const run = await nx(['run', 'broken:resolve']);
    expect(run.code).not.toBe(0);
    expect(run.out).toContain('experiments/broken.yaml:3:3 judge.concurrency: must be >= 1');
    expect(existsSync(ws.path('cache/experiments/broken'))).toBe(false);
    const bad = await nx(['run', 'unparseable:resolve']);
    expect(bad.out).toMatch(/experiments\/unparseable\.yaml:\d+:\d+ invalid YAML/);
  }, 120_000);

  it('re-runs when a file outside the workspace changes (hashed through a runtime input)', async () => {
    const outside = makeWorkspace();
    try {
      await writePng(outside.path('a.png'), 1);
      await writePng(outside.path('b.png'), 2);
      outside.write('seed.jsonl', '{"query":"q","response":["a.png","b.png"],"label_rank":[1,2]}\n');
      ws.write(
        'experiments/ext.yaml',
        `task: t2i\ndata: { allowed_roots: [${outside.root}] }\nrubric: { seed: ${outside.path('seed.jsonl')} }\n`,
      );
      const first = await nx(['run', 'ext:resolve']);
      expect(ranFresh(first.out), first.out).toBe(true);
      expect(hit((await nx(['run', 'ext:resolve'])).out)).toBe(true);
      await writePng(outside.path('b.png'), 3);
      const changed = await nx(['run', 'ext:resolve']);
      expect(changed.code, changed.out).toBe(0);
      expect(ranFresh(changed.out)).toBe(true);
    } finally {
      outside.cleanup();
    }
  }, 120_000);

  it('refuses to launch training before the pre-launch checks pass, naming the target that fixes each', async () => {
    // Through the executor's command, without the upstream targets Nx would run first.
    const run = await execa('node', [ws.path('bin/arr.mjs'), 'build', 'train-flux', 'exp-a'], {
      cwd: ws.root,
      reject: false,
      all: true,
    });
    expect(run.exitCode).not.toBe(0);
    expect(run.all).toContain('not launching; fix these first');
    expect(run.all).toContain('npx nx run exp-a:freeze');
  }, 120_000);

  it('stops within seconds when no judge is reachable, saying how to start one', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise((r) => server.close(r)); // now nothing listens there
    // The test's timeout is the bound: a run that kept retrying the dead endpoint would exceed it.
    const run = await nx(['run', 'exp-a:freeze'], { ARR_JUDGE_URL: `http://127.0.0.1:${port}/v1` });
    expect(run.code).not.toBe(0);
    expect(run.out).toContain(
      `cannot reach the judge: http://127.0.0.1:${port}/v1 (connection refused). Start one (e.g. vllm serve`,
    );
  }, 60_000);

  it('walks resolve → rubric-generate → verify → freeze against a judge, then replays it all from the cache', async () => {
    const sim = await startSimVlm({ rule: makeRubricSimRule() });
    try {
      for (let i = 0; i < 4; i++) await writePng(ws.path(`data/bright/b/${i}.png`), 0); // black: always the darker image
      const lines = [0, 1, 2, 3].map((i) =>
        JSON.stringify({
          query: `pair ${i}`,
          response: i % 2 ? [`b/${i}.png`, `../t2i/images/${i}.png`] : [`../t2i/images/${i}.png`, `b/${i}.png`],
          label_rank: i % 2 ? [2, 1] : [1, 2],
        }),
      );
      ws.write('data/bright/pairs.jsonl', lines.join('\n') + '\n');
      ws.write(
        'experiments/bright.yaml',
        'task: t2i\nextends: ./base/judge.yaml\nrubric: { seed: ../data/bright/pairs.jsonl, per_pair: 2, max_epochs: 1 }\nverify: { test: ../data/bright/pairs.jsonl }\nfreeze: { name: bright, version: 1 }\n',
      );
      const env = { ARR_JUDGE_URL: sim.url };
      const first = await nx(['run', 'bright:freeze'], env);
      expect(first.code, first.out).toBe(0);
      expect(first.out).toContain('wrote rubrics/bright.v1.txt and its lock');
      expect(readFileSync(ws.path('rubrics/bright.v1.txt'), 'utf8')).toContain('brighter');
      const calls = sim.stats.requests;
      const second = await nx(['run', 'bright:freeze'], env);
      expect(second.code).toBe(0);
      expect(second.out).toMatch(/Cache:\s+4\/4 hit/);
      expect(sim.stats.requests).toBe(calls);
    } finally {
      await sim.close();
    }
  }, 180_000);
});
