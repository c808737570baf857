import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { keyedExperiment } from '../judge/key-model.js';
import { computeKeys, type ExperimentKeys } from '../keys/compute.js';
import { maskSecrets } from '../manifest/secrets-mask.js';
import { writeStamp, targetOutputDir } from '../state/stamps.js';
import { byteProgress } from '../report/transfer-progress.js';
import { openArtifactStore } from '../state/artifact-fallbacks.js';
import { copyToNxOutput } from '../state/nx-outputs.js';
import { writeJsonAtomic } from '../store/atomic.js';
import { HashMemo } from '../store/hash.js';
import { cacheDir } from '../workspace.js';
import { loadValidExperiment, type ExperimentRef } from '../manifest/valid.js';

export interface ResolveResult {
  experiment: string;
  key: string;
  reused: boolean;
  lockFile: string;
  keys: ExperimentKeys;
  files: number;
}

/**
 * The `resolve` target: validates the experiment and everything it names, then writes the lock every
 * later target starts from: the resolved manifest (secrets masked) and the hash of every input.
 */
export async function runResolve(ref: ExperimentRef): Promise<ResolveResult> {
  const loaded = await loadValidExperiment(ref);
  const ws = ref.workspaceRoot;
  const memo = new HashMemo(cacheDir(ws));
  // resolve judges nothing: it never downloads the local judge's files (without them the judging
  // targets' keys in the lock use judge.model as written; rubric-generate fetches the files).
  const keyed = await keyedExperiment(loaded.experiment, ws, { pull: false }).catch(() => loaded.experiment);
  const keys = await computeKeys(keyed, { workspaceRoot: ws, memo });
  const { key, inputs } = keys.resolve;
  const targetKeys = Object.fromEntries(Object.values(keys).map((k) => [k.target, k.key]));
  // The shared artifact holds only what its key covers; the experiment's own lock adds who and where.
  const store = openArtifactStore(ws, { memo, owner: loaded.name, remote: { progress: byteProgress } });
  const built = await store.build('resolve', inputs, async (dir) => {
    await writeFile(join(dir, 'lock.json'), `${JSON.stringify({ schema: 1, inputs, keys: targetKeys }, null, 2)}\n`);
  });
  const lock = {
    schema: 1,
    experiment: loaded.name,
    key,
    manifest: relative(ws, loaded.file),
    extends: loaded.chain.slice(1).map((f) => relative(ws, f)),
    resolved: maskSecrets(loaded.experiment, loaded.origins),
    inputs: inputs.files,
    keys: targetKeys,
  };
  const outDir = targetOutputDir(ws, loaded.name, 'resolve');
  await copyToNxOutput(store, ws, loaded.name, 'resolve', key);
  await writeStamp(ws, { experiment: loaded.name, target: 'resolve', key, inputs });
  const lockFile = join(outDir, 'lock.json');
  await writeJsonAtomic(lockFile, lock);
  return {
    experiment: loaded.name,
    key,
    reused: built.reused,
    lockFile,
    keys,
    files: Object.keys(inputs.files).length,
  };
}

/** The registry's entry for `resolve`: runs it and says what it did in one line. */
export async function runResolveTarget(ref: ExperimentRef): Promise<string> {
  const r = await runResolve(ref);
  return `resolve ${r.experiment}: ${r.files} input file(s) hashed, key ${r.key.slice(0, 12)} (${r.reused ? 'reused' : 'built'}), lock ${relative(ref.workspaceRoot, r.lockFile)}`;
}
