import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ArtifactStore, describeProblem } from '../../src/store/artifacts.js';
import { HashMemo } from '../../src/store/hash.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const HOUR_AGO = () => new Date(Date.now() - 3_600_000);
const DEAD_PID = 2 ** 30; // above Linux's pid_max, so never a running process

let cache: string;
let store: ArtifactStore;
beforeEach(async () => {
  cache = await mkdtemp(join(tmpdir(), 'arr-artifacts-'));
  store = new ArtifactStore(cache);
});
afterEach(async () => {
  await rm(cache, { recursive: true, force: true });
});

const inputs = { task: 't2i', rubric: { per_pair: 5 }, seed: sha('seed') };
const writeTwo = async (dir: string) => {
  await writeFile(join(dir, 'rubric.txt'), 'be sharp\n');
  await mkdir(join(dir, 'traces'));
  await writeFile(join(dir, 'traces', 'epoch-1.jsonl'), '{"n":1}\n');
};

describe('ArtifactStore.build and read', () => {
  it('builds an artifact once, records every file hash, and reuses it without calling the producer', async () => {
    const producer = vi.fn(writeTwo);
    const built = await store.build('rubric', inputs, producer);
    expect(built.reused).toBe(false);
    expect(built.key).toBe(store.keyFor({ rubric: { per_pair: 5 }, seed: sha('seed'), task: 't2i' }));
    expect(built.dir).toBe(join(cache, 'artifacts', 'rubric', built.key));
    expect(await readFile(join(built.dir, 'traces', 'epoch-1.jsonl'), 'utf8')).toBe('{"n":1}\n');

    const manifest = JSON.parse(await readFile(join(built.dir, 'artifact.json'), 'utf8'));
    expect(manifest).toMatchObject({ schema: 1, kind: 'rubric', key: built.key, inputs });
    expect(manifest.files).toEqual({
      'rubric.txt': { sha256: sha('be sharp\n'), size: 9 },
      'traces/epoch-1.jsonl': { sha256: sha('{"n":1}\n'), size: 8 },
    });
    expect(new Date(manifest.created).toISOString()).toBe(manifest.created);

    expect(await store.has('rubric', built.key)).toBe(true);
    expect(await store.read('rubric', built.key)).toEqual(manifest);

    const again = await store.build('rubric', { seed: sha('seed'), rubric: { per_pair: 5 }, task: 't2i' }, producer);
    expect(again).toMatchObject({ key: built.key, dir: built.dir, reused: true });
    expect(producer).toHaveBeenCalledTimes(1);
    expect(await readdir(join(cache, 'artifacts', 'rubric'))).toEqual([built.key]);
  });

  it('treats an artifact without artifact.json as not present', async () => {
    const key = store.keyFor(inputs);
    expect(await store.has('rubric', key)).toBe(false);
    expect(await store.read('rubric', key)).toBeUndefined();
    await mkdir(store.path('rubric', key), { recursive: true });
    expect(await store.read('rubric', key)).toBeUndefined();
    // A stray directory at the final path is replaced by a real build.
    const built = await store.build('rubric', inputs, writeTwo);
    expect(built.reused).toBe(false);
  });

  it('detects a tampered file, naming the file and both hashes; a reader moves it aside and rebuilds', async () => {
    const warnings: string[] = [];
    const quiet = new ArtifactStore(cache, { warn: (l) => warnings.push(l) });
    const { key, dir } = await quiet.build('rubric', inputs, writeTwo);
    await writeFile(join(dir, 'rubric.txt'), 'be SHARP\n'); // same size
    expect(await quiet.inspect('rubric', key)).toEqual({
      state: 'corrupt',
      problems: [
        { file: 'rubric.txt', reason: 'sha256 mismatch', expected: sha('be sharp\n'), actual: sha('be SHARP\n') },
      ],
    });
    // inspect() only looks; read() moves the corrupt copy aside and reports a miss.
    expect(await quiet.read('rubric', key)).toBeUndefined();
    expect(warnings.join('\n')).toMatch(/artifact rubric\/[0-9a-f]{12} was corrupt \(rubric\.txt: sha256 mismatch/);
    const aside = (await readdir(join(cache, 'artifacts', 'rubric'))).filter((n) => n.startsWith('.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(await readFile(join(cache, 'artifacts', 'rubric', aside[0], 'rubric.txt'), 'utf8')).toBe('be SHARP\n');

    const producer = vi.fn(writeTwo);
    const rebuilt = await quiet.build('rubric', inputs, producer);
    expect(rebuilt.reused).toBe(false);
    expect(producer).toHaveBeenCalledOnce();
    expect(await readFile(join(dir, 'rubric.txt'), 'utf8')).toBe('be sharp\n');
    expect((await readdir(join(cache, 'artifacts', 'rubric'))).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    expect((await quiet.gc()).removed.map((r) => r.reason)).toEqual(['corrupt']);
  });

  it('detects missing files, changed sizes and a broken artifact.json', async () => {
    const { key, dir } = await store.build('rubric', inputs, writeTwo);
    await rm(join(dir, 'traces', 'epoch-1.jsonl'));
    await writeFile(join(dir, 'rubric.txt'), 'longer than before\n');
    const problems = (s: Awaited<ReturnType<ArtifactStore['inspect']>>) =>
      s.state === 'corrupt' ? s.problems.map(describeProblem).join('; ') : s.state;
    expect(problems(await store.inspect('rubric', key))).toMatch(
      /rubric\.txt: size 19 bytes, expected 9.*traces\/epoch-1\.jsonl: missing/,
    );
    await writeFile(join(dir, 'artifact.json'), '{ not json');
    expect(problems(await store.inspect('rubric', key))).toMatch(/artifact\.json: not valid JSON/);
  });

  it('uses a HashMemo for reads when given one, so an unchanged artifact costs only stats', async () => {
    const memo = new HashMemo(cache);
    const memoStore = new ArtifactStore(cache, { memo });
    const { key } = await memoStore.build('rubric', inputs, writeTwo);
    await memoStore.read('rubric', key);
    await memoStore.read('rubric', key);
    expect(memo.stats).toEqual({ hits: 2, misses: 2 });
  });

  it('leaves nothing behind when the producer throws, and reports the producer error', async () => {
    const failing = async (dir: string) => {
      await writeFile(join(dir, 'half.bin'), 'partial');
      throw new Error('judge unreachable');
    };
    await expect(store.build('rubric', inputs, failing)).rejects.toThrow(
      /building artifact rubric\/[0-9a-f]{64} in \S+ failed: judge unreachable/,
    );
    expect(await readdir(join(cache, 'artifacts', 'rubric'))).toEqual([]);
    expect(await store.has('rubric', store.keyFor(inputs))).toBe(false);
  });

  it('refuses producer output it cannot vouch for: artifact.json and symlinks', async () => {
    await expect(store.build('a', inputs, (d) => writeFile(join(d, 'artifact.json'), '{}'))).rejects.toThrow(
      /reserves/,
    );
    await expect(store.build('a', inputs, (d) => symlink('/etc/hostname', join(d, 'link')))).rejects.toThrow(
      /link, which is not a regular file/,
    );
    expect(await readdir(join(cache, 'artifacts', 'a'))).toEqual([]);
  });

  it('rejects kinds and keys that could escape the store', () => {
    expect(() => store.path('../x', store.keyFor(1))).toThrow(/invalid artifact kind/);
    expect(() => store.path('rubric', '../../etc')).toThrow(/invalid artifact key/);
  });

  it('removes a stale temp dir of the same key left by a dead builder when building again', async () => {
    const key = store.keyFor(inputs);
    const leftover = join(cache, 'artifacts', 'rubric', `.tmp-${key}-${DEAD_PID}-abcd1234`);
    await mkdir(leftover, { recursive: true });
    await writeFile(join(leftover, 'half.bin'), 'partial');
    await utimes(leftover, HOUR_AGO(), HOUR_AGO());
    await store.build('rubric', inputs, writeTwo);
    expect(await readdir(join(cache, 'artifacts', 'rubric'))).toEqual([key]);
  });
});

describe('ArtifactStore.list, verify and gc', () => {
  it('lists artifacts with size, file count and times', async () => {
    const { key } = await store.build('rubric', inputs, writeTwo);
    expect(await store.list()).toEqual([
      { kind: 'rubric', key, created: expect.any(String), lastUsed: expect.any(String), bytes: 17, files: 2 },
    ]);
  });

  it('verify reports each corrupt artifact with its problems and passes the good ones', async () => {
    const good = await store.build('rubric', inputs, writeTwo);
    const bad = await store.build('rubric', { other: true }, writeTwo);
    await writeFile(join(bad.dir, 'rubric.txt'), 'tampered\n');
    const results = await store.verify();
    expect(results).toHaveLength(2);
    expect(results.find((r) => r.key === good.key)).toMatchObject({ ok: true });
    expect(results.find((r) => r.key === bad.key)).toMatchObject({
      ok: false,
      problems: [{ file: 'rubric.txt', reason: 'sha256 mismatch' }],
    });
  });

  it('gc removes stale temp dirs and corrupt artifacts, keeps fresh temp dirs and valid artifacts, and honours dryRun', async () => {
    const good = await store.build('rubric', inputs, writeTwo);
    const bad = await store.build('rubric', { other: true }, writeTwo);
    await writeFile(join(bad.dir, 'rubric.txt'), 'tampered\n');
    const kindDir = join(cache, 'artifacts', 'rubric');
    const stale = join(kindDir, `.tmp-${good.key}-${DEAD_PID}-00000000`);
    const fresh = join(kindDir, `.tmp-${good.key}-${DEAD_PID}-11111111`);
    const running = join(kindDir, `.tmp-${good.key}-${process.pid}-22222222`);
    for (const d of [stale, fresh, running]) {
      await mkdir(d);
      await writeFile(join(d, 'part'), '12345');
    }
    await utimes(stale, HOUR_AGO(), HOUR_AGO());

    const dry = await store.gc({ dryRun: true });
    expect(dry.dryRun).toBe(true);
    expect(dry.removed.map((r) => [r.reason, r.path]).sort()).toEqual([
      ['corrupt', bad.dir],
      ['stale-tmp', stale],
    ]);
    expect(dry.bytesFreed).toBe(5 + (await readFile(join(bad.dir, 'artifact.json'))).length + 9 + 8);
    expect(await stat(stale)).toBeTruthy();

    const done = await store.gc();
    expect(done.bytesFreed).toBe(dry.bytesFreed);
    expect((await readdir(kindDir)).sort()).toEqual(
      [good.key, `.tmp-${good.key}-${DEAD_PID}-11111111`, `.tmp-${good.key}-${process.pid}-22222222`].sort(),
    );
    expect(await store.read('rubric', good.key)).toBeTruthy();
  });

  it('gc removes unreferenced artifacts only when asked, respecting keep and age', async () => {
    const a = await store.build('rubric', { a: 1 }, writeTwo);
    const b = await store.build('rubric', { b: 1 }, writeTwo);
    const c = await store.build('verify', { c: 1 }, writeTwo);
    expect((await store.gc()).removed).toEqual([]);

    const old = new Date(Date.now() - 40 * 86_400_000);
    await utimes(join(b.dir, 'artifact.json'), old, old);
    await utimes(join(c.dir, 'artifact.json'), old, old);
    const aged = await store.gc({ olderThanDays: 30, keep: new Set([`verify/${c.key}`]) });
    expect(aged.removed.map((r) => [r.reason, r.name])).toEqual([['unreferenced', b.key]]);

    const byKeep = await store.gc({ keep: new Set([`rubric/${a.key}`]) });
    expect(byKeep.removed.map((r) => `${r.kind}/${r.name}`)).toEqual([`verify/${c.key}`]);
    expect((await store.list()).map((x) => x.key)).toEqual([a.key]);
  });
});
