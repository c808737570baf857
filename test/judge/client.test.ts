// The judge client against the simulated VLM over real HTTP: retries, faults, auth, cache, budget. The
// breaker's waits on a vanished endpoint are in client.e2e.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { BudgetExceededError, JudgeAuthError, JudgeUnavailableError, JudgementError } from '../../src/judge/client.js';
import { evaluate } from '../../src/judge/evaluate.js';
import { it } from '../helpers/fixtures.js';
import { brightnessRule } from '../helpers/sim-vlm.js';
import { brightnessPairs, client, encoder, grey, pairRequest, parse2, settings } from './support.js';

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

describe('retries and faults', () => {
  it('backs off through a 429 storm, honouring Retry-After, and completes', async ({ startSim }) => {
    const s = await startSim({ faults: [{ kind: '429', rate: 0.5, retryAfterS: 0 }], seed: 3 });
    const c = client(settings([s.url], { retries: 8 }));
    const items = await brightnessPairs(12);
    const { summary } = await evaluate(
      items,
      {
        task: 't2i',
        mode: 'pairwise',
        language: 'en',
        taskDescription: '',
        rubric: undefined,
        bothOrders: false,
        minScore: 1,
        maxScore: 5,
      },
      { client: c, encoder: encoder() },
    );
    expect(summary.failures).toBe(0);
    expect(summary.accuracy).toBe(1);
    expect(c.usage.retries).toBeGreaterThan(0);
    expect(s.stats.byStatus[429]).toBe(c.usage.retries);
  }, 30_000);

  it('completes a run with 10% server errors', async ({ startSim }) => {
    const s = await startSim({ faults: [{ kind: '500', rate: 0.1 }], seed: 5 });
    const c = client(settings([s.url]));
    const { summary } = await evaluate(
      await brightnessPairs(20),
      {
        task: 't2i',
        mode: 'pairwise',
        language: 'en',
        taskDescription: '',
        rubric: undefined,
        bothOrders: true,
        minScore: 1,
        maxScore: 5,
      },
      { client: c, encoder: encoder() },
    );
    expect(summary).toMatchObject({ failures: 0, judged: 20, correct: 20, agreement: 1 });
    expect(s.stats.byStatus[500]).toBeGreaterThan(0);
  }, 30_000);

  it('does not retry a refused key and says the key is refused, without the key', async ({ startSim }) => {
    const s = await startSim({ apiKey: 'right-key' });
    const c = client(settings([s.url], { apiKey: 'sk-wrong-secret' }));
    const error = await c.ask(await pairRequest(), parse2).catch((e) => e);
    expect(error).toBeInstanceOf(JudgeAuthError);
    expect(error.message).toContain('refused the API key (HTTP 401; a key was set)');
    expect(error.message).not.toContain('sk-wrong-secret');
    expect(s.stats.requests).toBe(1);
  });

  it('re-asks a malformed answer with the problem, then succeeds', async ({ startSim }) => {
    const s = await startSim({ faults: [{ kind: 'garbage', times: 1 }] });
    const c = client(settings([s.url]));
    const result = await c.ask(await pairRequest(), parse2);
    expect(result.value.rank).toEqual([1, 2]);
    expect(result.replies).toHaveLength(2);
    expect(c.usage.reasks).toBe(1);
    const reask = s.requests[1];
    expect(reask.text).toContain('Your previous answer could not be used: the reply has no JSON object');
  });

  it('gives up after the re-asks, keeping every raw reply', async ({ startSim }) => {
    const s = await startSim({ faults: [{ kind: 'tie' }] });
    const c = client(settings([s.url], { reasks: 2 }));
    const error = await c.ask(await pairRequest(), parse2).catch((e) => e);
    expect(error).toBeInstanceOf(JudgementError);
    expect(error.message).toContain('invalid answer after 3 ask(s): "rank" [1,1] is not a permutation');
    expect(error.replies).toHaveLength(3);
    expect(c.usage.failures).toBe(1);
  });

  it('tolerates fenced, think-prefixed and preambled answers without re-asking', async ({ startSim }) => {
    for (const kind of ['fenced', 'think', 'preamble'] as const) {
      const s = await startSim({ faults: [{ kind }] });
      const c = client(settings([s.url]));
      expect((await c.ask(await pairRequest(), parse2)).value.rank).toEqual([1, 2]);
      expect(c.usage.reasks).toBe(0);
    }
  });

  it('times out a hanging call and retries it', async ({ startSim }) => {
    const s = await startSim({ faults: [{ kind: 'hang', times: 1 }] });
    const c = client(settings([s.url], { timeoutS: 0.3 }));
    expect((await c.ask(await pairRequest(), parse2)).value.rank).toEqual([1, 2]);
    expect(c.usage.retries).toBe(1);
  });
});

describe('endpoint down', () => {
  it('fails the preflight within seconds, naming the URL', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/v1`;
    const started = Date.now();
    const error = await client(settings([url]))
      .preflight()
      .catch((e) => e);
    expect(error).toBeInstanceOf(JudgeUnavailableError);
    expect(error.message).toContain(`${url} (connection refused)`);
    expect(error.message).toContain('vllm serve');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('warns, not fails, when the model is missing from /models', async ({ startSim }) => {
    const s = await startSim({ models: ['other/model'] });
    const warnings: string[] = [];
    await client(settings([s.url]), undefined, warnings).preflight();
    expect(warnings[0]).toContain('does not list model Qwen/Qwen3-VL-8B-Instruct');
  });

  it('balances replicas and sets a dead one aside', async ({ startSim }) => {
    const a = await startSim();
    const b = await startSim();
    const c = client(settings([a.url, b.url]));
    for (let i = 0; i < 6; i++) await c.ask(await pairRequest(100 + i), parse2);
    expect(a.stats.requests).toBe(3);
    expect(b.stats.requests).toBe(3);
    await a.close();
    for (let i = 0; i < 4; i++) await c.ask(await pairRequest(150 + i), parse2);
    expect(b.stats.requests).toBeGreaterThanOrEqual(7);
  }, 20_000);
});

describe('response cache and budgets', () => {
  it('answers a repeated request from the cache, never caches failures, and --no-cache bypasses it', async ({
    startSim,
    tempDir,
  }) => {
    const dir = tempDir();
    const s = await startSim({ faults: [{ kind: '500', times: 1 }] });
    const c = client(settings([s.url], { retries: 0 }), dir);
    const request = await pairRequest();
    await expect(c.ask(request, parse2)).rejects.toBeInstanceOf(JudgementError);
    expect(readdirSync(dir)).toEqual([]);
    await c.ask(request, parse2);
    const again = await c.ask(request, parse2);
    expect(again.cached).toBe(true);
    expect(s.stats.requests).toBe(2);
    await c.ask(request, parse2, { noCache: true });
    expect(s.stats.requests).toBe(3);
  });

  it('keys requests by image content, not by data URL or endpoint', async ({ startSim }) => {
    const a = await startSim();
    const b = await startSim();
    const request = await pairRequest();
    expect(client(settings([a.url])).requestKey(request)).toBe(client(settings([b.url])).requestKey(request));
    expect(client(settings([a.url])).requestKey(request)).not.toBe(
      client(settings([a.url])).requestKey(await pairRequest(201)),
    );
    expect(client(settings([a.url])).requestKey({ ...request, sample: 1 })).not.toBe(
      client(settings([a.url])).requestKey(request),
    );
  });

  it('never writes the API key into cached responses', async ({ startSim, tempDir }) => {
    const dir = tempDir();
    const s = await startSim({ apiKey: 'sk-cache-secret' });
    const c = client(settings([s.url], { apiKey: 'sk-cache-secret' }), dir);
    await c.ask(await pairRequest(), parse2);
    const files = readdirSync(dir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    for (const f of files) expect(readFileSync(join(dir, f), 'utf8')).not.toContain('sk-cache-secret');
  });

  it('stops cleanly at judge.max_calls and reports where it stopped', async ({ startSim }) => {
    const s = await startSim();
    const c = client(settings([s.url], { maxCalls: 5, concurrency: 1 }));
    const { summary, items } = await evaluate(
      await brightnessPairs(10),
      {
        task: 't2i',
        mode: 'pairwise',
        language: 'en',
        taskDescription: '',
        rubric: undefined,
        bothOrders: false,
        minScore: 1,
        maxScore: 5,
      },
      { client: c, encoder: encoder() },
    );
    expect(summary.stoppedBy).toBe('judge.max_calls (5) reached');
    expect(summary.judged).toBe(5);
    expect(items.filter((i) => i.verdict === 'skipped')).toHaveLength(5);
    expect(s.stats.requests).toBe(5);
  });

  it('counts tokens and cost, and stops at judge.max_cost', async ({ startSim }) => {
    const s = await startSim();
    const c = client(settings([s.url], { prices: { input_per_mtok: 1000, output_per_mtok: 1000 }, maxCost: 0.5 }));
    const error = await (async () => {
      for (let i = 0; i < 50; i++) await c.ask(await pairRequest(100 + i), parse2);
    })().catch((e) => e);
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(c.usage.cost).toBeGreaterThanOrEqual(0.5);
    expect(c.usage.promptTokens).toBeGreaterThan(0);
  });
});

describe('provider capabilities', () => {
  it('switches Qwen3 thinking off and asks vLLM for structured outputs', async ({ startSim }) => {
    const s = await startSim();
    await client(settings([s.url])).ask(await pairRequest(), parse2);
    const body = s.requests[0].body;
    expect(body.chat_template_kwargs).toEqual({ enable_thinking: false });
    expect(body.structured_outputs.json.required).toEqual(['rank', 'reason']);
    expect(body.temperature).toBe(0);
  });

  it('leaves temperature out for reasoning models on OpenAI', async ({ startSim }) => {
    const s = await startSim({ models: ['gpt-5'] });
    await client(settings([s.url], { model: 'gpt-5', provider: 'openai' })).ask(await pairRequest(), parse2);
    const body = s.requests[0].body;
    expect(body).not.toHaveProperty('temperature');
    expect(body.max_completion_tokens).toBe(512);
    expect(body.response_format).toEqual({ type: 'json_object' });
  });

  it('keeps at most `concurrency` calls in flight', async ({ startSim }) => {
    // The judge counts the calls it is answering at once; each holds its slot a little while.
    let answering = 0;
    let peakAnswering = 0;
    const s = await startSim({
      rule: async (req) => {
        peakAnswering = Math.max(peakAnswering, ++answering);
        await new Promise((r) => setTimeout(r, 40));
        answering--;
        return brightnessRule(req);
      },
    });
    const c = client(settings([s.url], { concurrency: 3 }));
    let inFlight = 0;
    let peak = 0;
    const requests = await Promise.all(Array.from({ length: 12 }, (_, i) => pairRequest(60 + i)));
    await Promise.all(
      requests.map(async (r) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await c.ask(r, parse2);
        inFlight--;
      }),
    );
    expect(peak).toBe(12); // all asked at once …
    expect(peakAnswering).toBe(3); // … but only 3 at a time on the wire
  });
});

describe('grading modes and item failures', () => {
  it('scores pointwise items and compares with label_score', async ({ startSim }) => {
    const s = await startSim({
      rule: (req) => ({ score: req.candidates[0].mean[0] > 128 ? 5 : 2, reason: 'bright is good' }),
    });
    const items = [
      { index: 0, query: 'a', candidates: [await grey(220)], label: { score: 5 }, meta: {} },
      { index: 1, query: 'b', candidates: [await grey(20)], label: { score: 2 }, meta: {} },
      { index: 2, query: 'c', candidates: [await grey(21)], label: { score: 4 }, meta: {} },
    ];
    const { summary, items: results } = await evaluate(
      items,
      {
        task: 't2i',
        mode: 'pointwise',
        language: 'en',
        taskDescription: '',
        rubric: undefined,
        bothOrders: true,
        minScore: 1,
        maxScore: 5,
      },
      { client: client(settings([s.url])), encoder: encoder() },
    );
    expect(summary).toMatchObject({ judged: 3, correct: 2, agreement: null });
    expect(results.map((r) => r.predicted)).toEqual([{ score: 5 }, { score: 2 }, { score: 2 }]);
    expect(s.requests[0].prompt).toContain('Score the generated image from 1 (worst) to 5 (best)');
    expect(s.requests[0].images.map((i) => i.label)).toEqual(['Generated Image:']);
  });

  it('ranks listwise N > 2 and fails only the item whose image does not decode, naming it', async ({ startSim }) => {
    const s = await startSim();
    const items = [
      {
        index: 0,
        query: 'three',
        candidates: [await grey(90), await grey(200), await grey(30)],
        label: { rank: [2, 1, 3] },
        meta: {},
      },
      {
        index: 1,
        query: 'broken',
        candidates: [{ kind: 'file' as const, path: '/nonexistent/broken.png' }, await grey(10)],
        label: { rank: [1, 2] },
        meta: {},
      },
    ];
    const { summary, items: results } = await evaluate(
      items,
      {
        task: 't2i',
        mode: 'listwise',
        language: 'en',
        taskDescription: '',
        rubric: undefined,
        bothOrders: true,
        minScore: 1,
        maxScore: 5,
      },
      { client: client(settings([s.url])), encoder: encoder() },
    );
    expect(results[0]).toMatchObject({ verdict: 'agree', predicted: { rank: [2, 1, 3] }, correct: true });
    expect(results[1].verdict).toBe('failed');
    expect(results[1].orders[0].error).toContain('/nonexistent/broken.png');
    expect(summary).toMatchObject({ judged: 2, correct: 1, failures: 1 });
  });
});
