import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic, writeJsonAtomic } from '../../src/store/atomic.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'arr-atomic-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('replaces an existing file and leaves no temp file', async () => {
    const path = join(dir, 'a.txt');
    await writeFile(path, 'old');
    await writeFileAtomic(path, 'new');
    expect(await readFile(path, 'utf8')).toBe('new');
    expect(await readdir(dir)).toEqual(['a.txt']);
  });

  it('removes its temp file when the final rename fails, and names the target in the error', async () => {
    const target = join(dir, 'occupied');
    await mkdir(target);
    await writeFile(join(target, 'x'), 'keeps the directory non-empty');
    await expect(writeFileAtomic(target, 'data')).rejects.toThrow(target);
    expect(await readdir(dir)).toEqual(['occupied']);
  });

  it('fails with the path when the directory does not exist', async () => {
    const path = join(dir, 'missing', 'a.txt');
    await expect(writeFileAtomic(path, 'data')).rejects.toThrow(path);
  });
});

describe('writeJsonAtomic', () => {
  it('writes pretty JSON with a trailing newline', async () => {
    const path = join(dir, 'a.json');
    await writeJsonAtomic(path, { b: 1, a: [true] });
    expect(await readFile(path, 'utf8')).toBe('{\n  "b": 1,\n  "a": [\n    true\n  ]\n}\n');
  });
});
