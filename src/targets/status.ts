import { keyedExperiment } from '../judge/key-model.js';
import { computeKeys, diffInputs } from '../keys/compute.js';
import { CACHED_TARGETS, type CachedTarget } from '../keys/slices.js';
import { openArtifactStore } from '../state/artifact-fallbacks.js';
import { readStamp } from '../state/stamps.js';
import { describeProblem } from '../store/artifacts.js';
import { HashMemo } from '../store/hash.js';
import { cacheDir } from '../workspace.js';
import { loadValidExperiment, type ExperimentRef } from '../manifest/valid.js';

/**
 * - `fresh`: a valid artifact with the current key exists (or was just adopted from Nx's outputs);
 * - `stale`: this experiment last built the target from other inputs;
 * - `missing`: this experiment's last build (its Nx output) has the current key, but the artifact is gone;
 * - `corrupt`: the artifact's files do not match its artifact.json (the next build moves it aside);
 * - `never built`: none of these.
 */
export type TargetState = 'fresh' | 'stale' | 'never built' | 'missing' | 'corrupt';

/** States `arr status --check` fails on: something claims to be built and is not usable as is. */
export const FAILING_STATES: readonly TargetState[] = ['stale', 'missing', 'corrupt'];

export interface TargetStatus {
  target: CachedTarget;
  state: TargetState;
  key: string;
  /** The experiment whose build produced the artifact (fresh only; null when unknown). */
  built_by: string | null;
  /** True when the artifact was just taken from a copy Nx restored into the target's output. */
  adopted: boolean;
  /** Stale: which fields and files differ from the last build. Missing, corrupt: what is wrong. */
  changes: string[];
}

/**
 * DVC-style status, one step finer: which targets are fresh, and for the others why. Cheap: an
 * artifact's files are checked by size and the hash memo (a stat per unchanged file), never re-read.
 */
export async function experimentStatus(ref: ExperimentRef): Promise<{ experiment: string; targets: TargetStatus[] }> {
  const loaded = await loadValidExperiment(ref, { checkData: false });
  const ws = ref.workspaceRoot;
  const memo = new HashMemo(cacheDir(ws));
  // Status never downloads: without the local judge's files, keys use judge.model as written.
  const keyed = await keyedExperiment(loaded.experiment, ws, { pull: false }).catch(() => loaded.experiment);
  const keys = await computeKeys(keyed, { workspaceRoot: ws, memo });
  const store = openArtifactStore(ws, { memo });
  const targets: TargetStatus[] = [];
  const row = (
    target: CachedTarget,
    state: TargetState,
    key: string,
    changes: string[] = [],
    more: Partial<TargetStatus> = {},
  ): TargetStatus => ({ target, state, key, built_by: null, adopted: false, changes, ...more });
  for (const target of CACHED_TARGETS) {
    const { key, inputs } = keys[target];
    const found = await store.inspect(target, key);
    if (found.state === 'present') {
      targets.push(
        row(target, 'fresh', key, [], { built_by: found.manifest.built_by ?? null, adopted: found.adopted }),
      );
      continue;
    }
    if (found.state === 'corrupt') {
      targets.push(
        row(target, 'corrupt', key, [
          ...found.problems.map(describeProblem),
          `the next build moves it aside and rebuilds: npx nx run ${loaded.name}:${target}`,
        ]),
      );
      continue;
    }
    const stamp = await readStamp(ws, loaded.name, target);
    if (!stamp) targets.push(row(target, 'never built', key));
    else if (stamp.key === key)
      targets.push(
        row(target, 'missing', key, [
          `built with this key (${stamp.built}), but the artifact is gone from cache/artifacts; rebuild: npx nx run ${loaded.name}:${target}`,
        ]),
      );
    else targets.push(row(target, 'stale', key, diffInputs(stamp.inputs, inputs)));
  }
  await memo.flush();
  return { experiment: loaded.name, targets };
}

/** The state as `arr status` prints it: `fresh (built by exp-x)` when another experiment built it. */
export function describeState(status: TargetStatus, experiment: string): string {
  if (status.state !== 'fresh') return status.state;
  const by = status.built_by && status.built_by !== experiment ? ` (built by ${status.built_by})` : '';
  return `fresh${by}${status.adopted ? ' (adopted from Nx outputs)' : ''}`;
}
