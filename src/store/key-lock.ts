// One builder per artifact key: a lock file created with O_EXCL next to the artifact, holding who owns it.
// A holder that died is detected (same host: its pid is gone; any host: it stopped touching the file)
// and its lock is taken over, so nobody waits forever on a crashed build.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, open, readFile, rename, stat, unlink, utimes } from 'node:fs/promises';
import { ArrError } from '../util/errors.js';
import { processAlive } from '../util/process.js';

/** What a lock file records about its holder. */
export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the holder took the lock. */
  since: string;
  /** Unique per acquisition, so a takeover never removes a newer lock by mistake. */
  token: string;
}

export interface KeyLockOptions {
  /** How often the holder touches the lock (default 5 s). */
  heartbeatMs?: number;
  /** A lock untouched for this long is abandoned, whoever holds it (default 60 s). */
  staleMs?: number;
  /** Poll interval while waiting (default 150 ms). */
  pollMs?: number;
  /** Give up waiting after this long (default: never, while the holder is alive and touching the lock). */
  timeoutMs?: number;
  /** Called once when this process starts waiting for another holder. */
  onWait?: (holder: LockHolder | undefined) => void;
}

export class LockTimeoutError extends ArrError {}

const HOST = hostname();

/** A held lock: call `release()` when done (also stops the heartbeat). */
export interface HeldLock {
  release(): Promise<void>;
}

/**
 * Takes the lock at `path`, waiting while a live holder has it. Returns once this process holds it.
 * @throws LockTimeoutError when `timeoutMs` passes first.
 */
export async function acquireKeyLock(path: string, options: KeyLockOptions = {}): Promise<HeldLock> {
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  const staleMs = options.staleMs ?? 60_000;
  const pollMs = options.pollMs ?? 150;
  const started = Date.now();
  const me: LockHolder = {
    pid: process.pid,
    host: HOST,
    since: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
  };
  let waited = false;
  for (;;) {
    if (await tryCreate(path, me)) break;
    const holder = await readHolder(path);
    if (await isAbandoned(path, holder, staleMs)) {
      await takeOver(path, holder);
      continue;
    }
    if (!waited) {
      waited = true;
      options.onWait?.(holder);
    }
    if (options.timeoutMs !== undefined && Date.now() - started > options.timeoutMs) {
      throw new LockTimeoutError(
        `timed out after ${options.timeoutMs} ms waiting for ${path}, held by ${describeHolder(holder)}`,
        {
          hint: 'another process is building the same artifact; wait for it, or stop it and retry',
        },
      );
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    void utimes(path, now, now).catch(() => {});
  }, heartbeatMs).unref();
  return {
    async release() {
      clearInterval(heartbeat);
      const holder = await readHolder(path);
      if (holder?.token === me.token) await unlink(path).catch(() => {});
    },
  };
}

export function describeHolder(holder: LockHolder | undefined): string {
  return holder ? `pid ${holder.pid} on ${holder.host} since ${holder.since}` : 'an unknown process';
}

async function tryCreate(path: string, me: LockHolder): Promise<boolean> {
  // Written to a private file first and linked into place, so nobody ever reads a half-written lock.
  const tmp = `${path}.${me.token}.new`;
  const handle = await open(tmp, 'wx');
  try {
    await handle.writeFile(JSON.stringify(me));
  } finally {
    await handle.close();
  }
  try {
    await link(tmp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as LockHolder;
    return typeof value.pid === 'number' && typeof value.token === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

async function isAbandoned(path: string, holder: LockHolder | undefined, staleMs: number): Promise<boolean> {
  const s = await stat(path).catch(() => undefined);
  if (!s) return false; // released meanwhile: just try again
  if (holder && holder.host === HOST && !processAlive(holder.pid)) return true;
  // Another host, a reused pid or an unreadable file: only the heartbeat tells.
  return Date.now() - s.mtimeMs > staleMs;
}

/** Moves an abandoned lock aside; if what was moved is not the lock judged abandoned, puts it back. */
async function takeOver(path: string, judged: LockHolder | undefined): Promise<void> {
  const aside = `${path}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(path, aside);
  } catch {
    return; // someone else took it over or released it first
  }
  const moved = await readHolder(aside);
  if (judged && moved && moved.token !== judged.token) await link(aside, path).catch(() => {});
  await unlink(aside).catch(() => {});
}
