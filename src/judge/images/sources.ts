// Where images come from: local files, http(s) URLs and data: URLs, each read into a `Source` whose
// identity is the sha256 of its original bytes. Reads are bounded (`maxInputBytes`) and fetches time out.
import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import type { ImageRef } from '../../data/types.js';
import { sha256Hex } from '../../store/canonical-json.js';
import { DataUrlError, dataUrlBytes } from '../../util/data-url.js';
import { ImageError } from './image-error.js';

export const DEFAULT_FETCH_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_INPUT_BYTES = 256 * 1024 * 1024;

/** The original image: its identity, and its bytes on demand (a known, unchanged file is not re-read). */
export interface Source {
  sha256: string;
  name: string;
  size: number;
  bytes: () => Promise<Buffer>;
}

/** The identity of an image: sha256 of its original bytes (a file is hashed as a stream, a URL fetched). */
export async function imageIdentity(
  ref: ImageRef,
  opts: { fetchTimeoutMs?: number; maxInputBytes?: number } = {},
): Promise<string> {
  if (ref.kind === 'file') {
    const hash = createHash('sha256');
    try {
      for await (const chunk of createReadStream(ref.path)) hash.update(chunk as Buffer);
    } catch (err) {
      throw fileError(ref.path, err);
    }
    return hash.digest('hex');
  }
  const bytes =
    ref.kind === 'data' || ref.url.startsWith('data:')
      ? decodeDataUrl(ref.url)
      : await fetchBytes(
          ref.url,
          opts.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS,
          opts.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES,
        );
  return sha256Hex(bytes);
}

/**
 * Reads image sources and remembers identities already computed: files by path (valid while
 * size/mtime/inode match), URLs by URL, so a known, unchanged input is not hashed again.
 */
export class ImageSources {
  private readonly fileIds = new Map<string, { size: number; mtimeMs: number; ino: number; sha256: string }>();
  private readonly urlIds = new Map<string, { sha256: string; size: number }>();

  constructor(
    private readonly fetchTimeoutMs: number,
    private readonly maxInputBytes: number,
  ) {}

  /** The original image behind `ref`: its identity, size and bytes. */
  async source(ref: ImageRef): Promise<Source> {
    if (ref.kind === 'file') return this.fileSource(ref.path);
    if (ref.kind === 'data' || ref.url.startsWith('data:')) {
      const bytes = decodeDataUrl(ref.url);
      return bufferSource(bytes, describeDataUrl(ref.url));
    }
    const known = this.urlIds.get(ref.url);
    if (known)
      return {
        sha256: known.sha256,
        name: ref.url,
        size: known.size,
        bytes: () => fetchBytes(ref.url, this.fetchTimeoutMs, this.maxInputBytes),
      };
    const bytes = await fetchBytes(ref.url, this.fetchTimeoutMs, this.maxInputBytes);
    const src = bufferSource(bytes, ref.url);
    this.urlIds.set(ref.url, { sha256: src.sha256, size: src.size });
    return src;
  }

  private async fileSource(path: string): Promise<Source> {
    let st: Stats;
    try {
      st = await stat(path);
    } catch (err) {
      throw fileError(path, err);
    }
    if (!st.isFile()) throw new ImageError(path, 'not a file');
    const known = this.fileIds.get(path);
    if (known && known.size === st.size && known.mtimeMs === st.mtimeMs && known.ino === st.ino) {
      return { sha256: known.sha256, name: path, size: known.size, bytes: () => readLimited(path, this.maxInputBytes) };
    }
    // Read through one handle and remember the identity under that handle's stat, so a file replaced
    // between the stat and the read is not remembered under the wrong identity.
    let bytes: Buffer;
    let fst: Stats;
    try {
      const handle = await open(path, 'r');
      try {
        fst = await handle.stat();
        if (fst.size > this.maxInputBytes)
          throw new ImageError(path, `file is ${fst.size} bytes, over the ${this.maxInputBytes}-byte limit`);
        bytes = await handle.readFile();
      } finally {
        await handle.close();
      }
    } catch (err) {
      if (err instanceof ImageError) throw err;
      throw fileError(path, err);
    }
    const src = bufferSource(bytes, path);
    this.fileIds.set(path, { size: fst.size, mtimeMs: fst.mtimeMs, ino: fst.ino, sha256: src.sha256 });
    return src;
  }
}

function bufferSource(bytes: Buffer, name: string): Source {
  return { sha256: sha256Hex(bytes), name, size: bytes.length, bytes: async () => bytes };
}

export function refKey(ref: ImageRef): string {
  return ref.kind === 'file' ? `file:${ref.path}` : ref.url;
}

async function readLimited(path: string, limit: number): Promise<Buffer> {
  try {
    const st = await stat(path);
    if (st.size > limit) throw new ImageError(path, `file is ${st.size} bytes, over the ${limit}-byte limit`);
    return await readFile(path);
  } catch (err) {
    if (err instanceof ImageError) throw err;
    throw fileError(path, err);
  }
}

function fileError(path: string, err: unknown): ImageError {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new ImageError(path, 'file not found', { cause: err });
  if (code === 'EISDIR') return new ImageError(path, 'not a file', { cause: err });
  const m = /^([A-Z0-9_]+: [^,]+)/.exec((err as Error)?.message ?? '');
  return new ImageError(path, `cannot read (${m ? m[1] : String((err as Error)?.message ?? err)})`, { cause: err });
}

async function fetchBytes(url: string, timeoutMs: number, limit: number): Promise<Buffer> {
  if (!/^https?:\/\//i.test(url)) throw new ImageError(url, 'only http(s) and data: URLs are supported');
  let res: Response;
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    res = await fetch(url, { signal, redirect: 'follow' });
  } catch (err) {
    throw new ImageError(url, fetchReason(err, timeoutMs), { cause: err });
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw new ImageError(url, `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
  }
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await res.body?.cancel().catch(() => {});
    throw new ImageError(url, `response is ${declared} bytes, over the ${limit}-byte limit`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    if (res.body) {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        total += chunk.length;
        if (total > limit) throw new ImageError(url, `response is over the ${limit}-byte limit`);
        chunks.push(chunk);
      }
    }
  } catch (err) {
    if (err instanceof ImageError) throw err;
    throw new ImageError(url, fetchReason(err, timeoutMs), { cause: err });
  }
  if (total === 0) throw new ImageError(url, 'empty response');
  return Buffer.concat(chunks, total);
}

function fetchReason(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `fetch timed out after ${timeoutMs} ms`;
  const cause = e?.cause;
  if (cause?.code)
    return `fetch failed (${cause.code}${cause.message && !cause.message.includes(cause.code) ? `: ${cause.message}` : ''})`;
  if (cause?.message) return `fetch failed (${cause.message})`;
  return `fetch failed (${e?.message ?? String(err)})`;
}

/** The bytes of a data: URL, with errors that name it; an empty payload is refused. */
function decodeDataUrl(url: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = dataUrlBytes(url);
  } catch (err) {
    if (err instanceof DataUrlError) throw new ImageError(describeDataUrl(url), err.reason, { cause: err.cause });
    throw err;
  }
  if (bytes.length === 0) throw new ImageError(describeDataUrl(url), 'empty data URL');
  return bytes;
}

function describeDataUrl(url: string): string {
  const comma = url.indexOf(',');
  const header = comma > 0 && comma <= 100 ? url.slice(0, comma) : url.slice(0, 40);
  return `data URL ${header},… (${url.length} chars)`;
}
