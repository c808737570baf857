// bin/arr.mjs runs dist/ only while it was built from the sources now in src/, and the sources otherwise.
// Runs in a copy of the package so the repository's own dist/ is never touched.
import { appendFileSync, cpSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { expect } from 'vitest';
import { test } from '../helpers/fixtures.js';
import { repoRoot } from '../helpers/workspace.js';

const { version } = (await import('../../package.json', { with: { type: 'json' } })).default;

test('uses a current build, falls back to the sources when src/ changes, and obeys ARR_FROM_SOURCE', {
  timeout: 120_000,
}, async ({ tempDir }) => {
  const pkg = tempDir();
  for (const dir of ['src', 'bin']) cpSync(join(repoRoot, dir), join(pkg, dir), { recursive: true });
  mkdirSync(join(pkg, 'scripts'));
  cpSync(join(repoRoot, 'scripts', 'build.ts'), join(pkg, 'scripts', 'build.ts'));
  cpSync(join(repoRoot, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(repoRoot, 'node_modules'), join(pkg, 'node_modules'));
  const arr = (env: Record<string, string> = {}) =>
    execa(process.execPath, [join(pkg, 'bin', 'arr.mjs'), '--version'], {
      cwd: pkg,
      env: { ARR_FROM_SOURCE: '', ...env },
    });

  expect((await arr()).stdout).toBe(version); // no dist/ yet: the sources

  await execa(
    process.execPath,
    [join(pkg, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(pkg, 'scripts', 'build.ts')],
    { cwd: pkg },
  );
  expect(existsSync(join(pkg, 'dist', 'commands', 'status.js'))).toBe(true);
  expect((await arr()).stdout).toBe(version); // the real build runs

  // Mark the build so the test can tell which one ran; dist/ is not what the stamp covers.
  writeFileSync(join(pkg, 'dist', 'cli.js'), "console.log('compiled');\n");
  expect((await arr()).stdout).toBe('compiled');
  expect((await arr({ ARR_FROM_SOURCE: '1' })).stdout).toBe(version);

  appendFileSync(join(pkg, 'src', 'workspace.ts'), '\n// edited after the build\n');
  expect((await arr()).stdout).toBe(version); // stale build: the sources again
});
