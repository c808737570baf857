// Keeps the unit tier fast: a unit test file that starts a process belongs in the e2e tier (test/tiers.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { E2E_SUFFIX, isE2eFile, MIXED_FILES } from './tiers.js';
import { repoRoot } from './helpers/workspace.js';

const STARTS_A_PROCESS = /\b(execa|execaNode|spawn|spawnSync|execFile|execFileSync|execSync|fork)\(|chromium\.launch/;

const testFiles = readdirSync(join(repoRoot, 'test'), { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
  .map((e) => relative(repoRoot, join(e.parentPath, e.name)).split(sep).join('/'));

describe('test tiers', () => {
  it('keeps every test file that starts a process out of the unit tier', () => {
    const misplaced = testFiles.filter(
      (f) => !isE2eFile(f) && STARTS_A_PROCESS.test(readFileSync(join(repoRoot, f), 'utf8')),
    );
    expect(misplaced, `these start processes: rename them to *${E2E_SUFFIX} or move the process tests there`).toEqual(
      [],
    );
  });

  it('lists only mixed files that exist', () => {
    expect(MIXED_FILES.filter((f) => !testFiles.includes(f))).toEqual([]);
  });
});
