// ARR_CACHE_DIR moves the store (artifacts, judge responses, memo, runs), never the checkout's own state.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProgressReporter } from '../../src/report/progress.js';
import { targetOutputDir } from '../../src/state/stamps.js';
import { cacheDir, workspaceCacheDir } from '../../src/workspace.js';

describe('cacheDir', () => {
  it('is <workspace>/cache unless ARR_CACHE_DIR names another folder, relative to the workspace', () => {
    expect(cacheDir('/ws', {})).toBe('/ws/cache');
    expect(cacheDir('/ws', { ARR_CACHE_DIR: '' })).toBe('/ws/cache');
    expect(cacheDir('/ws', { ARR_CACHE_DIR: '/big/arr' })).toBe('/big/arr');
    expect(cacheDir('/ws', { ARR_CACHE_DIR: '../shared-store' })).toBe('/shared-store');
  });

  it('leaves the outputs Nx records (cache/experiments) in the checkout', () => {
    const before = process.env.ARR_CACHE_DIR;
    process.env.ARR_CACHE_DIR = '/elsewhere';
    try {
      expect(cacheDir('/ws')).toBe('/elsewhere');
      expect(targetOutputDir('/ws', 'exp-a', 'resolve')).toBe(
        join(workspaceCacheDir('/ws'), 'experiments', 'exp-a', 'resolve'),
      );
    } finally {
      if (before === undefined) delete process.env.ARR_CACHE_DIR;
      else process.env.ARR_CACHE_DIR = before;
    }
  });
});

describe('a byte progress bar', () => {
  it('shows amounts and rate in binary units', () => {
    const bar = new ProgressReporter('pull', process.stderr, true, 'bytes');
    const line = bar.format({ done: 1536 * 1024, total: 3 * 1024 * 1024 });
    expect(line).toMatch(/^pull \[=+ +\] 1\.5 MiB\/3\.0 MiB {2}[\d.]+ (B|KiB|MiB|GiB|TiB)\/s {2}ETA /);
  });
});
