// Proves the simulated VLM judge behaves like the OpenAI-compatible server it stands in for.
import OpenAI, { type APIError } from 'openai';
import sharp from 'sharp';
import { beforeAll, describe, expect, vi } from 'vitest';
import { test } from './fixtures.js';
import { startSimVlm, type SimVlm, type SimVlmOptions } from './sim-vlm.js';

const KEY = 'sk-sim-test';
const MODEL = 'Qwen/Qwen3-VL-8B-Instruct';

async function solidPng(v: number, size = 32): Promise<string> {
  const buf = await sharp({ create: { width: size, height: size, channels: 3, background: { r: v, g: v, b: v } } })
    .png()
    .toBuffer();
  return `data:image/png;base64,${buf.toString('base64')}`;
}

const img = (url: string) => ({ type: 'image_url' as const, image_url: { url } });
const txt = (text: string) => ({ type: 'text' as const, text });
const LISTWISE = 'Rank the 2 generated images. Output: {"rank": [...], "reason": "..."}';
const POINTWISE = 'Score the generated image with an integer between 1 and 5. Output: {"score": ..., "reason": "..."}';

/** T2I layout: "Image i:" label, image, ..., prompt last. */
function t2i(urls: string[], prompt = LISTWISE): OpenAI.Chat.ChatCompletionCreateParamsNonStreaming {
  const content: OpenAI.Chat.ChatCompletionContentPart[] = [];
  urls.forEach((u, i) => content.push(txt(urls.length === 1 ? 'Generated Image:' : `Image ${i + 1}:`), img(u)));
  content.push(txt(prompt));
  return { model: MODEL, messages: [{ role: 'user', content }] };
}

/** Edit layout with a base: "Image BASE (original image):", then "Edited Image i:". */
function edit(base: string, urls: string[], prompt = LISTWISE): OpenAI.Chat.ChatCompletionCreateParamsNonStreaming {
  const content: OpenAI.Chat.ChatCompletionContentPart[] = [txt('Image BASE (original image):'), img(base)];
  urls.forEach((u, i) => content.push(txt(`Edited Image ${i + 1}:`), img(u)));
  content.push(txt(prompt));
  return { model: MODEL, messages: [{ role: 'user', content }] };
}

let dark: string, mid: string, bright: string, big: string;

beforeAll(async () => {
  [dark, mid, bright, big] = await Promise.all([solidPng(30), solidPng(128), solidPng(220), solidPng(100, 64)]);
});

// `start(options)` gives a sim (closed after the test) and an SDK client for it.
const it = test.extend<{ start: (options?: SimVlmOptions) => Promise<{ sim: SimVlm; client: OpenAI }> }>({
  start: async ({ startSim }, use) => {
    await use(async (options = {}) => {
      const sim = await startSim({ apiKey: KEY, ...options });
      return { sim, client: new OpenAI({ apiKey: KEY, baseURL: sim.url, maxRetries: 0, timeout: 500 }) };
    });
  },
});

async function ask(client: OpenAI, params: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming) {
  const r = await client.chat.completions.create(params);
  return { content: r.choices[0].message.content ?? '', finish: r.choices[0].finish_reason, r };
}

describe('sim-vlm: default brightness rule', () => {
  it('ranks two sharp-made PNGs by brightness in both orders', async ({ start }) => {
    const { client, sim } = await start();
    const a = await ask(client, t2i([dark, bright]));
    expect(JSON.parse(a.content).rank).toEqual([2, 1]);
    expect(a.finish).toBe('stop');
    const b = await ask(client, t2i([bright, dark]));
    expect(JSON.parse(b.content).rank).toEqual([1, 2]);
    expect(a.r.object).toBe('chat.completion');
    expect(a.r.usage!.prompt_tokens).toBeGreaterThanOrEqual(600);
    expect(a.r.usage!.total_tokens).toBe(a.r.usage!.prompt_tokens + a.r.usage!.completion_tokens);

    const v = sim.requests[0];
    expect(v.index).toBe(0);
    expect(v.model).toBe(MODEL);
    expect(v.images.map((i) => i.label)).toEqual(['Image 1:', 'Image 2:']);
    expect(v.images[0]).toMatchObject({ width: 32, height: 32 });
    expect(v.images[0].mean[0]).toBeCloseTo(30, 0);
    expect(v.images[1].mean[2]).toBeCloseTo(220, 0);
    expect(v.text).toContain('Image 2:');
    expect(v.prompt).toBe(LISTWISE); // the prompt block itself carries no label
    expect(v.prompt).not.toMatch(/Image \d:/);
  });

  it('excludes the BASE image from the rank (edit layout)', async ({ start }) => {
    const { client, sim } = await start();
    const r = await ask(client, edit(bright, [dark, mid]));
    expect(JSON.parse(r.content).rank).toEqual([2, 1]);
    const v = sim.requests[0];
    expect(v.images).toHaveLength(3);
    expect(v.base?.label).toBe('Image BASE (original image):');
    expect(v.candidates.map((c) => c.label)).toEqual(['Edited Image 1:', 'Edited Image 2:']);
  });

  it('ranks three candidates listwise', async ({ start }) => {
    const { client } = await start();
    const r = await ask(client, t2i([mid, dark, bright], 'Rank the 3 images. {"rank": [...]}'));
    expect(JSON.parse(r.content).rank).toEqual([2, 3, 1]);
  });

  it('answers a pointwise prompt with a score in its range', async ({ start }) => {
    const { client } = await start();
    const r = await ask(client, t2i([bright], POINTWISE));
    const s = JSON.parse(r.content).score;
    expect(Number.isInteger(s)).toBe(true);
    expect(s).toBeGreaterThanOrEqual(1);
    expect(s).toBeLessThanOrEqual(5);
  });

  it('marks http image URLs with mean 0 and the sha256 of the URL, without fetching', async ({ start }) => {
    const { client, sim } = await start();
    await ask(client, t2i(['https://example.invalid/a.png', bright]));
    const v = sim.requests[0];
    expect(v.images[0].mean).toEqual([0, 0, 0]);
    expect(v.images[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(sim.stats.decodes).toBe(1);
  });
});

describe('sim-vlm: custom rules', () => {
  it('pointwise score via a custom rule', async ({ start }) => {
    const { client, sim } = await start({
      rule: (req) => ({ score: req.images[0].width === 64 ? 4 : 1, reason: 'by size' }),
    });
    const r = await ask(client, t2i([big], POINTWISE));
    expect(JSON.parse(r.content)).toEqual({ score: 4, reason: 'by size' });
    const r2 = await ask(client, t2i([dark], POINTWISE));
    expect(JSON.parse(r2.content).score).toBe(1);
    expect(sim.requests).toHaveLength(2);
  });

  it('a rule that throws gives 500 with its message', async ({ start }) => {
    const { client } = await start({
      rule: () => {
        throw new Error('boom in rule');
      },
    });
    const err = await client.chat.completions.create(t2i([dark, bright])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect((err as APIError).status).toBe(500);
    expect((err as APIError).message).toContain('boom in rule');
  });

  it('setOptions changes behaviour of a running server', async ({ start }) => {
    const { client, sim } = await start();
    expect(JSON.parse((await ask(client, t2i([dark, bright]))).content).rank).toEqual([2, 1]);
    sim.setOptions({ rule: () => ({ rank: [1, 2], reason: 'fixed' }) });
    expect(JSON.parse((await ask(client, t2i([dark, bright]))).content)).toEqual({ rank: [1, 2], reason: 'fixed' });
  });
});

describe('sim-vlm: faults through the openai SDK', () => {
  it('429 carries Retry-After and an OpenAI-style error', async ({ start }) => {
    const { client, sim } = await start({ faults: [{ kind: '429', retryAfterS: 7 }] });
    const err = await client.chat.completions.create(t2i([dark, bright])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const e = err as APIError;
    expect(e.status).toBe(429);
    expect(e.headers?.get('retry-after')).toBe('7');
    expect(e.code).toBe('rate_limit_exceeded');
    expect(sim.stats.byStatus[429]).toBe(1);
  });

  it('500', async ({ start }) => {
    const { client } = await start({ faults: [{ kind: '500' }] });
    const err = await client.chat.completions.create(t2i([dark, bright])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect((err as APIError).status).toBe(500);
  });

  it('hang → client timeout', async ({ start }) => {
    const { client, sim } = await start({ faults: [{ kind: 'hang' }] });
    const err = await client.chat.completions.create(t2i([dark, bright])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(sim.requests).toHaveLength(1);
  });

  it('truncated: JSON cut in the middle, finish_reason length', async ({ start }) => {
    const { client } = await start({ faults: [{ kind: 'truncated' }] });
    const r = await ask(client, t2i([dark, bright]));
    expect(r.finish).toBe('length');
    expect(r.content.startsWith('{"rank":')).toBe(true);
    expect(() => JSON.parse(r.content)).toThrow();
  });

  it('fenced', async ({ start }) => {
    const { client } = await start({ faults: [{ kind: 'fenced' }] });
    const r = await ask(client, t2i([dark, bright]));
    expect(r.content).toMatch(/^```json\n\{.*\}\n```$/s);
    expect(JSON.parse(r.content.slice(8, -4)).rank).toEqual([2, 1]);
  });

  it('think: a fake verdict inside <think> before the real one', async ({ start }) => {
    const { client } = await start({ faults: [{ kind: 'think' }] });
    const r = await ask(client, t2i([bright, dark]));
    expect(r.content).toContain('<think>some reasoning with a fake {"rank":[2,1]} inside</think>');
    const after = r.content.slice(r.content.indexOf('</think>') + '</think>'.length).trim();
    expect(JSON.parse(after).rank).toEqual([1, 2]);
  });

  it('preamble', async ({ start }) => {
    const { client } = await start({ faults: [{ kind: 'preamble' }] });
    const r = await ask(client, t2i([dark, bright]));
    expect(r.content.startsWith('Sure! Here is my answer:')).toBe(true);
    expect(r.content.endsWith('Hope this helps.')).toBe(true);
    expect(JSON.parse(r.content.slice(r.content.indexOf('{'), r.content.lastIndexOf('}') + 1)).rank).toEqual([2, 1]);
  });

  it('garbage: no JSON at all', async ({ start }) => {
    const { client } = await start({ faults: [{ kind: 'garbage' }] });
    const r = await ask(client, t2i([dark, bright]));
    expect(r.content.length).toBeGreaterThan(0);
    expect(r.content).not.toMatch(/[{}]/);
  });

  it('wrong-length: one rank entry too many', async ({ start }) => {
    const { client } = await start({ faults: [{ kind: 'wrong-length' }] });
    const r = await ask(client, t2i([dark, bright]));
    expect(JSON.parse(r.content).rank).toEqual([2, 1, 3]);
  });

  it('tie', async ({ start }) => {
    const { client } = await start({ faults: [{ kind: 'tie' }] });
    const r = await ask(client, t2i([dark, bright]));
    expect(JSON.parse(r.content).rank).toEqual([1, 1]);
  });

  it('empty', async ({ start }) => {
    const { client } = await start({ faults: [{ kind: 'empty' }] });
    const r = await ask(client, t2i([dark, bright]));
    expect(r.content).toBe('');
    expect(r.finish).toBe('stop');
  });

  it('times fires on the first N requests only; faults are checked in order', async ({ start }) => {
    const { client, sim } = await start({
      faults: [
        { kind: '429', times: 2 },
        { kind: '500', times: 1 },
      ],
    });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push(
        await client.chat.completions.create(t2i([dark, bright])).then(
          () => 200,
          (e: APIError) => e.status ?? -1,
        ),
      );
    }
    expect(statuses).toEqual([429, 429, 500, 200, 200]);
    expect(sim.stats.byStatus).toMatchObject({ 200: 2, 429: 2, 500: 1 });
  });

  it('rate is a seeded probability: same seed, same sequence', async ({ start }) => {
    const run = async (seed: number) => {
      const { client } = await start({ seed, faults: [{ kind: '500', rate: 0.3 }] });
      const out: number[] = [];
      for (let i = 0; i < 40; i++) {
        out.push(
          await client.chat.completions.create(t2i([dark, bright])).then(
            () => 200,
            (e: APIError) => e.status ?? -1,
          ),
        );
      }
      return out;
    };
    const a = await run(42);
    const b = await run(42);
    expect(a).toEqual(b);
    const fails = a.filter((s) => s === 500).length;
    expect(fails).toBeGreaterThan(2);
    expect(fails).toBeLessThan(30);
  });
});

describe('sim-vlm: protocol', () => {
  it('401 with a wrong key; models list with the right one', async ({ start }) => {
    const { client, sim } = await start({ models: ['judge-a', 'judge-b'] });
    const wrong = new OpenAI({ apiKey: 'sk-wrong', baseURL: sim.url, maxRetries: 0, timeout: 500 });
    const err = await wrong.chat.completions.create(t2i([dark, bright])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as APIError).message).toContain('Incorrect API key');
    const list = await client.models.list();
    expect(list.data.map((m) => m.id)).toEqual(['judge-a', 'judge-b']);
    expect(list.data[0].object).toBe('model');
    expect(sim.requests).toHaveLength(0);
  });

  it('404 for unknown paths, 400 for a bad body, 413 over the body limit', async ({ start }) => {
    const { sim } = await start();
    const auth = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
    expect((await fetch(`${sim.url}/embeddings`, { method: 'POST', headers: auth, body: '{}' })).status).toBe(404);
    expect(
      (await fetch(`${sim.url}/chat/completions`, { method: 'POST', headers: auth, body: '{not json' })).status,
    ).toBe(400);
    const big = 'x'.repeat(51 * 1024 * 1024);
    const r = await fetch(`${sim.url}/chat/completions`, { method: 'POST', headers: auth, body: big });
    expect(r.status).toBe(413);
    expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/too large/);
  });

  it('400 for an undecodable image', async ({ start }) => {
    const { client } = await start();
    const err = await client.chat.completions
      .create(t2i(['data:image/png;base64,bm90IGFuIGltYWdl', bright]))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('recorded bodies shorten data URLs unless keepImageData is set; strictModel rejects unknown models', async ({
    start,
  }) => {
    const { client, sim } = await start({ strictModel: true });
    await ask(client, t2i([dark, bright]));
    const url = sim.requests[0].body.messages[0].content[1].image_url.url as string;
    expect(url).toBe(`data:image/png;base64,<sha256=${sim.requests[0].images[0].sha256};chars=${dark.length - 22}>`);
    expect(sim.requests[0].images[0]).toMatchObject({ mime: 'image/png', payloadChars: dark.length - 22 });
    sim.setOptions({ keepImageData: true });
    await ask(client, t2i([dark, bright]));
    expect(sim.requests[1].body.messages[0].content[1].image_url.url).toBe(dark);
    const err = await client.chat.completions
      .create({ ...t2i([dark, bright]), model: 'gpt-4o' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('decode cache: a repeated request decodes nothing', async ({ start }) => {
    const { client, sim } = await start();
    await ask(client, t2i([dark, bright]));
    expect(sim.stats).toMatchObject({ decodes: 2, cacheHits: 0 });
    await ask(client, t2i([dark, bright]));
    expect(sim.stats).toMatchObject({ decodes: 2, cacheHits: 2 });
    expect(sim.requests[1].images.map((i) => i.sha256)).toEqual(sim.requests[0].images.map((i) => i.sha256));
  });

  it('position bias at rate 1 makes the first candidate win', async ({ start }) => {
    const { client, sim } = await start();
    expect(JSON.parse((await ask(client, t2i([dark, bright]))).content).rank).toEqual([2, 1]);
    sim.setOptions({ positionBias: 1 });
    for (let i = 0; i < 5; i++)
      expect(JSON.parse((await ask(client, t2i([dark, bright]))).content).rank).toEqual([1, 2]);
    expect(JSON.parse((await ask(client, edit(mid, [dark, bright]))).content).rank).toEqual([1, 2]);
  });

  it('hang + close() ends cleanly', { timeout: 30_000 }, async () => {
    const s = await startSimVlm({ faults: [{ kind: 'hang' }] });
    const pending = fetch(`${s.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(t2i([dark, bright])),
    }).then(
      () => 'answered',
      () => 'socket closed',
    );
    await vi.waitFor(() => expect(s.requests).toHaveLength(1), { timeout: 10_000 });
    // close() must not wait for the hung answer; if it did, the test would run into its timeout.
    await s.close();
    expect(await pending).toBe('socket closed');
  });

  // Throughput figures are bench/judge.ts's job; this checks that concurrent requests are all answered and
  // each distinct image is decoded once.
  it('answers 200 requests, 32 at a time, decoding each distinct image once', { timeout: 60_000 }, async ({
    start,
  }) => {
    const { sim } = await start({ latencyMs: 0 });
    const client = new OpenAI({ apiKey: KEY, baseURL: sim.url, maxRetries: 0, timeout: 10_000 });
    const urls = [dark, mid, bright, big];
    let next = 0;
    let ok = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < 200) {
          const i = next++;
          const r = await client.chat.completions.create(t2i([urls[i % 4], urls[(i + 1) % 4]]));
          if (JSON.parse(r.choices[0].message.content ?? '').rank.length === 2) ok++;
        }
      }),
    );
    expect(ok).toBe(200);
    expect(sim.requests).toHaveLength(200);
    expect(sim.stats.decodes).toBe(4);
  });
});
