// Issue 10, the reward service's items: it comes back after a judge outage (item 2), it serves only a
// rubric that matches its lock (item 3), and every request is bounded in time, size and what it reveals
// (item 12). Real HTTP against the simulated VLM; the CLI runs as a child process where the item is
// about `arr serve` itself.
import { execa, type ResultPromise } from 'execa';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRewardService, type RewardService, type RewardServiceOptions } from '../../src/reward/service.js';
import { freezeRubric } from '../../src/rubric/freeze.js';
import { writeImportedLock } from '../../src/rubric/locked.js';
import { runRubricGenerate } from '../../src/targets/rubric-generate.js';
import { loadValidExperiment } from '../../src/manifest/valid.js';
import { checkRubric } from '../../src/train/checks.js';
import { frozenRubricOf, type TrainPlan } from '../../src/train/plan.js';
import { lockInput } from '../rubric/fixtures.js';
import { startSimVlm, type SimVlm } from '../helpers/sim-vlm.js';
import { makeWorkspace, repoRoot, type TestWorkspace } from '../helpers/workspace.js';

const TOKEN = 'reliability-token-0123456789-abcdef';
const RUBRIC = 'Rubric 1:\nTheme: Brightness\n- Tip1: the brighter image is better.\n';
let ws: TestWorkspace;
let sim: SimVlm;
let bright: string;
let dark: string;
let manifests = 0;
const services: RewardService[] = [];

async function grey(file: string, level: number): Promise<string> {
  mkdirSync(dirname(file), { recursive: true });
  await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: level, g: level, b: level } } })
    .png()
    .toFile(file);
  return file;
}

async function serve(judgeUrl: string, options: Partial<RewardServiceOptions> = {}): Promise<RewardService> {
  const name = `rel-${manifests++}`;
  ws.write(
    `experiments/${name}.yaml`,
    `task: t2i\nrubric: { from: ../rubrics/imported/bright.txt }\njudge:\n  base_url: ${judgeUrl}\n  concurrency: 4\n  reasks: 0\n  retries: 0\n  timeout_s: 5\n`,
  );
  const { experiment } = await loadValidExperiment({ experiment: name, workspaceRoot: ws.root }, { checkData: false });
  const service = await startRewardService({
    experiment,
    workspaceRoot: ws.root,
    rubric: RUBRIC,
    token: TOKEN,
    ...options,
  });
  services.push(service);
  return service;
}

const post = (service: RewardService, body: unknown, token = TOKEN) =>
  fetch(`${service.url}/v1/rewards`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const health = async (service: RewardService) =>
  (await (await fetch(`${service.url}/healthz`)).json()) as { status: string; judge: string };
const pair = (query: string) => ({ items: [{ query, images: [bright, dark] }] });

beforeAll(async () => {
  ws = makeWorkspace();
  sim = await startSimVlm({});
  bright = await grey(ws.path('images/bright.png'), 220);
  dark = await grey(ws.path('images/dark.png'), 30);
  ws.write('rubrics/imported/bright.txt', RUBRIC);
});
afterAll(async () => {
  await Promise.all(services.map((s) => s.close()));
  await sim.close();
  ws.cleanup();
});

describe('item 2: the reward service recovers after a judge outage', () => {
  it('item 2: after a 2 s outage (listener stopped, restarted on the same port) requests succeed again; /healthz shows the breaker', async () => {
    let judge = await startSimVlm({});
    const port = Number(new URL(judge.url).port);
    const service = await serve(judge.url, { breaker: { probeIntervalMs: 250 } });
    try {
      expect(await health(service)).toMatchObject({ status: 'ok', judge: 'closed' });
      expect((await post(service, pair('before'))).status).toBe(200);

      await judge.close();
      const restarted = new Promise<void>((resolve, reject) => {
        // The outage itself: the judge stays down for 2 s, then listens on the same port again.
        setTimeout(() => startSimVlm({ port }).then((j) => ((judge = j), resolve()), reject), 2_000);
      });
      // While it is down, requests fail fast (502 while the client notices, then 503 from the open breaker).
      await expect
        .poll(async () => (await post(service, pair('during'))).status, { timeout: 10_000, interval: 50 })
        .toBe(503);
      expect(await health(service)).toMatchObject({ status: 'ok', judge: 'open' });
      await restarted;
      await expect
        .poll(async () => (await post(service, pair('after'))).status, { timeout: 30_000, interval: 100 })
        .toBe(200);
      expect(await health(service)).toMatchObject({ status: 'ok', judge: 'closed' });
      expect(service.stats().breaker).toMatchObject({ state: 'closed', opened: 1, recovered: 1 });
    } finally {
      await judge.close();
    }
  }, 60_000);
});

describe('item 3: only a rubric that matches its lock is served, trained with or reused', () => {
  let judgeForServe: SimVlm;
  beforeAll(async () => {
    judgeForServe = await startSimVlm({});
  });
  afterAll(() => judgeForServe.close());

  const arrServe = (experiment: string, extra: string[] = []): ResultPromise =>
    execa('node', [join(repoRoot, 'bin/arr.mjs'), 'serve', '--experiment', experiment, '--port', '0', ...extra], {
      cwd: ws.root,
      reject: false,
      env: { NO_COLOR: '1', ARR_REWARD_TOKEN: TOKEN, ARR_JUDGE_URL: judgeForServe.url },
    });

  it('item 3: arr serve refuses a tampered frozen rubric naming the lock, and a rubric with no lock unless --allow-unlocked', async () => {
    await freezeRubric(ws.root, { name: 'served', version: 1, text: RUBRIC, lock: lockInput() });
    ws.write(
      'experiments/served.yaml',
      `task: t2i\nrubric: { from: ../rubrics/served.v1.txt }\njudge: { base_url: "\${ARR_JUDGE_URL}" }\n`,
    );
    writeFileSync(ws.path('rubrics/served.v1.txt'), `${RUBRIC}- Tip2: tampered after freezing.\n`);
    const tampered = await arrServe('served');
    expect(tampered.exitCode).toBe(1);
    expect(tampered.stderr).toContain('rubrics/served.v1.lock.json');
    expect(tampered.stderr).toMatch(/fails its lock check/);

    ws.write('rubrics/imported/loose.txt', '- anything\n\n  the reference takes free text\n');
    ws.write(
      'experiments/loose.yaml',
      `task: t2i\nrubric: { from: ../rubrics/imported/loose.txt }\njudge: { base_url: "\${ARR_JUDGE_URL}" }\n`,
    );
    const unlocked = await arrServe('loose');
    expect(unlocked.exitCode).toBe(1);
    expect(unlocked.stderr).toContain('has no lock (expected rubrics/imported/loose.lock.json)');
    expect(unlocked.stderr).toContain('--allow-unlocked');

    // Opting in starts it: the ready line appears, then the test stops it.
    const child = execa(
      'node',
      [join(repoRoot, 'bin/arr.mjs'), 'serve', '--experiment', 'loose', '--port', '0', '--allow-unlocked'],
      {
        cwd: ws.root,
        reject: false,
        env: { NO_COLOR: '1', ARR_REWARD_TOKEN: TOKEN, ARR_JUDGE_URL: judgeForServe.url },
      },
    );
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await expect.poll(() => out, { timeout: 30_000 }).toMatch(/ARR_REWARD_URL=http:\/\/127\.0\.0\.1:\d+/);
    child.kill('SIGTERM');
    expect((await child).exitCode).toBe(0);
  }, 60_000);

  it('item 3: the train check and rubric.from reuse refuse a tampered or unlocked rubric; an imported lock is accepted', async () => {
    ws.write('rubrics/imported/reused.txt', '1. brighter wins\n\n   (a note inside the item)\n');
    ws.write('experiments/reused.yaml', 'task: t2i\nrubric: { from: ../rubrics/imported/reused.txt }\n');
    const load = async () =>
      (await loadValidExperiment({ experiment: 'reused', workspaceRoot: ws.root }, { checkData: false })).experiment;
    const trainCheck = async () =>
      checkRubric({
        workspaceRoot: ws.root,
        experiment: 'reused',
        rubric: frozenRubricOf(await load(), ws.root),
      } as TrainPlan);

    expect(await trainCheck()).toMatchObject({
      ok: false,
      message: expect.stringContaining('has no lock (expected rubrics/imported/reused.lock.json)'),
    });
    await expect(runRubricGenerate({ experiment: 'reused', workspaceRoot: ws.root })).rejects.toThrow(/has no lock/);

    await writeImportedLock(ws.path('rubrics/imported/reused.txt'), { name: 'reused', importedFrom: 'rubrics.txt' });
    expect(await trainCheck()).toMatchObject({
      ok: true,
      message: expect.stringContaining('matches its lock rubrics/imported/reused.lock.json (imported'),
    });
    expect(await runRubricGenerate({ experiment: 'reused', workspaceRoot: ws.root })).toContain(
      'reusing the frozen rubric',
    );

    ws.write('rubrics/imported/reused.txt', '1. darker wins\n');
    expect(await trainCheck()).toMatchObject({
      ok: false,
      message: expect.stringContaining('fails its lock check (rubrics/imported/reused.lock.json)'),
    });
    await expect(runRubricGenerate({ experiment: 'reused', workspaceRoot: ws.root })).rejects.toThrow(
      /fails its lock check \(rubrics\/imported\/reused\.lock\.json\)/,
    );

    // The opt-in covers a missing lock, never a lock that does not match.
    ws.write(
      'experiments/reused.yaml',
      'task: t2i\nrubric: { from: ../rubrics/imported/reused.txt, allow_unlocked: true }\n',
    );
    expect(await trainCheck()).toMatchObject({ ok: false });
  }, 30_000);
});

describe('item 12: every request is bounded and refusals reveal nothing', () => {
  it('item 12: a slow authenticated body is timed out with 408 and the connection closed', async () => {
    const service = await serve(sim.url, { limits: { bodyTimeoutMs: 300 } });
    const { hostname, port } = new URL(service.url);
    const socket = connect(Number(port), hostname);
    let answer = '';
    socket.on('data', (d) => (answer += d.toString()));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(
      `POST /v1/rewards HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"items":`,
    );
    // Keep trickling bytes: an idle timeout alone would never fire.
    const trickle = setInterval(() => socket.writable && socket.write(' '), 50);
    await closed;
    clearInterval(trickle);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(answer).toContain('request body not received within 0.3 s');
    expect(service.stats().refused[408]).toBe(1);
  });

  it('item 12: a client that disconnects mid-judgement is counted as a disconnect, not a judge failure', async () => {
    const service = await serve(sim.url);
    sim.setOptions({ latencyMs: 600 });
    try {
      const controller = new AbortController();
      const request = fetch(`${service.url}/v1/rewards`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify(pair('leaves early')),
        signal: controller.signal,
      }).catch(() => undefined);
      await expect.poll(() => service.stats().inFlightItems).toBe(1);
      controller.abort();
      await request;
      await expect.poll(() => service.stats().disconnects, { timeout: 10_000 }).toBe(1);
      expect(service.stats().failures).toBe(0);
    } finally {
      sim.setOptions({ latencyMs: 0 });
    }
  });

  it('item 12: an over-long query is refused with 413 and never reaches the judge', async () => {
    const service = await serve(sim.url, { limits: { maxQueryChars: 1000 } });
    const calls = sim.requests.length;
    const res = await post(service, { items: [{ query: 'x'.repeat(5000), images: [bright, dark] }] });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toBe(
      'items[0].query: 5000 characters; the limit is 1000 (nothing was sent to the judge)',
    );
    expect(sim.requests.length).toBe(calls);
  });

  it('item 12: request bodies share one memory budget; a body that does not fit gets 503 before it is read', async () => {
    const service = await serve(sim.url, { limits: { maxBodyBytes: 4096, maxBufferedBytes: 4096 } });
    sim.setOptions({ latencyMs: 500 });
    try {
      const first = post(service, pair('holds the budget'));
      await expect.poll(() => service.stats().inFlightItems).toBe(1);
      // Within the body limit on its own, but not beside the body already held.
      const body = JSON.stringify({ ...pair('waits'), pad: '' });
      const second = await post(service, body.replace('"pad":""', `"pad":"${'p'.repeat(4096 - body.length)}"`));
      expect(second.status).toBe(503);
      expect(second.headers.get('retry-after')).toBe('1');
      expect((await first).status).toBe(200);
      expect((await post(service, pair('fits again'))).status).toBe(200);
    } finally {
      sim.setOptions({ latencyMs: 0 });
    }
  });

  it('item 12: a missing file, a folder, and a file outside the roots get one and the same message', async () => {
    const service = await serve(sim.url);
    const outside = await grey(join(tmpdir(), `arr-rel-outside-${process.pid}`, 'x.png'), 200);
    const message = async (path: string) => {
      const res = await post(service, { items: [{ query: 'q', images: [bright, path] }] });
      expect(res.status).toBe(400);
      return ((await res.json()) as { error: string }).error.replace(path, '<path>');
    };
    const expected = `items[0].images[1]: <path> is not a readable file under the allowed roots (${ws.root})`;
    expect(await message(ws.path('images/missing.png'))).toBe(expected);
    expect(await message(ws.path('images'))).toBe(expected);
    expect(await message(outside)).toBe(expected);
    expect(await message('/etc/passwd')).toBe(expected);
    expect(await message('/no/such/file.png')).toBe(expected);
  });

  it('item 12: binding beyond loopback needs a token of at least 32 characters', async () => {
    await expect(serve(sim.url, { bind: '0.0.0.0', port: 0, token: 'x' })).rejects.toThrow(
      'refusing to listen on 0.0.0.0 with a 1-character token: beyond loopback the token must be at least 32 characters',
    );
    const open = await serve(sim.url, { bind: '0.0.0.0', port: 0, token: 'y'.repeat(32) });
    expect(open.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    // Loopback keeps accepting short tokens (tests, a single machine).
    expect((await serve(sim.url, { bind: '127.0.0.1', port: 0, token: 'z' })).url).toMatch(/^http:\/\/127\.0\.0\.1:/);
  });
});
