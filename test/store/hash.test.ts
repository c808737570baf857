import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { it } from '../helpers/fixtures.js';
import { HashMemo, hashFile, hashTree } from '../../src/store/hash.js';

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const PAST = new Date('2024-01-02T03:04:05.678Z');

describe('hashFile', () => {
  it('hashes empty, small and multi-chunk files', async ({ tempDir }) => {
    const dir = tempDir();
    const big = Buffer.alloc(9 * 1024 * 1024 + 123);
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
    for (const [name, data] of [
      ['empty', Buffer.alloc(0)],
      ['small', Buffer.from('hello')],
      ['big', big],
    ] as const) {
      await writeFile(join(dir, name), data);
      expect(await hashFile(join(dir, name))).toEqual({ sha256: sha(data), size: data.length });
    }
  });

  it('names the file when it cannot be read', async ({ tempDir }) => {
    const dir = tempDir();
    await expect(hashFile(join(dir, 'nope'))).rejects.toThrow(`cannot hash ${join(dir, 'nope')}`);
  });
});

describe('HashMemo', () => {
  it('answers from the memo without reading when size, mtime and inode are unchanged, and rehashes when mtime moves', async ({
    tempDir,
  }) => {
    const dir = tempDir();
    const path = join(dir, 'model.bin');
    await writeFile(path, 'aaaa');
    await utimes(path, PAST, PAST);
    const memo = new HashMemo(dir);
    expect((await memo.hashFile(path)).sha256).toBe(sha('aaaa'));

    // Same size, same inode, mtime put back: only a read could notice the new content.
    await writeFile(path, 'bbbb');
    await utimes(path, PAST, PAST);
    expect((await memo.hashFile(path)).sha256).toBe(sha('aaaa'));
    expect(memo.stats).toEqual({ hits: 1, misses: 1 });

    await utimes(path, PAST, new Date(PAST.getTime() + 1000));
    expect((await memo.hashFile(path)).sha256).toBe(sha('bbbb'));
    expect(memo.stats.misses).toBe(2);
  });

  it('rehashes when the size changes even if mtime is restored', async ({ tempDir }) => {
    const dir = tempDir();
    const path = join(dir, 'f');
    await writeFile(path, 'aaaa');
    await utimes(path, PAST, PAST);
    const memo = new HashMemo(dir);
    await memo.hashFile(path);
    await writeFile(path, 'aaaaa');
    await utimes(path, PAST, PAST);
    expect((await memo.hashFile(path)).sha256).toBe(sha('aaaaa'));
  });

  it('persists to hash-memo.json on flush and a new instance reuses it', async ({ tempDir }) => {
    const dir = tempDir();
    const path = join(dir, 'f');
    await writeFile(path, 'content');
    const first = new HashMemo(dir);
    await first.hashFile(path);
    await first.flush();
    const saved = JSON.parse(await readFile(join(dir, 'hash-memo.json'), 'utf8'));
    expect(saved.entries[path]).toMatchObject({ sha256: sha('content'), size: 7, ino: (await stat(path)).ino });

    const second = new HashMemo(dir);
    expect((await second.hashFile(path)).sha256).toBe(sha('content'));
    expect(second.stats).toEqual({ hits: 1, misses: 0 });
  });

  it('merges with entries another process flushed in the meantime', async ({ tempDir }) => {
    const dir = tempDir();
    await writeFile(join(dir, 'a'), 'a');
    await writeFile(join(dir, 'b'), 'b');
    const one = new HashMemo(dir);
    const two = new HashMemo(dir);
    await one.hashFile(join(dir, 'a'));
    await two.hashFile(join(dir, 'b'));
    await one.flush();
    await two.flush();
    const saved = JSON.parse(await readFile(join(dir, 'hash-memo.json'), 'utf8'));
    expect(Object.keys(saved.entries).sort()).toEqual([join(dir, 'a'), join(dir, 'b')]);
  });

  it('ignores a corrupt memo file and rewrites it on flush', async ({ tempDir }) => {
    const dir = tempDir();
    await writeFile(join(dir, 'hash-memo.json'), '{"schema": 1, "entries": {tru');
    await writeFile(join(dir, 'f'), 'x');
    const memo = new HashMemo(dir);
    expect((await memo.hashFile(join(dir, 'f'))).sha256).toBe(sha('x'));
    await memo.flush();
    const saved = JSON.parse(await readFile(join(dir, 'hash-memo.json'), 'utf8'));
    expect(saved.entries[join(dir, 'f')].sha256).toBe(sha('x'));
  });

  it('skips malformed entries instead of trusting them', async ({ tempDir }) => {
    const dir = tempDir();
    const path = join(dir, 'f');
    await writeFile(path, 'x');
    const s = await stat(path);
    await writeFile(
      join(dir, 'hash-memo.json'),
      JSON.stringify({
        schema: 1,
        entries: { [path]: { sha256: 'not-a-hash', size: s.size, mtimeMs: s.mtimeMs, ino: s.ino } },
      }),
    );
    expect((await new HashMemo(dir).hashFile(path)).sha256).toBe(sha('x'));
  });

  it('does not write anything when nothing new was hashed', async ({ tempDir }) => {
    const dir = tempDir();
    await new HashMemo(dir).flush();
    await expect(stat(join(dir, 'hash-memo.json'))).rejects.toThrow();
  });
});

describe('hashTree', () => {
  it('lists every regular file below a folder, sorted, with relative paths and symlinks followed', async ({
    tempDir,
  }) => {
    const dir = tempDir();
    const root = join(dir, 'model');
    await mkdir(join(root, 'sub', 'deeper'), { recursive: true });
    await writeFile(join(root, 'b.onnx'), 'B');
    await writeFile(join(root, 'sub', 'a.json'), 'A');
    await writeFile(join(root, 'sub', 'deeper', 'c'), 'C');
    await writeFile(join(dir, 'blob'), 'LINKED');
    await symlink(join(dir, 'blob'), join(root, 'linked.bin'));
    await symlink(root, join(root, 'sub', 'loop')); // a cycle must not recurse forever

    const memo = new HashMemo(join(dir, 'cache'));
    const tree = await hashTree(root, memo);
    expect(tree).toEqual([
      { path: 'b.onnx', sha256: sha('B'), size: 1 },
      { path: 'linked.bin', sha256: sha('LINKED'), size: 6 },
      { path: 'sub/a.json', sha256: sha('A'), size: 1 },
      { path: 'sub/deeper/c', sha256: sha('C'), size: 1 },
    ]);
    expect(await hashTree(root, memo)).toEqual(tree);
    expect(memo.stats).toEqual({ hits: 4, misses: 4 });
    expect(await hashTree(root)).toEqual(tree);
  });
});

describe('hashFile across the small-file and chunked paths', () => {
  it('matches sha256 of the whole content for sizes around the 4 MiB chunk', async ({ tempDir }) => {
    const dir = tempDir();
    const chunk = 4 * 1024 * 1024;
    for (const size of [0, 1, 4095, chunk - 1, chunk, chunk + 1, 2 * chunk + 7]) {
      const data = randomBytes(size);
      const file = join(dir, `f${size}`);
      await writeFile(file, data);
      expect(await hashFile(file)).toEqual({ sha256: sha(data), size });
    }
  });
});
