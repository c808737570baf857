import { mkdir, mkdtemp, readdir, readFile, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../src/store/artifacts.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const worker = fileURLToPath(new URL('./fixtures/build-worker.ts', import.meta.url));
const runWorker = (cache: string, barrier: string, mode: 'race' | 'hang') =>
  execa(process.execPath, ['--import', 'tsx', worker, cache, barrier, mode], { cwd: repoRoot });

let cache: string;
let barrier: string;
beforeEach(async () => {
  cache = await mkdtemp(join(tmpdir(), 'arr-concurrent-'));
  barrier = join(cache, 'barrier');
  await mkdir(barrier);
});
afterEach(async () => {
  await rm(cache, { recursive: true, force: true });
});

describe('ArtifactStore across processes', () => {
  it('two processes building the same key at once: one builds, the other waits for it and reuses it', {
    timeout: 60_000,
  }, async () => {
    const [one, two] = await Promise.all([runWorker(cache, barrier, 'race'), runWorker(cache, barrier, 'race')]);
    const results = [JSON.parse(one.stdout), JSON.parse(two.stdout)];
    expect((await readdir(barrier)).filter((n) => n.startsWith('built-'))).toHaveLength(1); // one producer ran
    expect(one.stderr + two.stderr).toMatch(/waiting for demo\/[0-9a-f]{12}: pid \d+ on .* is building it/);

    const store = new ArtifactStore(cache);
    const [key] = new Set(results.map((r) => r.key));
    expect(results[1].key).toBe(key);
    const manifest = await store.read('demo', key);
    expect(manifest).toBeDefined();
    // Exactly one build was installed; the loser returned the winner's artifact, not its own.
    expect(results.map((r) => r.reused).sort()).toEqual([false, true]);
    const winner = results.find((r) => !r.reused);
    expect(await readFile(join(store.path('demo', key), 'data.txt'), 'utf8')).toBe(`built by ${winner.pid}\n`);
    for (const r of results) expect(r.manifest.files).toEqual(manifest!.files);
    expect(await readdir(join(cache, 'artifacts', 'demo'))).toEqual([key]);
  });

  it('a killed build leaves a .tmp dir, which gc removes, and a dead lock, which the next build takes over', {
    timeout: 60_000,
  }, async () => {
    const child = runWorker(cache, barrier, 'hang');
    await expect
      .poll(async () => (await readdir(barrier)).some((n) => n.startsWith('built-')), { timeout: 30_000, interval: 20 })
      .toBe(true);
    child.kill('SIGKILL');
    await child.catch(() => undefined);

    const kindDir = join(cache, 'artifacts', 'demo');
    const left = (await readdir(kindDir)).sort();
    expect(left).toHaveLength(2);
    expect(left[0]).toMatch(/^\.lock-[0-9a-f]{64}$/);
    expect(left[1]).toMatch(/^\.tmp-[0-9a-f]{64}-\d+-/);
    expect(JSON.parse(await readFile(join(kindDir, left[0]), 'utf8'))).toMatchObject({ pid: child.pid });
    left.shift();

    const store = new ArtifactStore(cache);
    expect(await store.list()).toEqual([]);
    expect((await store.gc()).removed).toEqual([]); // too recent to call abandoned
    const old = new Date(Date.now() - 3_600_000);
    await utimes(join(kindDir, left[0]), old, old);
    expect((await store.gc({ dryRun: true })).removed.map((r) => r.reason)).toEqual(['stale-tmp']);

    await rm(barrier, { recursive: true });
    await mkdir(barrier);
    const built = await store.build('demo', { test: 'concurrency' }, async () => {});
    expect(built.reused).toBe(false);
    expect(await readdir(kindDir)).toEqual([built.key]);
  });
});
