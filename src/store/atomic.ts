import { randomBytes } from 'node:crypto';
import { lstat, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { processAlive } from '../util/process.js';

/**
 * Writes `data` to `path` so that readers see either the old file or the whole new one: the bytes go
 * to `.<base>.<pid>.<random>.tmp` in the same directory (rename is only atomic within a filesystem),
 * are fsynced, then renamed over `path`. On any failure the temp file is removed and the error rethrown.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => {});
    throw errorWithPath(error, path);
  }
}

/** Pretty-printed JSON (2 spaces) with a trailing newline, written atomically. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const text = JSON.stringify(value, null, 2);
  if (text === undefined) throw new Error(`cannot write ${path}: value is not JSON data`);
  await writeFileAtomic(path, `${text}\n`);
}

/**
 * The error with the path it is about named in its message (`writing <path> failed: ENOSPC: …`).
 * Node's own messages name only the syscall for write errors, which leaves a user guessing.
 */
export function errorWithPath(error: unknown, path: string): unknown {
  if (error instanceof Error && !error.message.includes(path)) {
    error.message = `writing ${path} failed: ${error.message}`;
  }
  return error;
}

/** `.<base>.<pid>.<random>.tmp` and `.<base>.<pid>.tmp`: the temp files our atomic writers leave when killed. */
const TEMP_FILE = /^\..+\.(\d+)(?:\.[0-9a-f]+)?\.tmp$/;

/** Whether a file name is one of our temp files, and the id of the process that made it. */
export function tempFileOwner(name: string): number | undefined {
  const m = TEMP_FILE.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * Removes temp files our writers left under `dir` (one level of subfolders deep, as cache/judge has)
 * when their process is gone or they are older than `maxAgeMs` (default one hour). Returns what
 * was (or, with dryRun, would be) removed. Folders named in `skip` are not entered.
 */
export async function sweepTempFiles(
  dir: string,
  options: { dryRun?: boolean; maxAgeMs?: number; depth?: number; skip?: string[] } = {},
): Promise<{ path: string; bytes: number }[]> {
  const removed: { path: string; bytes: number }[] = [];
  const maxAge = options.maxAgeMs ?? 3_600_000;
  const visit = async (folder: string, depth: number): Promise<void> => {
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        if (depth > 0 && !entry.name.startsWith('.tmp-') && !options.skip?.includes(entry.name))
          await visit(path, depth - 1);
        continue;
      }
      const pid = tempFileOwner(entry.name);
      if (pid === undefined || !entry.isFile()) continue;
      const s = await lstat(path).catch(() => undefined);
      if (!s) continue;
      if (pid !== process.pid && processAlive(pid) && Date.now() - s.mtimeMs < maxAge) continue;
      if (pid === process.pid && Date.now() - s.mtimeMs < maxAge) continue;
      if (!options.dryRun) await rm(path, { force: true });
      removed.push({ path, bytes: s.size });
    }
  };
  await visit(dir, options.depth ?? 1);
  return removed;
}
