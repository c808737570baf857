import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { computeKeys } from '../keys/compute.js';
import { CACHED_TARGETS } from '../keys/slices.js';
import { experimentName, listExperimentFiles } from '../manifest/load.js';
import { adoptFromNxOutputs } from '../state/nx-outputs.js';
import { openArtifactStore } from '../state/artifact-fallbacks.js';
import { ArtifactStore } from '../store/artifacts.js';
import { HashMemo } from '../store/hash.js';
import {
  pullArtifact,
  pushArtifact,
  RemoteError,
  type ProgressFactory,
  type RemoteBackend,
} from '../store/remote/index.js';
import { ArrError } from '../util/errors.js';
import { cacheDir } from '../workspace.js';
import { loadValidExperiment } from '../manifest/valid.js';

/** The store's artifact kinds: one per cached target, plus the per-item embeddings preprocess reuses. */
export const ARTIFACT_KINDS = [...CACHED_TARGETS, 'embedding'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

export interface ShareRequest {
  workspaceRoot: string;
  remote: RemoteBackend;
  /** Experiments whose artifacts to move; empty: push every local artifact / pull for every experiment. */
  experiments: string[];
  /** Only these kinds; default every target kind (and, for a push of the whole store, embeddings too). */
  kinds?: ArtifactKind[];
  progress?: ProgressFactory;
}

export interface ShareItem {
  kind: string;
  key: string;
  /** Experiments that asked for this artifact (empty when the whole store was pushed). */
  experiments: string[];
  outcome: 'pushed' | 'exists' | 'not-built' | 'pulled' | 'present' | 'absent';
  bytes: number;
}

export interface ShareResult {
  remote: string;
  items: ShareItem[];
  counts: Record<ShareItem['outcome'], number>;
}

/**
 * `arr cache push`: uploads local artifacts the remote lacks (never replacing one it has). Refuses
 * without write access, so a machine with read-only credentials can never publish by accident.
 */
export async function pushToRemote(request: ShareRequest): Promise<ShareResult> {
  await request.remote.checkWritable();
  // What Nx restored into the targets' outputs counts as built: adopt it (verified) so it can be pushed.
  // Push never pulls, so the remote is not one of this store's sources.
  const store = openArtifactStore(request.workspaceRoot);
  await adoptFromNxOutputs(store, request.workspaceRoot);
  const wanted = request.experiments.length
    ? await experimentArtifacts(request, store, true)
    : (await store.list())
        .filter((a) => !request.kinds || request.kinds.includes(a.kind as ArtifactKind))
        .map((a) => ({ kind: a.kind, key: a.key, experiments: [] }));
  const items: ShareItem[] = [];
  for (const w of wanted) {
    const manifest = await store.read(w.kind, w.key);
    if (!manifest) {
      items.push({ ...w, outcome: 'not-built', bytes: 0 });
      continue;
    }
    const outcome = await pushArtifact(request.remote, store, w.kind, w.key, { progress: request.progress });
    items.push({ ...w, outcome, bytes: Object.values(manifest.files).reduce((n, f) => n + f.size, 0) });
  }
  return summarise(request.remote.url, items);
}

/** `arr cache pull`: prefetches the artifacts of the given experiments (default: all) that are not local. */
export async function pullFromRemote(request: ShareRequest): Promise<ShareResult> {
  const store = new ArtifactStore(cacheDir(request.workspaceRoot));
  const experiments = request.experiments.length
    ? request.experiments
    : listExperimentFiles(request.workspaceRoot).map(experimentName);
  if (experiments.length === 0)
    throw new ArrError('no experiments to pull for: experiments/ holds no manifests', {
      hint: 'name experiments: arr cache pull exp-a exp-b',
    });
  const items: ShareItem[] = [];
  const seen = new Set<string>();
  const pullOne = async (kind: string, key: string, names: string[]) => {
    if (seen.has(`${kind}/${key}`)) return;
    seen.add(`${kind}/${key}`);
    if (await store.has(kind, key)) return items.push({ kind, key, experiments: names, outcome: 'present', bytes: 0 });
    const outcome = await pullArtifact(request.remote, store, kind, key, { progress: request.progress });
    const bytes =
      outcome === 'pulled'
        ? Object.values((await store.read(kind, key))?.files ?? {}).reduce((n, f) => n + f.size, 0)
        : 0;
    items.push({ kind, key, experiments: names, outcome, bytes });
  };
  for (const w of await experimentArtifacts({ ...request, experiments }, store, false))
    await pullOne(w.kind, w.key, w.experiments);
  // Embeddings are only named by a preprocess artifact, so they can be listed once it is here.
  if (request.kinds?.includes('embedding')) {
    for (const w of await embeddingsOf(
      store,
      items.filter((i) => i.kind === 'preprocess'),
    ))
      await pullOne('embedding', w.key, w.experiments);
  }
  return summarise(request.remote.url, items);
}

type Wanted = { kind: string; key: string; experiments: string[] };

/** The keys each experiment's targets have now, deduplicated across experiments that share them. */
async function experimentArtifacts(
  request: ShareRequest,
  store: ArtifactStore,
  withEmbeddings: boolean,
): Promise<Wanted[]> {
  const ws = request.workspaceRoot;
  const memo = new HashMemo(cacheDir(ws));
  const kinds: readonly ArtifactKind[] = request.kinds ?? CACHED_TARGETS;
  const byId = new Map<string, Wanted>();
  for (const experiment of request.experiments) {
    const loaded = await loadValidExperiment({ experiment, workspaceRoot: ws }, { checkData: false });
    const keys = await computeKeys(loaded.experiment, { workspaceRoot: ws, memo });
    for (const target of CACHED_TARGETS) {
      if (!kinds.includes(target)) continue;
      const id = `${target}/${keys[target].key}`;
      const w = byId.get(id) ?? { kind: target, key: keys[target].key, experiments: [] };
      w.experiments.push(loaded.name);
      byId.set(id, w);
    }
    if (withEmbeddings && kinds.includes('embedding')) {
      const preprocess = { kind: 'preprocess', key: keys.preprocess.key, experiments: [loaded.name] };
      for (const e of await embeddingsOf(store, [preprocess])) {
        const w = byId.get(`embedding/${e.key}`) ?? { ...e, experiments: [] };
        w.experiments.push(loaded.name);
        byId.set(`embedding/${e.key}`, w);
      }
    }
  }
  await memo.flush();
  return [...byId.values()];
}

/** The embedding entries a local preprocess artifact was assembled from (its metadata.json `sha256`s). */
async function embeddingsOf(store: ArtifactStore, preprocess: Wanted[]): Promise<Wanted[]> {
  const out: Wanted[] = [];
  for (const p of preprocess) {
    if (!(await store.has('preprocess', p.key))) continue;
    const entries = JSON.parse(await readFile(join(store.path('preprocess', p.key), 'metadata.json'), 'utf8')) as {
      sha256?: string;
    }[];
    for (const e of entries)
      if (typeof e.sha256 === 'string') out.push({ kind: 'embedding', key: e.sha256, experiments: p.experiments });
  }
  return out;
}

function summarise(remote: string, items: ShareItem[]): ShareResult {
  const counts = { pushed: 0, exists: 0, 'not-built': 0, pulled: 0, present: 0, absent: 0 };
  for (const i of items) counts[i.outcome]++;
  return { remote, items, counts };
}

/** The remote for `arr cache push|pull|ls --remote`; an error saying how to set one when unset. */
export function requireRemote(remote: RemoteBackend | undefined): RemoteBackend {
  if (!remote) {
    throw new RemoteError('no artifact remote: ARR_CACHE_REMOTE is not set', {
      hint: 'set ARR_CACHE_REMOTE=s3://bucket/prefix (credentials from the AWS SDK variables) or ARR_CACHE_REMOTE=file:///shared/folder',
    });
  }
  return remote;
}
