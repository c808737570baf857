// Image preparation for judge requests: every image a judge sees becomes a `data:` URL made by the recipe
// in recipe.ts. Results are cached by content hash: in memory (an LRU of data URLs) and, when `cacheDir`
// is given, on disk (disk-cache.ts) so that other processes skip the sharp work too. Concurrent requests
// for the same reference or the same content share one encode.
import type { ImageRef } from '../../data/types.js';
import { dataUrl } from '../../util/data-url.js';
import { Lru } from '../lru.js';
import { PayloadDiskCache } from './disk-cache.js';
import { MIME, prepare } from './recipe.js';
import { DEFAULT_FETCH_TIMEOUT_MS, DEFAULT_MAX_INPUT_BYTES, ImageSources, refKey, type Source } from './sources.js';

const DEFAULT_MEMORY_BUDGET = 256 * 1024 * 1024;

export interface EncodedImage {
  /** What goes into the `image_url` block: always a `data:` URL. */
  url: string;
  /** sha256 of the ORIGINAL bytes (the image's identity in cache keys). */
  sha256: string;
  mime: string;
  /** Bytes of what is sent (the decoded payload of `url`). */
  bytes: number;
  originalBytes: number;
  /** Size of what is sent, after auto-orientation and resizing. */
  width: number;
  height: number;
  /** False when the original bytes are sent unchanged. */
  reencoded: boolean;
}

export interface ImageEncoderOptions {
  /** The longer side of what is sent is at most this many pixels (images are never enlarged). */
  maxSide: number;
  /** Where encoded images persist across processes, e.g. `<workspace>/cache/images`. */
  cacheDir?: string;
  /** Timeout for fetching an http(s) image, in ms (default 30 000). */
  fetchTimeoutMs?: number;
  /** Bound on the in-memory LRU of encoded data URLs, in bytes (default 256 MiB). */
  memoryBudgetBytes?: number;
  /** Inputs larger than this are refused (default 256 MiB). */
  maxInputBytes?: number;
}

export interface ImageEncoderStats {
  /** Images that went through sharp (decode + resize + encode). */
  encodes: number;
  /** encode() calls answered from the in-memory LRU. */
  memoryHits: number;
  /** encode() calls answered from `cacheDir` (no sharp work). */
  diskHits: number;
  /** encode() calls that joined an encode of the same image already in flight. */
  sharedInFlight: number;
  /** Original bytes behind each fresh result (sharp encodes and disk hits). */
  bytesIn: number;
  /** Sent bytes of each fresh result (sharp encodes and disk hits). */
  bytesOut: number;
  /** Cache files that were unreadable, truncated or corrupt and were rebuilt. */
  diskRejects: number;
  /** Cache writes that failed (the encode itself still succeeded). */
  diskWriteErrors: number;
}

export class ImageEncoder {
  readonly stats: ImageEncoderStats = {
    encodes: 0,
    memoryHits: 0,
    diskHits: 0,
    sharedInFlight: 0,
    bytesIn: 0,
    bytesOut: 0,
    diskRejects: 0,
    diskWriteErrors: 0,
  };

  private readonly maxSide: number;
  private readonly memory: Lru<EncodedImage>;
  private readonly sources: ImageSources;
  private readonly disk?: PayloadDiskCache;
  /** In-flight encodes by reference (file path / URL / data URL) and by identity. */
  private readonly byRef = new Map<string, Promise<EncodedImage>>();
  private readonly byId = new Map<string, Promise<EncodedImage>>();

  constructor(options: ImageEncoderOptions) {
    if (!Number.isInteger(options.maxSide) || options.maxSide < 1)
      throw new RangeError(`maxSide must be a positive integer, got ${options.maxSide}`);
    this.maxSide = options.maxSide;
    this.sources = new ImageSources(
      options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS,
      options.maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES,
    );
    if (options.cacheDir) this.disk = new PayloadDiskCache(options.cacheDir, this.maxSide, this.stats);
    this.memory = new Lru(options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET);
  }

  /** Prepares one image. Concurrent calls for the same reference or the same content share one encode. */
  encode(ref: ImageRef): Promise<EncodedImage> {
    const key = refKey(ref);
    const pending = this.byRef.get(key);
    if (pending) {
      this.stats.sharedInFlight++;
      return pending;
    }
    const promise = this.encodeRef(ref).finally(() => this.byRef.delete(key));
    this.byRef.set(key, promise);
    return promise;
  }

  /** The identity (sha256 of the original bytes) of `ref`, reusing what this encoder already knows. */
  async identity(ref: ImageRef): Promise<string> {
    return (await this.sources.source(ref)).sha256;
  }

  private async encodeRef(ref: ImageRef): Promise<EncodedImage> {
    const src = await this.sources.source(ref);
    const key = `${src.sha256}:${this.maxSide}`;
    const hit = this.memory.get(key);
    if (hit) {
      this.stats.memoryHits++;
      return hit;
    }
    const pending = this.byId.get(key);
    if (pending) {
      this.stats.sharedInFlight++;
      return pending;
    }
    const promise = this.build(src, key).finally(() => this.byId.delete(key));
    this.byId.set(key, promise);
    return promise;
  }

  private async build(src: Source, key: string): Promise<EncodedImage> {
    let payload = await this.disk?.read(src);
    if (payload) {
      this.stats.diskHits++;
    } else {
      payload = await prepare(await src.bytes(), this.maxSide, src.name);
      this.stats.encodes++;
      await this.disk?.write(src, payload);
    }
    this.stats.bytesIn += src.size;
    this.stats.bytesOut += payload.bytes.length;
    const result: EncodedImage = Object.freeze({
      url: dataUrl(MIME[payload.format], payload.bytes),
      sha256: src.sha256,
      mime: MIME[payload.format],
      bytes: payload.bytes.length,
      originalBytes: src.size,
      width: payload.width,
      height: payload.height,
      reencoded: payload.reencoded,
    });
    this.memory.set(key, result, result.url.length);
    return result;
  }
}
