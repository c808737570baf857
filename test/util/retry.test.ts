// The one retry layer: Retry-After clamping, full-jitter backoff, and the attempt loop's hooks.
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import {
  MAX_BACKOFF_MS,
  MAX_RETRY_AFTER_MS,
  isTransientHttpError,
  retryAfterMs,
  retryDelayMs,
  withRetries,
} from '../../src/util/retry.js';

const withHeader = (value: string) => ({ headers: { 'retry-after': value } });

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates', () => {
    expect(retryAfterMs(withHeader('2'))).toBe(2000);
    expect(retryAfterMs({ headers: new Headers({ 'retry-after': '1.5' }) })).toBe(1500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(withHeader('Thu, 01 Jan 2026 00:00:03 GMT'), now)).toBe(3000);
  });

  it('clamps a negative Retry-After to 0, as seconds or as a date in the past', () => {
    expect(retryAfterMs(withHeader('-30'))).toBe(0);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(withHeader('Wed, 31 Dec 2025 23:00:00 GMT'), now)).toBe(0);
  });

  it('caps a huge Retry-After at MAX_RETRY_AFTER_MS', () => {
    expect(retryAfterMs(withHeader('86400'))).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterMs(withHeader('1e308'))).toBe(MAX_RETRY_AFTER_MS);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(withHeader('Fri, 01 Jan 2027 00:00:00 GMT'), now)).toBe(MAX_RETRY_AFTER_MS);
  });

  it('ignores a missing or unreadable header', () => {
    expect(retryAfterMs(new Error('x'))).toBeUndefined();
    expect(retryAfterMs(withHeader('soon'))).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
});

describe('retryDelayMs', () => {
  it('draws from [0, min(cap, base * 2^attempt)) (full jitter)', () => {
    expect(retryDelayMs(new Error('x'), 0, { random: () => 0.5 })).toBe(250);
    expect(retryDelayMs(new Error('x'), 3, { random: () => 0.5, baseMs: 100 })).toBe(400);
    expect(retryDelayMs(new Error('x'), 30, { random: () => 0.999 })).toBeLessThan(MAX_BACKOFF_MS);
    expect(retryDelayMs(new Error('x'), 30, { random: () => 0.5, capMs: 1000 })).toBe(500);
    expect(retryDelayMs(new Error('x'), 0, { random: () => 0 })).toBe(0);
  });

  it('waits the clamped Retry-After when it is longer than the backoff', () => {
    expect(retryDelayMs(withHeader('3'), 0, { random: () => 0.5 })).toBe(3000);
    expect(retryDelayMs(withHeader('-5'), 0, { random: () => 0.5 })).toBe(250);
    expect(retryDelayMs(withHeader('99999'), 0, { random: () => 0.5 })).toBe(MAX_RETRY_AFTER_MS);
  });
});

describe('withRetries', () => {
  const transient = () => new OpenAI.APIConnectionError({ message: 'refused' });

  it('retries transient failures until one succeeds, calling the hooks in order', async () => {
    const events: string[] = [];
    const result = await withRetries(
      async (n) => {
        events.push(`attempt ${n}`);
        if (n < 2) throw transient();
        return 'ok';
      },
      {
        retries: 3,
        beforeAttempt: () => events.push('before'),
        inspect: (_e, n, last) => events.push(`inspect ${n} ${last}`),
        onRetry: (_e, n) => events.push(`retry ${n}`),
        delayMs: () => 0,
      },
    );
    expect(result).toBe('ok');
    expect(events).toEqual([
      'before',
      'attempt 0',
      'inspect 0 false',
      'retry 0',
      'before',
      'attempt 1',
      'inspect 1 false',
      'retry 1',
      'before',
      'attempt 2',
    ]);
  });

  it('gives up after the retries, naming how many attempts were made', async () => {
    let attempts = 0;
    const failure = withRetries(
      async () => {
        attempts++;
        throw transient();
      },
      { retries: 2, delayMs: () => 0, giveUp: (_e, n) => new Error(`gave up after ${n}`) },
    );
    await expect(failure).rejects.toThrow('gave up after 3');
    expect(attempts).toBe(3);
  });

  it('does not retry a failure that is not transient, and lets inspect or beforeAttempt stop at once', async () => {
    let attempts = 0;
    await expect(
      withRetries(
        async () => {
          attempts++;
          throw new Error('bad request');
        },
        { retries: 5, delayMs: () => 0 },
      ),
    ).rejects.toThrow('bad request');
    expect(attempts).toBe(1);
    await expect(
      withRetries(async () => Promise.reject(transient()), {
        retries: 5,
        delayMs: () => 0,
        inspect: () => {
          throw new Error('stop');
        },
      }),
    ).rejects.toThrow('stop');
    await expect(
      withRetries(async () => 'never', {
        retries: 5,
        beforeAttempt: () => {
          throw new Error('closed');
        },
      }),
    ).rejects.toThrow('closed');
  });

  it('treats 408/409/429/5xx and connection failures as transient, 4xx otherwise not', () => {
    const status = (s: number) => OpenAI.APIError.generate(s, {}, 'x', new Headers());
    expect([408, 409, 429, 500, 503].map((s) => isTransientHttpError(status(s)))).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect([400, 401, 404].map((s) => isTransientHttpError(status(s)))).toEqual([false, false, false]);
    expect(isTransientHttpError(transient())).toBe(true);
    expect(isTransientHttpError(new Error('x'))).toBe(false);
  });
});
