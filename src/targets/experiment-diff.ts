// `arr diff <a> <b>`: what separates two experiments, from their manifests and artifacts only.
import { createTwoFilesPatch } from 'diff';
import { CACHED_TARGETS } from '../keys/slices.js';
import { ArrError } from '../util/errors.js';
import { nearestOrigin, type Origin } from '../manifest/layers.js';
import {
  METRIC_COLUMNS,
  gatherComparison,
  selectExperiments,
  type CompareMetrics,
  type ExperimentFacts,
} from './compare.js';

export interface ParamDifference {
  field: string;
  a: unknown;
  b: unknown;
  /** Where each value came from, as `arr show` says it (file:line, --set, schema default, matrix, …). */
  a_from: string;
  b_from: string;
}

export interface FileDifference {
  /** The input's label in the keys: `verify.test`, `rubric.seed:images/0.png`. */
  input: string;
  a: string | null;
  b: string | null;
}

export interface ExperimentDiff {
  a: string;
  b: string;
  params: ParamDifference[];
  files: FileDifference[];
  /** Unified diff of the two rubric texts (empty when equal); null when either has no rubric yet. */
  rubric: string | null;
  /** b − a for each metric; null where either side is not measured. */
  metrics: Record<keyof CompareMetrics, { a: number | null; b: number | null; delta: number | null }>;
}

/** How `arr show` words where a value came from; `ws` makes file paths workspace-relative. */
export function describeOrigin(origin: Origin | undefined, relativePath: (file: string) => string): string {
  if (!origin) return 'default';
  const env = origin.env?.map((e) => `$${e.name}${e.usedDefault ? ' unset, its default' : ''}`).join(', ');
  const place =
    origin.kind === 'file'
      ? `${relativePath(origin.file ?? '')}:${origin.line ?? '?'}${origin.note ? ` (${origin.note})` : ''}`
      : origin.kind === 'derived'
        ? `derived from ${origin.note}`
        : origin.kind === 'cli'
          ? '--set'
          : 'schema default';
  return env ? `${place} via ${env}` : place;
}

function inputFiles(f: ExperimentFacts): Map<string, string> {
  const out = new Map<string, string>();
  for (const target of CACHED_TARGETS)
    for (const [label, hash] of Object.entries(f.keys[target].inputs.files)) out.set(label, hash);
  return out;
}

/** Compares two experiments (names, paths or matrix members). Reads artifacts only. */
export async function diffExperiments(
  a: string,
  b: string,
  workspaceRoot: string,
  relativePath: (file: string) => string,
): Promise<ExperimentDiff> {
  const one = (ref: string) => {
    const found = selectExperiments([ref], workspaceRoot);
    if (found.length !== 1)
      throw new ArrError(`${ref} is a matrix of ${found.length} experiments; diff compares two of them`, {
        hint: `name members, e.g. arr diff ${found[0]?.name} ${found[1]?.name ?? found[0]?.name}`,
      });
    return found[0];
  };
  const listed = [one(a), one(b)];
  const { facts } = await gatherComparison(listed, { workspaceRoot });
  const [fa, fb] = facts;
  const fields = [...new Set([...fa.leaves.keys(), ...fb.leaves.keys()])].sort();
  const params: ParamDifference[] = [];
  for (const field of fields) {
    const va = fa.leaves.get(field) ?? null;
    const vb = fb.leaves.get(field) ?? null;
    if (JSON.stringify(va) === JSON.stringify(vb)) continue;
    params.push({
      field,
      a: va,
      b: vb,
      a_from: describeOrigin(nearestOrigin(fa.loaded.origins, field), relativePath),
      b_from: describeOrigin(nearestOrigin(fb.loaded.origins, field), relativePath),
    });
  }
  const filesA = inputFiles(fa);
  const filesB = inputFiles(fb);
  const files: FileDifference[] = [];
  for (const input of [...new Set([...filesA.keys(), ...filesB.keys()])].sort()) {
    const ha = filesA.get(input) ?? null;
    const hb = filesB.get(input) ?? null;
    if (ha !== hb) files.push({ input, a: ha, b: hb });
  }
  const rubric =
    fa.rubric === null || fb.rubric === null
      ? null
      : fa.rubric === fb.rubric
        ? ''
        : createTwoFilesPatch(
            `${fa.row.name}/rubric.txt`,
            `${fb.row.name}/rubric.txt`,
            fa.rubric,
            fb.rubric,
            undefined,
            undefined,
            { context: 3 },
          );
  const metrics = Object.fromEntries(
    METRIC_COLUMNS.map((m) => {
      const ma = fa.row.metrics[m];
      const mb = fb.row.metrics[m];
      return [m, { a: ma, b: mb, delta: ma === null || mb === null ? null : mb - ma }];
    }),
  ) as ExperimentDiff['metrics'];
  return { a: fa.row.name, b: fb.row.name, params, files, rubric, metrics };
}
