import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** The workspace root is the nearest folder above `from` that holds an `nx.json`. */
export function findWorkspaceRoot(from: string = process.cwd()): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`no nx.json found in ${resolve(from)} or any folder above it; run arr inside an ARR workspace`);
    }
    dir = parent;
  }
}

/** Where rebuildable state lives: `<workspace>/cache`. */
export function cacheDir(workspaceRoot: string): string {
  return join(workspaceRoot, 'cache');
}
