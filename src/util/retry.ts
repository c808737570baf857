// The one retry layer for HTTP calls we make through the openai SDK (its own retries stay off:
// `maxRetries: 0`). Exponential backoff with full jitter; a server's Retry-After is honoured but
// clamped, so a negative value cannot mean "hammer me" and a huge one cannot stall a run for hours.
import OpenAI from 'openai';

/** The longest a Retry-After header may make us wait. */
export const MAX_RETRY_AFTER_MS = 60_000;
/** The longest backoff between two attempts when the server says nothing. */
export const MAX_BACKOFF_MS = 20_000;

/** 408, 409, 429, 5xx and connection failures (timeouts included) are worth another try. */
export const isTransientHttpError = (error: unknown): boolean =>
  error instanceof OpenAI.APIConnectionError ||
  (error instanceof OpenAI.APIError &&
    (error.status === 408 || error.status === 409 || error.status === 429 || (error.status ?? 0) >= 500));

/**
 * The wait a failed response's Retry-After header asks for, in ms (seconds or an HTTP date), clamped
 * to [0, MAX_RETRY_AFTER_MS]; undefined when there is no usable header.
 */
export function retryAfterMs(error: unknown, now = Date.now()): number | undefined {
  const headers = (error as { headers?: Headers | Record<string, string> } | undefined)?.headers;
  const value = headers instanceof Headers ? headers.get('retry-after') : headers?.['retry-after'];
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  return Number.isNaN(ms) ? undefined : Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS);
}

export interface BackoffOptions {
  /** The first attempt's ceiling, doubled per attempt (default 500). */
  baseMs?: number;
  /** The ceiling no backoff passes (default MAX_BACKOFF_MS). */
  capMs?: number;
  /** Source of jitter in [0, 1) (default Math.random). */
  random?: () => number;
}

/**
 * How long to wait before retrying after `error` on attempt `attempt` (0-based): a uniform draw from
 * [0, min(cap, base·2^attempt)) ("full jitter", so many clients do not retry in step), or the server's
 * Retry-After when that is longer.
 */
export function retryDelayMs(error: unknown, attempt: number, options: BackoffOptions = {}): number {
  const ceiling = Math.min(options.capMs ?? MAX_BACKOFF_MS, (options.baseMs ?? 500) * 2 ** attempt);
  const backoff = (options.random ?? Math.random)() * ceiling;
  return Math.max(retryAfterMs(error) ?? 0, backoff);
}

export interface RetryOptions {
  /** Retries after the first attempt (0: one attempt only). */
  retries: number;
  /** Runs before every attempt, outside the failure handling: throw here to stop before sending. */
  beforeAttempt?: () => void;
  /** Sees every failure first (`last`: no retries remain); throw from it to stop at once. */
  inspect?: (error: unknown, attempt: number, last: boolean) => void;
  /** Whether a failure may be retried (default isTransientHttpError). */
  retryable?: (error: unknown) => boolean;
  /** The error thrown when a failure is not retried; `attempts` counts the first one (default: the failure itself). */
  giveUp?: (error: unknown, attempts: number) => unknown;
  /** Runs before waiting to retry. */
  onRetry?: (error: unknown, attempt: number) => void;
  /** The wait before the next attempt (default retryDelayMs with its defaults). */
  delayMs?: (error: unknown, attempt: number) => number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `attempt` until it succeeds, a failure is not retryable, or the retries are spent. */
export async function withRetries<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const retryable = options.retryable ?? isTransientHttpError;
  for (let n = 0; ; n++) {
    options.beforeAttempt?.();
    try {
      return await attempt(n);
    } catch (error) {
      const last = n >= options.retries;
      options.inspect?.(error, n, last);
      if (last || !retryable(error)) throw options.giveUp ? options.giveUp(error, n + 1) : error;
      options.onRetry?.(error, n);
      await sleep((options.delayMs ?? retryDelayMs)(error, n));
    }
  }
}
