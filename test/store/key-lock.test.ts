// The per-key build lock: taken over from a dead or silent holder, waited on while its holder lives.
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireKeyLock, LockTimeoutError } from '../../src/store/key-lock.js';

let dir: string;
let lock: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'arr-lock-'));
  lock = join(dir, '.lock-k');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const holder = (host: string, pid: number) =>
  JSON.stringify({ pid, host, since: '2026-01-01T00:00:00.000Z', token: `t-${host}-${pid}` });

describe('acquireKeyLock', () => {
  it('records pid, host and start, and removes the file on release', async () => {
    const held = await acquireKeyLock(lock);
    expect(JSON.parse(await readFile(lock, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    await held.release();
    await expect(readFile(lock)).rejects.toThrow(/ENOENT/);
  });

  it('takes over at once from a holder on this host whose process is gone', async () => {
    await writeFile(lock, holder(hostname(), 2 ** 22 + 12345)); // above Linux's pid_max default: never alive
    const started = Date.now();
    const held = await acquireKeyLock(lock, { staleMs: 60_000 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(JSON.parse(await readFile(lock, 'utf8')).pid).toBe(process.pid);
    await held.release();
  });

  it('waits on a live holder elsewhere, and takes over once it stops touching the lock', async () => {
    await writeFile(lock, holder('another-host', 1));
    const waits: unknown[] = [];
    await expect(
      acquireKeyLock(lock, { staleMs: 60_000, timeoutMs: 400, onWait: (h) => waits.push(h) }),
    ).rejects.toBeInstanceOf(LockTimeoutError);
    expect(waits).toEqual([expect.objectContaining({ host: 'another-host' })]);
    const old = new Date(Date.now() - 120_000);
    await utimes(lock, old, old);
    const held = await acquireKeyLock(lock, { staleMs: 60_000, timeoutMs: 5_000 });
    expect(JSON.parse(await readFile(lock, 'utf8')).host).toBe(hostname());
    await held.release();
  });

  it('lets exactly one of many waiters in at a time', async () => {
    let inside = 0;
    let most = 0;
    await Promise.all(
      [...Array(5).keys()].map(async () => {
        const held = await acquireKeyLock(lock, { pollMs: 5 });
        most = Math.max(most, ++inside);
        await new Promise((r) => setImmediate(r));
        inside--;
        await held.release();
      }),
    );
    expect(most).toBe(1);
  });
});
