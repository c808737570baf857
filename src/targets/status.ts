import { keyedExperiment } from '../judge/key-model.js';
import { computeKeys, diffInputs } from '../keys/compute.js';
import { CACHED_TARGETS, type CachedTarget } from '../keys/slices.js';
import { readStamp } from '../state/stamps.js';
import { ArtifactStore } from '../store/artifacts.js';
import { HashMemo } from '../store/hash.js';
import { cacheDir } from '../workspace.js';
import { loadValidExperiment, type ExperimentRef } from './context.js';

export type TargetState = 'fresh' | 'stale' | 'never built';

export interface TargetStatus {
  target: CachedTarget;
  state: TargetState;
  key: string;
  /** For stale targets: which fields and files differ from the last build. */
  changes: string[];
}

/**
 * DVC-style status, one step finer: a target is fresh when an artifact with its current key exists
 * (built by this experiment or any other with the same slice), stale when this experiment built it
 * from other inputs (and the changed fields and files are named), never built otherwise.
 */
export async function experimentStatus(ref: ExperimentRef): Promise<{ experiment: string; targets: TargetStatus[] }> {
  const loaded = await loadValidExperiment(ref, { checkData: false });
  const ws = ref.workspaceRoot;
  const memo = new HashMemo(cacheDir(ws));
  // Status never downloads: without the local judge's files, keys use judge.model as written.
  const keyed = await keyedExperiment(loaded.experiment, ws, { pull: false }).catch(() => loaded.experiment);
  const keys = await computeKeys(keyed, { workspaceRoot: ws, memo });
  const store = new ArtifactStore(cacheDir(ws), { memo });
  const targets: TargetStatus[] = [];
  for (const target of CACHED_TARGETS) {
    const { key, inputs } = keys[target];
    if (await store.has(target, key)) {
      targets.push({ target, state: 'fresh', key, changes: [] });
      continue;
    }
    const stamp = await readStamp(ws, loaded.name, target);
    if (!stamp) targets.push({ target, state: 'never built', key, changes: [] });
    else {
      const changes = stamp.key === key ? ['artifact missing from cache/ (deleted or garbage-collected)'] : diffInputs(stamp.inputs, inputs);
      targets.push({ target, state: 'stale', key, changes });
    }
  }
  return { experiment: loaded.name, targets };
}
