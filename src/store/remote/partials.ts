import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { GcRemoval } from '../artifacts.js';

/** Partial pulls untouched this long are given up on (a week: long enough to resume after a weekend). */
const DEFAULT_MAX_AGE_MS = 7 * 86_400_000;

/**
 * Removes partial downloads under `<store>/remote-partial/` that no pull has touched for `maxAgeMs`
 * (part of `arr cache gc`). A pull that resumes later simply starts those files again.
 */
export async function sweepPartialPulls(
  storeDir: string,
  options: { dryRun?: boolean; maxAgeMs?: number } = {},
): Promise<GcRemoval[]> {
  const root = join(storeDir, 'remote-partial');
  const maxAge = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const removed: GcRemoval[] = [];
  for (const kind of await readdir(root).catch(() => [] as string[])) {
    for (const name of await readdir(join(root, kind)).catch(() => [] as string[])) {
      const path = join(root, kind, name);
      const newest = await newestChange(path);
      if (Date.now() - newest < maxAge) continue;
      const bytes = await size(path);
      if (!options.dryRun) await rm(path, { recursive: true, force: true });
      removed.push({ kind, name, path, reason: 'stale-tmp', bytes });
    }
  }
  return removed;
}

async function newestChange(path: string): Promise<number> {
  const s = await lstat(path).catch(() => undefined);
  if (!s) return Date.now();
  if (!s.isDirectory()) return s.mtimeMs;
  let newest = s.mtimeMs;
  for (const name of await readdir(path).catch(() => [] as string[]))
    newest = Math.max(newest, await newestChange(join(path, name)));
  return newest;
}

async function size(path: string): Promise<number> {
  const s = await lstat(path).catch(() => undefined);
  if (!s) return 0;
  if (!s.isDirectory()) return s.size;
  let total = 0;
  for (const name of await readdir(path).catch(() => [] as string[])) total += await size(join(path, name));
  return total;
}
