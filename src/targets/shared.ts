import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadDataset } from '../data/load-dataset.js';
import type { DatasetItem } from '../data/types.js';
import { InvalidInputError, isError } from '../diagnostics.js';
import { keyedExperiment } from '../judge/key-model.js';
import { computeKeys, type ExperimentKeys } from '../keys/compute.js';
import type { CachedTarget } from '../keys/slices.js';
import { datasetOptionsFor } from '../manifest/dataset-options.js';
import { fromStoredPath } from '../manifest/paths.js';
import { targetOutputDir, writeStamp } from '../state/stamps.js';
import type { ArtifactStore } from '../store/artifacts.js';
import { HashMemo } from '../store/hash.js';
import { byteProgress } from '../report/transfer-progress.js';
import { openArtifactStore } from '../state/artifact-fallbacks.js';
import { copyToNxOutput } from '../state/nx-outputs.js';
import { cacheDir } from '../workspace.js';
import type { Experiment } from '../types/experiment.js';
import { checkInputs } from '../manifest/inputs.js';
import { loadValidExperiment, type ExperimentRef, type ValidExperiment } from '../manifest/valid.js';

export interface TargetContext {
  loaded: ValidExperiment;
  workspaceRoot: string;
  keys: ExperimentKeys;
  store: ArtifactStore;
}

export async function targetContext(
  loaded: ValidExperiment,
  workspaceRoot: string,
  options: { judges?: boolean } = {},
): Promise<TargetContext> {
  const memo = new HashMemo(cacheDir(workspaceRoot));
  // A target that never judges (preprocess) does not fetch the local judge's files for keys it does not
  // use; without them the judging targets' keys fall back to judge.model as written.
  const keyed =
    options.judges === false
      ? await keyedExperiment(loaded.experiment, workspaceRoot, { pull: false }).catch(() => loaded.experiment)
      : await keyedExperiment(loaded.experiment, workspaceRoot);
  const keys = await computeKeys(keyed, { workspaceRoot, memo });
  return {
    loaded,
    workspaceRoot,
    keys,
    store: openArtifactStore(workspaceRoot, { memo, owner: loaded.name, remote: { progress: byteProgress } }),
  };
}

/**
 * Loads an experiment for a target. Its data (records, every image decoded) is checked unless a resolve
 * artifact exists for exactly these inputs: resolve only builds one after the same check passed, and
 * its key covers every dataset and image byte, so checking again would only repeat the work.
 */
export async function openTarget(
  ref: ExperimentRef,
  options: { judges?: boolean | ((experiment: Experiment) => boolean) } = {},
): Promise<TargetContext> {
  const loaded = await loadValidExperiment(ref, { checkData: false });
  const judges = typeof options.judges === 'function' ? options.judges(loaded.experiment) : options.judges;
  const ctx = await targetContext(loaded, ref.workspaceRoot, { judges });
  if (!(await ctx.store.has('resolve', ctx.keys.resolve.key))) {
    const problems = (await checkInputs(loaded, ref.workspaceRoot)).filter(isError);
    if (problems.length) throw new InvalidInputError(problems, ref.workspaceRoot);
  }
  return ctx;
}

/**
 * Records the build in the experiment's stamp and copies chosen artifact files to the target's Nx output
 * folder, with a full copy of a small artifact in `artifact/` so an Nx replay restores the artifact itself.
 */
export async function publish(ctx: TargetContext, target: CachedTarget, files: string[]): Promise<string> {
  const { key, inputs } = ctx.keys[target];
  const out = targetOutputDir(ctx.workspaceRoot, ctx.loaded.name, target);
  await mkdir(out, { recursive: true });
  const dir = ctx.store.path(target, key);
  for (const file of files) await copyFile(join(dir, file), join(out, file));
  await copyToNxOutput(ctx.store, ctx.workspaceRoot, ctx.loaded.name, target, key);
  await writeStamp(ctx.workspaceRoot, { experiment: ctx.loaded.name, target, key, inputs });
  return out;
}

/** The artifact of an upstream target, verified; a clear error naming the target that makes it when absent. */
export async function requireArtifact(ctx: TargetContext, target: CachedTarget): Promise<string> {
  const key = ctx.keys[target].key;
  const manifest = await ctx.store.read(target, key);
  if (!manifest) {
    throw new Error(
      `${ctx.loaded.name}: the ${target} artifact ${key.slice(0, 12)} is not in cache/; build it first: npx nx run ${ctx.loaded.name}:${target}`,
    );
  }
  return ctx.store.path(target, key);
}

export const readArtifactFile = (dir: string, file: string): Promise<string> => readFile(join(dir, file), 'utf8');

/** A labelled dataset named by the manifest, fully checked (records and images). */
export async function loadLabelled(ctx: TargetContext, stored: string): Promise<DatasetItem[]> {
  const ws = ctx.workspaceRoot;
  const result = await loadDataset(fromStoredPath(stored, ws), datasetOptionsFor(ctx.loaded.experiment, ws));
  if (result.diagnostics.some(isError)) throw new InvalidInputError(result.diagnostics.filter(isError), ws);
  return result.items;
}
