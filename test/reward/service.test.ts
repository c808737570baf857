// The reward service as trainers use it: over HTTP against the simulated VLM, and through the Python client.
import { execa } from 'execa';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRewardService, type RewardService, type RewardServiceOptions } from '../../src/reward/service.js';
import { loadValidExperiment } from '../../src/manifest/valid.js';
import { startSimVlm, type SimVlm } from '../helpers/sim-vlm.js';
import { makeWorkspace, repoRoot, type TestWorkspace } from '../helpers/workspace.js';

const TOKEN = 'test-token-0123456789';
const RUBRIC = 'Rubric 1:\nTheme: Brightness\n- Tip1: the brighter image is better.\n';
let ws: TestWorkspace;
let sim: SimVlm;
let bright: string;
let dark: string;
let mid: string;
let manifests = 0;
const services: RewardService[] = [];

async function grey(file: string, level: number): Promise<string> {
  mkdirSync(dirname(file), { recursive: true });
  await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: level, g: level, b: level } } })
    .png()
    .toFile(file);
  return file;
}

/** A t2i experiment judged by the sim, with `reward` (and judge) settings as YAML, served with `options`. */
async function serve(
  yaml = '',
  options: Partial<RewardServiceOptions> = {},
  task: 't2i' | 'edit' = 't2i',
): Promise<RewardService> {
  const name = `exp-${manifests++}`;
  ws.write(
    `experiments/${name}.yaml`,
    `task: ${task}\nrubric: { from: ../rubrics/bright.txt }\njudge:\n  base_url: ${sim.url}\n  concurrency: 8\n  reasks: 0\n  retries: 0\n  timeout_s: 10\n${yaml}`,
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

const post = (service: RewardService, body: unknown, token: string | null = TOKEN) =>
  fetch(`${service.url}/v1/rewards`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

beforeAll(async () => {
  ws = makeWorkspace();
  sim = await startSimVlm({});
  bright = await grey(ws.path('images/bright.png'), 220);
  dark = await grey(ws.path('images/dark.png'), 30);
  mid = await grey(ws.path('images/mid.png'), 120);
  ws.write('rubrics/bright.txt', RUBRIC);
});
afterAll(async () => {
  await Promise.all(services.map((s) => s.close()));
  await sim.close();
  ws.cleanup();
});

describe('POST /v1/rewards', () => {
  it('gives the brighter image 1.0 and the other −0.1, in the order sent; accepts the reference `response` key', async () => {
    const service = await serve();
    const res = await post(service, {
      items: [
        { query: 'q1', images: [bright, dark] },
        { query: 'q2', response: [dark, bright] },
        { query: 'q3', images: [dark, bright, mid] },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('server-timing')).toMatch(/judge;dur=[\d.]+, total;dur=[\d.]+/);
    const body = (await res.json()) as any;
    expect(body.results[0]).toEqual({ rewards: [1.0, -0.1], ranks: [1, 2], agree: null });
    expect(body.results[1]).toEqual({ rewards: [-0.1, 1.0], ranks: [2, 1], agree: null });
    expect(body.results[2].ranks).toEqual([3, 1, 2]);
    expect(body.results[2].rewards).toEqual([expect.closeTo(-0.1, 12), 1.0, expect.closeTo(0.45, 12)]);
    expect(body.timing.total_ms).toBeGreaterThan(0);
  });

  it('accepts data:image URLs', async () => {
    const service = await serve();
    const url = async (level: number) =>
      `data:image/png;base64,${(
        await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: level, g: level, b: level } } })
          .png()
          .toBuffer()
      ).toString('base64')}`;
    const res = await post(service, { items: [{ query: 'data urls', images: [await url(10), await url(240)] }] });
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).results[0].rewards).toEqual([-0.1, 1.0]);
  });

  it('judges both orders when asked; agreement is reported', async () => {
    const service = await serve('reward:\n  both_orders: true\n');
    const calls = sim.requests.length;
    const body = (await (
      await post(service, { items: [{ query: 'both orders agree', images: [bright, dark] }] })
    ).json()) as any;
    expect(body.results[0]).toEqual({ rewards: [1.0, -0.1], ranks: [1, 2], agree: true });
    expect(sim.requests.length - calls).toBe(2);
  });

  describe('when the orders disagree (positionBias 1: the first shown always wins)', () => {
    beforeAll(() => sim.setOptions({ positionBias: 1 }));
    afterAll(() => sim.setOptions({ positionBias: 0 }));

    it('zero: both rewards 0.0, no ranks', async () => {
      const service = await serve('reward:\n  both_orders: true\n  on_disagreement: zero\n');
      const body = (await (
        await post(service, { items: [{ query: 'disagree zero', images: [dark, bright] }] })
      ).json()) as any;
      expect(body.results[0]).toEqual({ rewards: [0.0, 0.0], ranks: null, agree: false });
    });
    it("first: the first order's verdict", async () => {
      const service = await serve('reward:\n  both_orders: true\n  on_disagreement: first\n');
      const body = (await (
        await post(service, { items: [{ query: 'disagree first', images: [dark, bright] }] })
      ).json()) as any;
      expect(body.results[0]).toEqual({ rewards: [1.0, -0.1], ranks: [1, 2], agree: false });
    });
    it('error: the whole request fails with 502 naming the item', async () => {
      const service = await serve('reward:\n  both_orders: true\n  on_disagreement: error\n');
      const res = await post(service, {
        items: [
          { query: 'fine', images: [bright, dark] },
          { query: 'disagree error', images: [dark, bright] },
        ],
      });
      expect(res.status).toBe(502);
      const body = (await res.json()) as any;
      expect(body.error).toMatch(/items\[\d\]: the two orders disagree/);
      expect(body.results).toBeUndefined();
    });
  });

  it('fails the whole request with 502 naming the item and the judge error when a judgement fails; no reward', async () => {
    const service = await serve();
    sim.setOptions({ faults: [{ kind: 'garbage', rate: 1 }] });
    try {
      const res = await post(service, { items: [{ query: 'garbage', images: [bright, dark] }] });
      expect(res.status).toBe(502);
      const body = (await res.json()) as any;
      expect(body.error).toMatch(/^items\[0\]: the judgement failed: invalid answer/);
      expect(body.results).toBeUndefined();
      expect(service.stats().failures).toBe(1);
    } finally {
      sim.setOptions({ faults: [] });
    }
  });
});

describe('refusals', () => {
  it('401 without a token or with a wrong one', async () => {
    const service = await serve();
    const item = { items: [{ query: 'q', images: [bright, dark] }] };
    expect((await post(service, item, null)).status).toBe(401);
    const wrong = await post(service, item, 'wrong');
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as any).error).toMatch(/token/);
    expect((await fetch(`${service.url}/v1/stats`)).status).toBe(401);
    expect(service.stats().refused[401]).toBe(3);
  });

  it('401 arrives before a huge body is sent, and the connection closes without reading it', async () => {
    const service = await serve();
    const { hostname, port } = new URL(service.url);
    const declared = 1024 * 1024 * 1024;
    const sent = 64 * 1024;
    const socket = connect(Number(port), hostname);
    let response = '';
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const answered = new Promise<void>((resolve) => socket.on('data', (d) => ((response += d.toString()), resolve())));
    socket.on('error', () => {});
    socket.write(
      `POST /v1/rewards HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer wrong\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`,
    );
    socket.write(Buffer.alloc(sent, 'x'));
    await answered; // only 64 KiB of the declared 1 GiB was ever sent
    expect(response).toMatch(/^HTTP\/1\.1 401/);
    expect(response.toLowerCase()).toContain('connection: close');
    await closed;
    expect(socket.bytesWritten).toBeLessThan(sent + 1024);
  });

  it('413 for a body over the limit (declared or streamed) and for too many items', async () => {
    const service = await serve('', { limits: { maxBodyBytes: 4096, maxItems: 2 } });
    const big = { items: [{ query: 'x'.repeat(5000), images: [bright, dark] }] };
    expect((await post(service, big)).status).toBe(413);
    const streamed = await fetch(`${service.url}/v1/rewards`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(JSON.stringify(big))), c.close()) }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    const many = await post(service, { items: [0, 1, 2].map((i) => ({ query: `q${i}`, images: [bright, dark] })) });
    expect(many.status).toBe(413);
    expect(((await many.json()) as any).error).toMatch(/3 items .* limit is 2/);
    expect(service.stats().refused[413]).toBe(3);
  });

  it('400 naming the field for bad JSON and bad shapes', async () => {
    const service = await serve();
    const error = async (body: unknown) => {
      const res = await post(service, body);
      expect(res.status).toBe(400);
      return ((await res.json()) as any).error as string;
    };
    expect(await error('{not json')).toMatch(/^body: not valid JSON/);
    expect(await error({ item: [] })).toMatch(/^items:/);
    expect(await error({ items: [{ images: [bright, dark] }] })).toMatch(/^items\[0\]\.query/);
    expect(await error({ items: [{ query: 'q', images: [bright] }] })).toMatch(/^items\[0\]\.images: 1 image/);
    expect(await error({ items: [{ query: 'q', response: 'x' }] })).toMatch(/^items\[0\]\.response/);
    expect(await error({ items: [{ query: 'q', images: ['images/bright.png', dark] }] })).toMatch(
      /^items\[0\]\.images\[0\]: .* is relative/,
    );
    expect(await error({ items: [{ query: 'q', images: [bright, ws.path('images/missing.png')] }] })).toMatch(
      /^items\[0\]\.images\[1\]: .*missing\.png is not a readable file under the allowed roots/,
    );
  });

  it('400 for the whole request when a path is outside the allowed roots, naming it and the roots', async () => {
    const outsideDir = join(tmpdir(), `arr-outside-${process.pid}`);
    const outside = await grey(join(outsideDir, 'x.png'), 200);
    const service = await serve();
    const calls = sim.requests.length;
    const res = await post(service, {
      items: [
        { query: 'in', images: [bright, dark] },
        { query: 'out', images: [dark, outside] },
      ],
    });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as any;
    expect(error).toContain(`items[1].images[1]: ${outside}`);
    expect(error).toContain(`is not a readable file under the allowed roots (${ws.root})`);
    expect(sim.requests.length).toBe(calls); // nothing judged
    // A symlink inside the workspace to a file outside it is outside too.
    const link = ws.path('images/link.png');
    (await import('node:fs')).symlinkSync(outside, link);
    expect((await post(service, { items: [{ query: 'link', images: [bright, link] }] })).status).toBe(400);
    // Allowed once its folder is an allowed root.
    const allowed = await serve('', { allowedRoots: [outsideDir] });
    expect((await post(allowed, { items: [{ query: 'allowed root', images: [dark, outside] }] })).status).toBe(200);
  });

  it('503 with Retry-After when the queue is full; requests already accepted still succeed', async () => {
    const service = await serve('', { limits: { maxQueue: 2 } });
    sim.setOptions({ latencyMs: 800 });
    try {
      const first = post(service, {
        items: [
          { query: 'slow 1', images: [bright, dark] },
          { query: 'slow 2', images: [dark, bright] },
        ],
      });
      await vi.waitFor(() => expect(service.stats().inFlightItems).toBe(2), { timeout: 10_000, interval: 10 });
      const refused = await post(service, { items: [{ query: 'one more', images: [bright, dark] }] });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(((await refused.json()) as any).error).toMatch(/queue full/);
      const ok = await first;
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as any).results.map((r: { rewards: number[] }) => r.rewards)).toEqual([
        [1.0, -0.1],
        [-0.1, 1.0],
      ]);
      expect(service.stats().inFlightItems).toBe(0);
      expect(service.stats().refused[503]).toBe(1);
    } finally {
      sim.setOptions({ latencyMs: 0 });
    }
  });
});

describe('GET /healthz and /v1/stats', () => {
  it('reports health without a token and counters with one', async () => {
    const service = await serve();
    const health = await (await fetch(`${service.url}/healthz`)).json();
    expect(health).toEqual({
      status: 'ok',
      judge: 'closed',
      model: 'Qwen/Qwen3-VL-8B-Instruct',
      rubric_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    await post(service, {
      items: [
        { query: 'stats 1', images: [bright, dark] },
        { query: 'stats 2', images: [bright, dark] },
      ],
    });
    await post(service, { items: [] });
    await post(service, {}, 'nope');
    const stats = (await (
      await fetch(`${service.url}/v1/stats`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as any;
    expect(stats.items).toBe(2);
    expect(stats.requests).toBe(5); // healthz, 3 posts, stats
    expect(stats.refused).toEqual({ 401: 1, 400: 1, 408: 0, 413: 0, 503: 0 });
    expect(stats.failures).toBe(0);
    expect(stats.latencyMs.p50).toBeGreaterThan(0);
    expect(stats.latencyMs.p95).toBeGreaterThanOrEqual(stats.latencyMs.p50);
    expect(stats.judge.calls + stats.judge.cached).toBeGreaterThanOrEqual(2);
  });
});

describe('edit experiments', () => {
  it('sends the source image as the base and requires it', async () => {
    const service = await serve('', {}, 'edit');
    const src = await grey(ws.path('images/src.png'), 90);
    const res = await post(service, {
      items: [{ query: 'make it brighter', source_image: src, response: [dark, bright] }],
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).results[0].rewards).toEqual([-0.1, 1.0]);
    expect(sim.requests.at(-1)!.base).toBeDefined();
    expect((await post(service, { items: [{ query: 'no source', response: [dark, bright] }] })).status).toBe(400);
  });
});

describe('python/arr_reward_client.py', () => {
  const python = (script: string, env: Record<string, string>) =>
    execa('/usr/bin/python3', ['-c', script], {
      reject: false,
      env: { PYTHONPATH: join(repoRoot, 'python'), ...env },
      extendEnv: true,
    });

  it('rewards(), get_reward_single() as a torch tensor, and a clear error for a wrong token', async () => {
    const service = await serve();
    const script = `
import asyncio, json, torch
import arr_reward_client as arc
out = {}
out["rewards"] = arc.rewards([{"query": "py 1", "images": [${JSON.stringify(bright)}, ${JSON.stringify(dark)}]}])
t = asyncio.run(arc.get_reward_single({"query": "py 2", "response": [${JSON.stringify(dark)}, ${JSON.stringify(bright)}]}, "cpu"))
out["tensor"] = [type(t).__name__, str(t.dtype), t.tolist(), int(t.numel())]
try:
    arc.RewardClient(token="wrong").rewards([{"query": "py 3", "images": [${JSON.stringify(bright)}, ${JSON.stringify(dark)}]}])
except arc.RewardServiceError as e:
    out["wrong"] = [e.status, str(e)]
print(json.dumps(out))
`;
    const run = await python(script, { ARR_REWARD_URL: service.url, ARR_REWARD_TOKEN: TOKEN });
    expect(run.exitCode, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    expect(out.rewards).toEqual([{ rewards: [1.0, -0.1], ranks: [1, 2], agree: null }]);
    expect(out.tensor[0]).toBe('Tensor');
    expect(out.tensor[1]).toBe('torch.float32');
    expect(out.tensor[2][0]).toBeCloseTo(-0.1, 6);
    expect(out.tensor[2][1]).toBe(1.0);
    expect(out.tensor[3]).toBe(2);
    expect(out.wrong[0]).toBe(401);
    expect(out.wrong[1]).toMatch(/HTTP 401: missing or wrong token.*check ARR_REWARD_TOKEN/);
  }, 60_000);

  it('retries a 503 honouring Retry-After, and does not retry a 400', async () => {
    const service = await serve('', { limits: { maxQueue: 1 } });
    sim.setOptions({ latencyMs: 500 });
    try {
      const script = `
import json, threading, time
import arr_reward_client as arc
c = arc.RewardClient()
res = {}
def slow(): res["slow"] = c.rewards([{"query": "py slow", "images": [${JSON.stringify(bright)}, ${JSON.stringify(dark)}]}])
t = threading.Thread(target=slow); t.start(); time.sleep(0.15)
t0 = time.time()
res["retried"] = c.rewards([{"query": "py retried", "images": [${JSON.stringify(dark)}, ${JSON.stringify(bright)}]}])
res["waited"] = time.time() - t0
t.join()
try:
    c.rewards([{"query": "bad", "images": ["/etc/passwd", ${JSON.stringify(bright)}]}])
except arc.RewardServiceError as e:
    res["bad"] = [e.status, str(e)]
print(json.dumps(res))
`;
      const run = await python(script, { ARR_REWARD_URL: service.url, ARR_REWARD_TOKEN: TOKEN });
      expect(run.exitCode, run.stderr).toBe(0);
      const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
      expect(out.slow[0].rewards).toEqual([1.0, -0.1]);
      expect(out.retried[0].rewards).toEqual([-0.1, 1.0]);
      expect(out.waited).toBeGreaterThanOrEqual(0.9); // Retry-After: 1 honoured
      expect(out.bad[0]).toBe(400);
      expect(out.bad[1]).toMatch(/\/etc\/passwd is not a readable file under the allowed roots/);
      expect(service.stats().refused[503]).toBeGreaterThanOrEqual(1);
    } finally {
      sim.setOptions({ latencyMs: 0 });
    }
  }, 60_000);
});
