// HTTP plumbing of the reward service: errors with a status, JSON answers, the token check and a body
// reader that is bounded in size, in time and in memory shared by all requests.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ArrError } from '../util/errors.js';

export type HttpStatus = 400 | 401 | 404 | 405 | 408 | 413 | 502 | 503;

/** An answer other than 200, with the status and headers it is sent with. */
export class HttpError extends ArrError {
  constructor(
    readonly status: HttpStatus,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** The client went away before its answer could be sent: not the judge's fault, counted apart. */
export class ClientGoneError extends ArrError {}

/** Sends `payload` as JSON unless an answer was already sent or the socket is gone. */
export function sendJson(
  res: ServerResponse,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * Answers `error` and closes the connection once the answer is out, so a body that was not read (or
 * not read to its end) is never consumed.
 */
export function sendAndClose(req: IncomingMessage, res: ServerResponse, error: HttpError): void {
  req.pause();
  sendJson(res, error.status, { error: error.message }, { ...error.headers, connection: 'close' });
  res.once('finish', () => req.socket.destroySoon?.());
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Compares `Authorization: Bearer <token>` in constant time (over digests, so lengths do not leak). */
export function bearerChecker(token: string): (req: IncomingMessage) => boolean {
  const expected = digest(token);
  return (req) => {
    const header = req.headers.authorization;
    if (typeof header !== 'string' || !/^Bearer\s+/i.test(header)) return false;
    return timingSafeEqual(digest(header.replace(/^Bearer\s+/i, '').trim()), expected);
  };
}

/** Bytes of request bodies held in memory at once, over all requests. */
export class BodyBudget {
  private used = 0;
  constructor(readonly max: number) {}

  /** Takes `bytes` from the budget, or returns false when they do not fit. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.max) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }

  get inUse(): number {
    return this.used;
  }
}

export interface BodyLimits {
  maxBodyBytes: number;
  bodyTimeoutMs: number;
}

/**
 * Reads a request body completely, within `maxBodyBytes` and `bodyTimeoutMs` (measured from the call,
 * so a client trickling bytes cannot hold the request open). The room is taken from `budget` before a
 * byte is read (the declared length, or the limit for a chunked body) and given back when the response
 * closes. With a declared length the bytes go straight into one buffer of that size (no second copy).
 */
export function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  limits: BodyLimits,
  budget: BodyBudget,
): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  const known = Number.isFinite(declared) && declared >= 0;
  if (known && declared > limits.maxBodyBytes) {
    return Promise.reject(
      new HttpError(413, `request body of ${declared} bytes is over the limit of ${limits.maxBodyBytes}`),
    );
  }
  const reserve = known ? declared : limits.maxBodyBytes;
  if (!budget.take(reserve)) {
    return Promise.reject(
      new HttpError(
        503,
        `busy: ${budget.inUse} bytes of request bodies are being handled (limit ${budget.max}); retry shortly`,
        { 'retry-after': '1' },
      ),
    );
  }
  res.once('close', () => budget.give(reserve));

  return new Promise((resolveBody, reject) => {
    const whole = known ? Buffer.allocUnsafe(declared) : undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error?: Error) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
      if (error) {
        req.pause();
        chunks.length = 0;
        reject(error);
      }
    };
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > (known ? declared : limits.maxBodyBytes)) {
        finish(
          new HttpError(413, `request body over ${known ? `its declared ${declared}` : limits.maxBodyBytes} bytes`),
        );
        return;
      }
      if (whole) chunk.copy(whole, size);
      else chunks.push(chunk);
      size += chunk.length;
    };
    const onEnd = () => {
      finish();
      resolveBody(whole ? whole.subarray(0, size) : Buffer.concat(chunks, size));
    };
    const onError = (error: Error) =>
      finish(new ClientGoneError(`the client went away while sending its body (${error.message})`));
    const onAborted = () => finish(new ClientGoneError('the client went away while sending its body'));
    const timer = setTimeout(
      () =>
        finish(
          new HttpError(
            408,
            `request body not received within ${limits.bodyTimeoutMs / 1000} s (${size} of ${known ? declared : 'unknown'} bytes arrived)`,
          ),
        ),
      limits.bodyTimeoutMs,
    );
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('aborted', onAborted);
  });
}

/** JSON keys that would reach, or pretend to be, an object's prototype; refused in every body. */
const REFUSED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Bytes that are not UTF-8 are refused rather than turned into U+FFFD and passed on to the judge. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses a JSON body, refusing invalid UTF-8 and prototype keys anywhere in it; `what` names the body in messages. */
export function parseJsonBody(raw: Buffer, what = 'body'): unknown {
  let text: string;
  try {
    text = strictUtf8.decode(raw);
  } catch {
    throw new HttpError(400, `${what}: not valid UTF-8`);
  }
  let refused: string | undefined;
  let value: unknown;
  try {
    value = JSON.parse(text, (key, v: unknown) => {
      if (REFUSED_KEYS.has(key)) refused ??= key;
      return v;
    });
  } catch (error) {
    throw new HttpError(400, `${what}: not valid JSON (${(error as Error).message})`);
  }
  if (refused)
    throw new HttpError(
      400,
      `${what}: the key ${JSON.stringify(refused)} is refused (__proto__, constructor and prototype never appear in a request)`,
    );
  return value;
}
