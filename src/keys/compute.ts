import { dirname, relative, sep } from 'node:path';
import { listDatasetImageFiles } from '../data/load-dataset.js';
import { isPlainObject } from '../manifest/layers.js';
import { fromStoredPath, pathFields } from '../manifest/paths.js';
import { keyOf } from '../store/canonical-json.js';
import { hashTree, type HashMemo } from '../store/hash.js';
import type { Experiment } from '../types/experiment.js';
import { CACHED_TARGETS, keySpec, type CachedTarget, type FileInput } from './slices.js';

/** Exactly what a key is the hash of; kept beside every build so `arr status` can say what changed. */
export interface KeyInputs {
  target: CachedTarget;
  /** Manifest fields by dotted path (leaves; lists are one value). */
  fields: Record<string, unknown>;
  /** File contents by label (`rubric.seed`, `rubric.seed:images/a.png`): sha256, or `missing`. */
  files: Record<string, string>;
  upstream?: { target: CachedTarget; key: string };
  constants?: Record<string, string>;
}

export interface TargetKey {
  target: CachedTarget;
  key: string;
  inputs: KeyInputs;
}

export type ExperimentKeys = Record<CachedTarget, TargetKey>;

export const MISSING = 'missing';

function flatten(value: unknown, prefix: string, out: Record<string, unknown>): Record<string, unknown> {
  if (isPlainObject(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else out[prefix] = value;
  return out;
}

const covers = (prefix: string, path: string) => prefix === '' || path === prefix || path.startsWith(`${prefix}.`);
const toPosix = (p: string) => p.split(sep).join('/');

export interface KeyContext {
  workspaceRoot: string;
  memo: HashMemo;
}

/** Hashes each input file once per call, however many targets read it. */
class InputHasher {
  private readonly files = new Map<string, Promise<string>>();
  private readonly datasets = new Map<string, Promise<Record<string, string>>>();
  constructor(
    private readonly ctx: KeyContext,
    private readonly task: Experiment['task'],
  ) {}

  file(absolute: string): Promise<string> {
    let hash = this.files.get(absolute);
    if (!hash) {
      hash = this.ctx.memo.hashFile(absolute).then(
        (h) => h.sha256,
        () => MISSING,
      );
      this.files.set(absolute, hash);
    }
    return hash;
  }

  /** Hashes of the local images a dataset names, labelled by their path relative to the dataset. */
  images(dataset: string): Promise<Record<string, string>> {
    let result = this.datasets.get(dataset);
    if (!result) {
      result = (async () => {
        let images: string[];
        try {
          images = await listDatasetImageFiles(dataset, this.task);
        } catch {
          return {}; // an unreadable dataset is already `missing` or changed by its own hash
        }
        const entries = await Promise.all(
          images.map(async (img) => [toPosix(relative(dirname(dataset), img)), await this.file(img)] as const),
        );
        return Object.fromEntries(entries);
      })();
      this.datasets.set(dataset, result);
    }
    return result;
  }

  async add(input: FileInput, experiment: Experiment, out: Record<string, string>): Promise<void> {
    const stored = pathFields(experiment as unknown as Record<string, unknown>).find(([f]) => f === input.field)?.[1];
    if (stored === undefined) return;
    const absolute = fromStoredPath(stored, this.ctx.workspaceRoot);
    if (input.tree) {
      try {
        for (const entry of await hashTree(absolute, this.ctx.memo)) out[`${input.field}:${entry.path}`] = entry.sha256;
      } catch {
        out[input.field] = MISSING;
      }
      return;
    }
    out[input.field] = await this.file(absolute);
    if (input.images && out[input.field] !== MISSING) {
      for (const [label, hash] of Object.entries(await this.images(absolute))) out[`${input.field}:${label}`] = hash;
    }
  }
}

/** Every cached target's key for an experiment, computed from its inputs alone: nothing needs to be built. */
export async function computeKeys(experiment: Experiment, ctx: KeyContext): Promise<ExperimentKeys> {
  const hasher = new InputHasher(ctx, experiment.task);
  const leaves = flatten(experiment, '', {});
  const pathLeaves = new Set(
    pathFields(experiment as unknown as Record<string, unknown>).map(([f]) => f.replace(/\[\d+\]$/, '')),
  );
  const keys = {} as ExperimentKeys;
  for (const target of CACHED_TARGETS) {
    const spec = keySpec(target, experiment);
    const fields: Record<string, unknown> = {};
    for (const [path, v] of Object.entries(leaves)) {
      if (!spec.fields.some((p) => covers(p, path))) continue;
      if (spec.exclude?.some((p) => covers(p, path))) continue;
      if (target !== 'resolve' && pathLeaves.has(path)) continue;
      fields[path] = structuredClone(v); // a copy: nothing done to the manifest later can change a key's inputs
    }
    const files: Record<string, string> = {};
    for (const input of spec.files) await hasher.add(input, experiment, files);
    const inputs: KeyInputs = { target, fields, files };
    if (spec.upstream) {
      const upstream = spec.upstream as CachedTarget;
      inputs.upstream = { target: upstream, key: keys[upstream].key };
    }
    if (spec.constants) inputs.constants = spec.constants;
    keys[target] = { target, key: keyOf(inputs), inputs };
  }
  await ctx.memo.flush();
  return keys;
}

/** What differs between the inputs a key was built from and the current ones, as readable lines. */
export function diffInputs(before: KeyInputs, now: KeyInputs): string[] {
  const changes: string[] = [];
  const compare = (kind: 'field' | 'file', a: Record<string, unknown>, b: Record<string, unknown>) => {
    for (const name of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const was = JSON.stringify(a[name]);
      const is = JSON.stringify(b[name]);
      if (was === is) continue;
      if (!(name in a)) changes.push(`${kind} ${name}: added`);
      else if (!(name in b)) changes.push(`${kind} ${name}: removed`);
      else if (kind === 'file') changes.push(`file ${name}: ${b[name] === MISSING ? 'missing' : 'content changed'}`);
      else changes.push(`field ${name}: ${was} → ${is}`);
    }
  };
  compare('field', before.fields, now.fields);
  compare('file', before.files, now.files);
  if (before.upstream?.key !== now.upstream?.key && now.upstream)
    changes.push(`upstream ${now.upstream.target} changed`);
  if (JSON.stringify(before.constants) !== JSON.stringify(now.constants))
    changes.push(`constants changed (prompt template version)`);
  return changes;
}
