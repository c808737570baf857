// What one request, and all requests together, may cost the reward service, and the bind/token rule.
import { isIP } from 'node:net';
import { ArrError } from '../util/errors.js';

export interface RewardLimits {
  /** Request bodies larger than this get 413 (default 64 MiB). */
  maxBodyBytes: number;
  /**
   * Body bytes buffered at once over all requests (default 4 × maxBodyBytes). A request whose declared
   * (or, when chunked, possible) size does not fit waits for no one: it gets 503 + Retry-After, so
   * memory stays bounded whatever the number of clients.
   */
  maxBufferedBytes: number;
  /** A body must arrive completely within this many ms of its headers (default 60 000); else 408. */
  bodyTimeoutMs: number;
  /** Items per request (default 64); more get 413. */
  maxItems: number;
  /** Items accepted and not yet answered, over all requests (default 1024); more get 503 + Retry-After. */
  maxQueue: number;
  /** Characters in one item's query (default 16 384); longer gets 413 and nothing is forwarded. */
  maxQueryChars: number;
  /** Characters of text over all messages of one chat completion (default 262 144); more gets 413. */
  maxChatTextChars: number;
}

export const DEFAULT_LIMITS: RewardLimits = {
  maxBodyBytes: 64 * 1024 * 1024,
  maxBufferedBytes: 4 * 64 * 1024 * 1024,
  bodyTimeoutMs: 60_000,
  maxItems: 64,
  maxQueue: 1024,
  maxQueryChars: 16_384,
  maxChatTextChars: 262_144,
};

/** The defaults with `partial` applied; the buffered-bytes budget follows a changed body limit. */
export function resolveLimits(partial: Partial<RewardLimits> = {}): RewardLimits {
  const maxBodyBytes = partial.maxBodyBytes ?? DEFAULT_LIMITS.maxBodyBytes;
  return { ...DEFAULT_LIMITS, maxBufferedBytes: 4 * maxBodyBytes, ...partial, maxBodyBytes };
}

/** A token shorter than this is refused when the service listens beyond loopback. */
export const MIN_PUBLIC_TOKEN_CHARS = 32;

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(bind: string): boolean {
  const host = bind.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (host === '::1') return true;
  return host.startsWith('::ffff:127.');
}

/** Refuses to listen on a reachable address with a token someone could guess. */
export function assertSafeBind(bind: string, token: string): void {
  if (isLoopback(bind) || token.length >= MIN_PUBLIC_TOKEN_CHARS) return;
  throw new ArrError(
    `refusing to listen on ${bind} with a ${token.length}-character token: beyond loopback the token must be at least ${MIN_PUBLIC_TOKEN_CHARS} characters`,
    {
      hint: 'set ARR_REWARD_TOKEN to a long random value (e.g. `openssl rand -hex 32`), or leave --token unset to get one, or bind to 127.0.0.1',
    },
  );
}
