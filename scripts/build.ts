// Compiles src/ to plain JavaScript in dist/ (one .js per .ts, same layout) so `arr` starts without tsx.
// Runs from `npm ci` through the `prepare` script. swc only strips types: `npm run typecheck` checks them.
// It also precompiles the experiment schema's validator (src/manifest/schema.ts loads it from dist/).
// The stamp of the sources is taken before compiling, so an edit made during the build leaves dist/ stale
// (bin/arr.mjs then runs the sources) instead of pretending to include it.
import { transformFile } from '@swc/core';
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { STAMP_FILE, sourceStamp } from '../bin/source-stamp.mjs';
import { experimentValidatorSource, PRECOMPILED_VALIDATOR } from '../src/manifest/schema.js';

const root = join(import.meta.dirname, '..');
const srcDir = join(root, 'src');
const distDir = join(root, 'dist');
// Built beside dist/ and renamed into place, so a failed build never leaves a half-written dist/.
const stagingDir = join(root, `.dist-${process.pid}.tmp`);

const stamp = sourceStamp(srcDir);
const sources = readdirSync(srcDir, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
  .map((e) => join(e.parentPath, e.name));

try {
  await Promise.all(
    sources.map(async (file) => {
      const { code } = await transformFile(file, {
        swcrc: false,
        isModule: true,
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'es6' },
      });
      const out = join(stagingDir, relative(srcDir, file)).replace(/\.ts$/, '.js');
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, code);
    }),
  );
  // The experiment schema's validator, compiled now instead of on every arr call.
  writeFileSync(join(stagingDir, 'manifest', PRECOMPILED_VALIDATOR), experimentValidatorSource());
  writeFileSync(join(stagingDir, STAMP_FILE), `${JSON.stringify(stamp)}\n`);
  rmSync(distDir, { recursive: true, force: true });
  renameSync(stagingDir, distDir);
} catch (error) {
  rmSync(stagingDir, { recursive: true, force: true });
  throw error;
}
console.log(`compiled ${sources.length} files from src/ to dist/`);
