// Checks that the images a dataset names can be used: local files exist, live (after realpath, so a
// symlink cannot escape) inside an allowed root, and decode with sharp; data: URLs decode; http(s)
// URLs are noted, never fetched.
import { realpathSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Diagnostic } from '../diagnostics.js';
import type { ImageUse } from './normalize.js';
import { DataUrlError, dataUrlBytes } from '../util/data-url.js';
import { osReason } from './read-records.js';
import type { ImageRef } from './types.js';

export interface ImageCheckOptions {
  /**
   * Folders local images must resolve into (after symlinks). Relative roots resolve against the
   * process cwd; callers pass absolute ones (the workspace root plus `data.allowed_roots`). An empty
   * list refuses every local file.
   */
  allowedRoots: string[];
}

export interface CheckImagesOptions extends ImageCheckOptions {
  /** How many images are decoded at once (default 4). */
  concurrency?: number;
}

export type ImageCheck =
  | { ok: true; checked: true; ref: ImageRef; format?: string; width?: number; height?: number; realPath?: string }
  /** An http(s) URL: the judge fetches it at run time; nothing was checked. */
  | { ok: true; checked: false; ref: ImageRef; note: string }
  | { ok: false; ref: ImageRef; message: string };

/** Checks one image reference. Never throws for a bad image: it returns `{ ok: false, message }`. */
export async function checkImage(ref: ImageRef, opts: ImageCheckOptions): Promise<ImageCheck> {
  return checkWithRoots(ref, realRoots(opts.allowedRoots), opts.allowedRoots);
}

export interface CheckImagesResult {
  /** One error per distinct bad image (at its first use), plus one warning when URLs went unchecked. */
  diagnostics: Diagnostic[];
  /** Result per distinct image, keyed by `imageKey`. */
  results: Map<string, ImageCheck>;
}

/** The identity of an image for de-duplication: the absolute path, or the URL. */
export function imageKey(ref: ImageRef): string {
  return ref.kind === 'file' ? ref.path : ref.url;
}

/** Checks every distinct image once, a few at a time, and reports problems where each is first used. */
export async function checkImages(uses: readonly ImageUse[], opts: CheckImagesOptions): Promise<CheckImagesResult> {
  const byKey = new Map<string, ImageUse[]>();
  for (const use of uses) {
    const key = imageKey(use.ref);
    const list = byKey.get(key);
    if (list) list.push(use);
    else byKey.set(key, [use]);
  }
  const roots = realRoots(opts.allowedRoots);
  const keys = [...byKey.keys()];
  const results = new Map<string, ImageCheck>();
  await mapLimit(keys, Math.max(1, opts.concurrency ?? 4), async (key) => {
    results.set(key, await checkWithRoots(byKey.get(key)![0].ref, roots, opts.allowedRoots));
  });

  const diagnostics: Diagnostic[] = [];
  let urls = 0;
  let firstUrl: ImageUse | undefined;
  for (const key of keys) {
    const r = results.get(key)!;
    const list = byKey.get(key)!;
    if (!r.ok) {
      const more =
        list.length > 1 ? ` (and ${list.length - 1} more ${list.length === 2 ? 'use' : 'uses'} in this dataset)` : '';
      diagnostics.push({ ...list[0].at, message: r.message + more });
    } else if (!r.checked) {
      urls++;
      firstUrl ??= list[0];
    }
  }
  if (firstUrl) {
    diagnostics.push({
      ...firstUrl.at,
      severity: 'warning',
      message: `${urls} image ${urls === 1 ? 'URL was' : 'URLs were'} not checked; the judge fetches ${urls === 1 ? 'it' : 'them'} when it runs`,
    });
  }
  return { diagnostics, results };
}

interface Root {
  given: string;
  real: string;
}

function realRoots(roots: readonly string[]): Root[] {
  return roots.map((given) => {
    const abs = resolve(given);
    let real = abs;
    try {
      real = realpathSync(abs);
    } catch {
      /* a missing root holds nothing; keep the lexical path */
    }
    return { given, real };
  });
}

/** Largest image file checked or judged (the judge's encoder refuses larger ones too). */
export const MAX_IMAGE_BYTES = 256 * 1024 * 1024;

/** True when `path` is `root` or lies below it. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`));
}

async function checkWithRoots(ref: ImageRef, roots: Root[], given: readonly string[]): Promise<ImageCheck> {
  if (ref.kind === 'url')
    return { ok: true, checked: false, ref, note: 'URLs are passed to the judge unchanged and not fetched here' };
  if (ref.kind === 'data') return checkDataUrl(ref);

  const path = ref.path;
  try {
    const st = await stat(path);
    if (!st.isFile()) return { ok: false, ref, message: `${path} is not a file` };
    if (st.size > MAX_IMAGE_BYTES)
      return {
        ok: false,
        ref,
        message: `${path} is ${st.size} bytes, over the ${MAX_IMAGE_BYTES}-byte limit for one image`,
      };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, ref, message: `image not found: ${path}` };
    return { ok: false, ref, message: `cannot read image ${path} (${osReason(err)})` };
  }
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    return { ok: false, ref, message: `cannot read image ${path} (${osReason(err)})` };
  }
  if (!roots.some((r) => isInside(r.real, real))) {
    const shown = real === path ? path : `${path} (a link to ${real})`;
    const list = given.length ? given.join(', ') : 'none';
    return {
      ok: false,
      ref,
      message: `${shown} is outside the allowed roots (${list}); add its folder to data.allowed_roots`,
    };
  }
  const decoded = await decode(real);
  if ('error' in decoded) return { ok: false, ref, message: `${path} is not a decodable image (${decoded.error})` };
  return { ok: true, checked: true, ref, realPath: real, ...decoded };
}

async function checkDataUrl(ref: Extract<ImageRef, { kind: 'data' }>): Promise<ImageCheck> {
  const short = ref.url.length > 48 ? `${ref.url.slice(0, 48)}…` : ref.url;
  let bytes: Buffer;
  try {
    bytes = dataUrlBytes(ref.url);
  } catch (err) {
    if (!(err instanceof DataUrlError)) throw err;
    return { ok: false, ref, message: `data URL ${short} ${err.reason}` };
  }
  if (bytes.length === 0) return { ok: false, ref, message: `data URL ${short} is empty` };
  const decoded = await decode(bytes);
  if ('error' in decoded)
    return { ok: false, ref, message: `data URL ${short} is not a decodable image (${decoded.error})` };
  return { ok: true, checked: true, ref, ...decoded };
}

/** Reads the header and decodes the pixels (into an 8 px thumbnail), so a truncated file fails. */
async function decode(
  input: string | Buffer,
): Promise<{ format?: string; width?: number; height?: number } | { error: string }> {
  // Loaded on first use, so modules that only list a dataset's images (the Nx graph) never load libvips.
  const { default: sharp } = await import('sharp');
  try {
    const meta = await sharp(input).metadata();
    await sharp(input).resize(8, 8, { fit: 'inside' }).raw().toBuffer();
    return { format: meta.format, width: meta.width, height: meta.height };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
