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

/**
 * The local store: artifacts, judge responses, encoded images, the hash memo and runs. It is
 * `<workspace>/cache` unless `ARR_CACHE_DIR` names another folder (relative to the workspace root), for
 * example a larger disk or one store shared by several checkouts. Every engine path into the store
 * starts here.
 */
export function cacheDir(workspaceRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  const moved = env.ARR_CACHE_DIR?.trim();
  return moved ? resolve(workspaceRoot, moved) : workspaceCacheDir(workspaceRoot);
}

/**
 * State that belongs to this checkout and never moves with `ARR_CACHE_DIR`: Nx's task cache, the
 * per-experiment target outputs Nx records and restores (`experiments/`), and the plugin's plan cache.
 */
export function workspaceCacheDir(workspaceRoot: string): string {
  return join(workspaceRoot, 'cache');
}
