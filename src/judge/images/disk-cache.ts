// The encoder's disk cache: `<dir>/<sha256>-<maxSide>.<ext>` plus a `.json` sidecar holding the payload's
// hash, so that other processes skip the sharp work and a reader can check a payload without sharp.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../store/atomic.js';
import { sha256Hex } from '../../store/canonical-json.js';
import { EXT, MIME, RECIPE, type Format, type Payload } from './recipe.js';
import type { Source } from './sources.js';

/** Cache sidecar next to `<sha256>-<maxSide>.<ext>`: lets a reader check the payload without sharp. */
interface Sidecar {
  recipe: number;
  format: Format;
  bytes: number;
  payloadSha256: string;
  width: number;
  height: number;
  reencoded: boolean;
  originalBytes: number;
}

/** Counters the cache reports into (the encoder's stats). */
export interface DiskCacheStats {
  /** Cache files that were unreadable, truncated or corrupt and were rebuilt. */
  diskRejects: number;
  /** Cache writes that failed. */
  diskWriteErrors: number;
}

export class PayloadDiskCache {
  private dirReady?: Promise<void>;

  constructor(
    private readonly dir: string,
    private readonly maxSide: number,
    private readonly stats: DiskCacheStats,
  ) {}

  private sidecarPath(sha256: string): string {
    return join(this.dir, `${sha256}-${this.maxSide}.json`);
  }

  private payloadPath(sha256: string, format: Format): string {
    return join(this.dir, `${sha256}-${this.maxSide}.${EXT[format]}`);
  }

  /** The cached payload for `src`, or undefined when there is none or it fails its checks. */
  async read(src: Source): Promise<Payload | undefined> {
    let text: string;
    try {
      text = await readFile(this.sidecarPath(src.sha256), 'utf8');
    } catch {
      return undefined; // not cached (or unreadable: rebuilt and rewritten)
    }
    try {
      const meta = JSON.parse(text) as Sidecar;
      if (!isSidecar(meta) || meta.originalBytes !== src.size) throw new Error('bad sidecar');
      const bytes = await readFile(this.payloadPath(src.sha256, meta.format));
      if (bytes.length !== meta.bytes || sha256Hex(bytes) !== meta.payloadSha256)
        throw new Error('payload does not match its sidecar');
      return { bytes, format: meta.format, width: meta.width, height: meta.height, reencoded: meta.reencoded };
    } catch {
      this.stats.diskRejects++;
      return undefined;
    }
  }

  /** Stores `p` for `src`; a failure is counted, never thrown (the encode itself succeeded). */
  async write(src: Source, p: Payload): Promise<void> {
    try {
      this.dirReady ??= mkdir(this.dir, { recursive: true }).then(() => undefined);
      await this.dirReady;
      const meta: Sidecar = {
        recipe: RECIPE,
        format: p.format,
        bytes: p.bytes.length,
        payloadSha256: sha256Hex(p.bytes),
        width: p.width,
        height: p.height,
        reencoded: p.reencoded,
        originalBytes: src.size,
      };
      // Payload first, sidecar last: a reader that finds the sidecar finds the payload it describes.
      await writeFileAtomic(this.payloadPath(src.sha256, p.format), p.bytes);
      await writeFileAtomic(this.sidecarPath(src.sha256), `${JSON.stringify(meta)}\n`);
    } catch {
      this.dirReady = undefined;
      this.stats.diskWriteErrors++;
    }
  }
}

function isSidecar(v: unknown): v is Sidecar {
  const s = v as Sidecar;
  return (
    typeof s === 'object' &&
    s !== null &&
    s.recipe === RECIPE &&
    typeof s.format === 'string' &&
    Object.hasOwn(MIME, s.format) &&
    Number.isInteger(s.bytes) &&
    typeof s.payloadSha256 === 'string' &&
    Number.isInteger(s.width) &&
    Number.isInteger(s.height) &&
    typeof s.reencoded === 'boolean' &&
    Number.isInteger(s.originalBytes)
  );
}
