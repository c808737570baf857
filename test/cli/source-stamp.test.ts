// The freshness check behind bin/arr.mjs: a build is used only while src/ is exactly what it compiled.
import { mkdirSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { compiledIsCurrent, sourceStamp, STAMP_FILE } from '../../bin/source-stamp.mjs';
import { test } from '../helpers/fixtures.js';

// A src/ with two files, all dated one hour ago, and a dist/ whose stamp records it.
const it = test.extend<{ tree: { src: string; dist: string; age: (path: string) => void } }>({
  tree: async ({ tempDir }, use) => {
    const root = tempDir();
    const src = join(root, 'src');
    const dist = join(root, 'dist');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'a.ts'), 'export const a = 1;\n');
    writeFileSync(join(src, 'sub', 'b.ts'), 'export const b = 2;\n');
    const hourAgo = new Date(Date.now() - 3_600_000);
    const age = (path: string) => utimesSync(path, hourAgo, hourAgo);
    for (const p of [join(src, 'a.ts'), join(src, 'sub', 'b.ts'), join(src, 'sub'), src]) age(p);
    mkdirSync(dist);
    writeFileSync(join(dist, STAMP_FILE), JSON.stringify(sourceStamp(src)));
    await use({ src, dist, age });
  },
});

describe('compiledIsCurrent', () => {
  it('accepts the build of the sources as they are', ({ tree }) => {
    expect(compiledIsCurrent(tree.src, tree.dist)).toBe(true);
  });

  it('refuses it after a file is edited', ({ tree }) => {
    writeFileSync(join(tree.src, 'sub', 'b.ts'), 'export const b = 3;\n');
    expect(compiledIsCurrent(tree.src, tree.dist)).toBe(false);
  });

  it('refuses it after a file is deleted or renamed, even when everything left is older than the build', ({ tree }) => {
    rmSync(join(tree.src, 'a.ts'));
    tree.age(tree.src);
    expect(compiledIsCurrent(tree.src, tree.dist)).toBe(false);
  });

  it('refuses it after a file is restored with an older date than the build recorded', ({ tree }) => {
    renameSync(join(tree.src, 'a.ts'), join(tree.src, 'c.ts'));
    renameSync(join(tree.src, 'c.ts'), join(tree.src, 'a.ts'));
    const older = new Date(Date.now() - 7_200_000);
    utimesSync(join(tree.src, 'a.ts'), older, older);
    utimesSync(join(tree.src, 'sub', 'b.ts'), older, older);
    utimesSync(join(tree.src, 'sub'), older, older);
    utimesSync(tree.src, older, older);
    expect(compiledIsCurrent(tree.src, tree.dist)).toBe(false);
  });

  it('refuses a dist/ without a stamp or with an unreadable one', ({ tree }) => {
    writeFileSync(join(tree.dist, STAMP_FILE), '{not json');
    expect(compiledIsCurrent(tree.src, tree.dist)).toBe(false);
    rmSync(tree.dist, { recursive: true });
    expect(compiledIsCurrent(tree.src, tree.dist)).toBe(false);
  });
});
