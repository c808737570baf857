import { createHash } from 'node:crypto';
import { ArrError } from '../util/errors.js';

/**
 * JSON with object keys sorted (recursively) and no whitespace, so equal values always give equal text.
 * Only plain JSON data is accepted: undefined, functions, symbols, bigints, NaN/Infinity, cycles and
 * class instances (Date, Map, Buffer, ...) are rejected with the path of the offending value, because
 * silently dropping or coercing them would let two different inputs share one cache key.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, '$', new Set());
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The cache key of a value: sha256 of its canonical JSON (64 lowercase hex characters). */
export function keyOf(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

export class CanonicalJsonError extends ArrError {
  constructor(
    readonly at: string,
    reason: string,
  ) {
    super(`cannot encode ${at} as canonical JSON: ${reason}`);
    this.name = 'CanonicalJsonError';
  }
}

function encode(value: unknown, at: string, ancestors: Set<object>): string {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(at, `${value} is not a finite number`);
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw new CanonicalJsonError(at, `${typeof value} is not JSON data`);
  }
  if (value === null) return 'null';
  if (ancestors.has(value)) throw new CanonicalJsonError(at, 'circular reference');
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      return `[${value.map((item, i) => encode(item, `${at}[${i}]`, ancestors)).join(',')}]`;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const name = (value as object).constructor?.name ?? 'unknown';
      throw new CanonicalJsonError(at, `${name} is not a plain object; convert it to JSON data first`);
    }
    const record = value as Record<string, unknown>;
    const parts = Object.keys(record)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${encode(record[k], `${at}.${k}`, ancestors)}`);
    return `{${parts.join(',')}}`;
  } finally {
    ancestors.delete(value);
  }
}
