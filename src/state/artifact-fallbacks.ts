// Where a store looks for an artifact it lacks before the caller rebuilds it: one list, in order, so a
// new place (an artifact remote) is one more entry here and every reader gets it.
import { ArtifactStore, type ArtifactStoreOptions } from '../store/artifacts.js';
import type { ArtifactSource } from '../store/sources.js';
import { cacheDir } from '../workspace.js';
import { nxOutputSource } from './nx-outputs.js';

/**
 * The sources tried on a miss, in order: the copies Nx restored into the targets' outputs (free and
 * local), then (when configured) an artifact remote. Each copy is verified before the store takes it.
 */
export function artifactFallbacks(workspaceRoot: string): ArtifactSource[] {
  return [nxOutputSource(workspaceRoot)];
}

/** The workspace's artifact store with its fallbacks; `owner` is recorded as built_by in what it builds. */
export function openArtifactStore(workspaceRoot: string, options: Omit<ArtifactStoreOptions, 'sources'> = {}): ArtifactStore {
  return new ArtifactStore(cacheDir(workspaceRoot), { ...options, sources: artifactFallbacks(workspaceRoot) });
}
