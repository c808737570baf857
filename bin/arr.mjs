#!/usr/bin/env node
// The `arr` command. It runs the compiled JavaScript in dist/ when that was built from exactly the sources
// now in src/ (see scripts/build.ts), and otherwise the TypeScript sources through tsx, so an edit is never
// shadowed by an old build and development needs no build step. ARR_FROM_SOURCE=1 always runs the sources.
import { fileURLToPath } from 'node:url';
import { compiledIsCurrent } from './source-stamp.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
if (process.env.ARR_FROM_SOURCE !== '1' && compiledIsCurrent(`${root}src`, `${root}dist`)) {
  await import('../dist/cli.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
