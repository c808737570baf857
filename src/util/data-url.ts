// The one reader and writer of `data:` URLs, shared by the dataset checks, the judge's image encoder and
// the report thumbnails (each used to carry its own copy, and the copies had drifted apart).
import { ArrError } from './errors.js';

/** A `data:` URL that is malformed or whose payload cannot be decoded. `reason` is the bare cause. */
export class DataUrlError extends ArrError {
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(reason, options);
  }
}

/** `data:<mime>;base64,<bytes>`. */
export function dataUrl(mime: string, bytes: Uint8Array): string {
  return `data:${mime};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
}

/**
 * The bytes a `data:` URL carries: base64 when the header ends in `;base64`, else percent-encoded text.
 * An empty payload is returned as an empty buffer (callers word that case themselves).
 */
export function dataUrlBytes(url: string): Buffer {
  const comma = url.indexOf(',');
  if (!url.startsWith('data:') || comma < 0) throw new DataUrlError('not a data URL');
  const header = url.slice(5, comma);
  const payload = url.slice(comma + 1);
  try {
    return /;base64\s*$/i.test(header)
      ? Buffer.from(payload, 'base64')
      : Buffer.from(decodeURIComponent(payload), 'latin1');
  } catch (err) {
    throw new DataUrlError(`cannot be decoded (${(err as Error).message})`, { cause: err });
  }
}
