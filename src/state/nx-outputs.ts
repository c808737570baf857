// Small artifacts travel inside the targets' Nx outputs (cache/experiments/<exp>/<target>/artifact/), so
// whatever Nx restores from its cache, local or remote, carries the artifact itself and not a pointer.
// Nx has no hook after a cache hit: the store adopts such a copy the first time anyone misses the key.
import { cp, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CachedTarget } from '../keys/slices.js';
import { MANIFEST, type ArtifactStore } from '../store/artifacts.js';
import type { ArtifactSource } from '../store/sources.js';
import { workspaceCacheDir } from '../workspace.js';
import { targetOutputDir } from './stamps.js';

/** Kinds small enough to travel in Nx's task cache; embeddings and preprocess go through the artifact store only. */
export const NX_CARRIED_KINDS: readonly CachedTarget[] = ['resolve', 'rubric-generate', 'verify', 'freeze'];

/** The folder of a target's Nx output that holds its artifact's copy. */
export const nxArtifactDir = (workspaceRoot: string, experiment: string, target: string): string =>
  join(targetOutputDir(workspaceRoot, experiment, target), 'artifact');

const carried = (kind: string): kind is CachedTarget => (NX_CARRIED_KINDS as readonly string[]).includes(kind);

/** Every copy of `kind` in any experiment's Nx outputs, as [folder, recorded key]. */
async function copiesOf(workspaceRoot: string, kind: CachedTarget): Promise<[string, string][]> {
  const root = join(workspaceCacheDir(workspaceRoot), 'experiments');
  const out: [string, string][] = [];
  for (const experiment of (await readdir(root).catch(() => [] as string[])).sort()) {
    const dir = nxArtifactDir(workspaceRoot, experiment, kind);
    try {
      const manifest = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as { key?: unknown };
      if (typeof manifest.key === 'string') out.push([dir, manifest.key]);
    } catch {
      /* no copy here */
    }
  }
  return out;
}

/** The source that finds a key among the copies Nx restored (any experiment's, since keys are shared). */
export function nxOutputSource(workspaceRoot: string): ArtifactSource {
  return {
    name: 'Nx outputs (cache/experiments/)',
    kinds: NX_CARRIED_KINDS,
    async fetch(kind, key, into) {
      if (!carried(kind)) return false;
      const found = (await copiesOf(workspaceRoot, kind)).find(([, k]) => k === key);
      if (!found) return false;
      await cp(found[0], into, { recursive: true });
      return true;
    },
  };
}

/**
 * Puts a copy of the artifact (its files and artifact.json) into the target's Nx output, replacing any
 * older copy in one rename, so Nx caches the artifact itself.
 */
export async function copyToNxOutput(
  store: ArtifactStore,
  workspaceRoot: string,
  experiment: string,
  kind: CachedTarget,
  key: string,
): Promise<void> {
  if (!carried(kind)) return;
  const dest = nxArtifactDir(workspaceRoot, experiment, kind);
  const staging = `${dest}.${process.pid}.tmp`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(join(dest, '..'), { recursive: true });
  await cp(store.path(kind, key), staging, { recursive: true });
  await rm(dest, { recursive: true, force: true });
  await rename(staging, dest);
}

/**
 * Adopts into the store every artifact copy found in the Nx outputs that the store lacks (each one
 * verified). For `arr cache push` and `arr status`: what Nx restored becomes a real artifact.
 * @returns the `kind/key` of each artifact adopted.
 */
export async function adoptFromNxOutputs(
  store: ArtifactStore,
  workspaceRoot: string,
  kinds: readonly string[] = NX_CARRIED_KINDS,
): Promise<string[]> {
  const adopted: string[] = [];
  for (const kind of kinds.filter(carried)) {
    for (const key of new Set((await copiesOf(workspaceRoot, kind)).map(([, k]) => k))) {
      // inspect() adopts on a miss (the store's first source is the Nx outputs); count only new ones.
      const state = await store.inspect(kind, key);
      if (state.state === 'present' && state.adopted) adopted.push(`${kind}/${key}`);
    }
  }
  return adopted;
}
