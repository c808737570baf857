import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

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
    throw withPath(error, path);
  }
}

/** Pretty-printed JSON (2 spaces) with a trailing newline, written atomically. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const text = JSON.stringify(value, null, 2);
  if (text === undefined) throw new Error(`cannot write ${path}: value is not JSON data`);
  await writeFileAtomic(path, `${text}\n`);
}

function withPath(error: unknown, path: string): unknown {
  if (error instanceof Error && !error.message.includes(path)) {
    error.message = `writing ${path} failed: ${error.message}`;
  }
  return error;
}
