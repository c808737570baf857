// The judge client's circuit breaker against a simulated VLM that goes away mid-run: each test waits
// through the real retry and breaker window (seconds), so this is the e2e tier.
import { describe, expect } from 'vitest';
import { JudgeUnavailableError } from '../../src/judge/client.js';
import { evaluate } from '../../src/judge/evaluate.js';
import { it } from '../helpers/fixtures.js';
import { brightnessPairs, client, encoder, pairRequest, parse2, settings } from './support.js';

describe('endpoint down mid-run', () => {
  it('trips the breaker when the endpoint vanishes mid-run, within 10 seconds', async ({ startSim }) => {
    const s = await startSim();
    const c = client(settings([s.url], { retries: 20 }));
    await c.ask(await pairRequest(), parse2);
    await s.close();
    const started = Date.now();
    const error = await c.ask(await pairRequest(120), parse2).catch((e) => e);
    expect(error).toBeInstanceOf(JudgeUnavailableError);
    expect(error.message).toContain('refused connections');
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 15_000);

  it('ends a run on a vanished endpoint with the default retries, not item by item', async ({ startSim }) => {
    const s = await startSim();
    const c = client(settings([s.url], { retries: 4, concurrency: 2 }));
    await c.ask(await pairRequest(), parse2);
    await s.close();
    const started = Date.now();
    const run = evaluate(
      await brightnessPairs(20),
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
    await expect(run).rejects.toBeInstanceOf(JudgeUnavailableError);
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 15_000);
});
