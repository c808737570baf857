// The freshness check for the compiled CLI, shared by bin/arr.mjs and scripts/build.ts.
// Plain JavaScript on purpose: bin/arr.mjs must be able to run it before anything is compiled.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A fingerprint of a source tree: how many entries it holds and the newest modification time among
 * them. Directories count too, so adding, deleting or renaming a file changes the stamp even when every
 * remaining file is older than the build.
 * @param {string} dir
 * @returns {{ entries: number, newestMs: number }}
 */
export function sourceStamp(dir) {
  let entries = 0;
  let newestMs = statSync(dir).mtimeMs;
  const walk = (folder) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      const { mtimeMs } = statSync(path);
      entries += 1;
      if (mtimeMs > newestMs) newestMs = mtimeMs;
      if (entry.isDirectory()) walk(path);
    }
  };
  walk(dir);
  return { entries, newestMs };
}

/** Where the build records the stamp of the sources it compiled. */
export const STAMP_FILE = '.source-stamp.json';

/**
 * True when `distDir` holds a build of exactly the sources now in `srcDir`: the stamp the build recorded
 * matches the tree entry for entry and no source is newer than what was compiled.
 * @param {string} srcDir
 * @param {string} distDir
 * @returns {boolean}
 */
export function compiledIsCurrent(srcDir, distDir) {
  let recorded;
  try {
    recorded = JSON.parse(readFileSync(join(distDir, STAMP_FILE), 'utf8'));
  } catch {
    return false;
  }
  const now = sourceStamp(srcDir);
  return recorded.entries === now.entries && recorded.newestMs === now.newestMs;
}
