// Where a store looks for an artifact it lacks before the caller rebuilds it: one list, in order, so a
// new place is one more entry here and every reader gets it.
import { ArtifactStore, type ArtifactStoreOptions } from '../store/artifacts.js';
import { remoteSource } from '../store/remote/index.js';
import type { ProgressFactory } from '../store/remote/transfer.js';
import type { ArtifactSource } from '../store/sources.js';
import { cacheDir } from '../workspace.js';
import { nxOutputSource } from './nx-outputs.js';

export interface FallbackOptions {
  /** Also pull from `ARR_CACHE_REMOTE` on a miss (targets do; `arr status` and `arr cache push` never do). */
  remote?: { progress?: ProgressFactory; log?: (line: string) => void };
}

/**
 * The sources tried on a miss, in order: the copies Nx restored into the targets' outputs (free and
 * local), then, when asked for and configured, the artifact remote. Each copy is verified before the
 * store takes it.
 */
export function artifactFallbacks(workspaceRoot: string, options: FallbackOptions = {}): ArtifactSource[] {
  const sources = [nxOutputSource(workspaceRoot)];
  if (options.remote) {
    const remote = remoteSource({
      storeDir: cacheDir(workspaceRoot),
      progress: options.remote.progress,
      log: options.remote.log ?? ((l) => console.error(l)),
    });
    if (remote) sources.push(remote);
  }
  return sources;
}

/** The workspace's artifact store with its fallbacks; `owner` is recorded as built_by in what it builds. */
export function openArtifactStore(
  workspaceRoot: string,
  options: Omit<ArtifactStoreOptions, 'sources'> & FallbackOptions = {},
): ArtifactStore {
  const { remote, ...storeOptions } = options;
  return new ArtifactStore(cacheDir(workspaceRoot), {
    ...storeOptions,
    sources: artifactFallbacks(workspaceRoot, { remote }),
  });
}
