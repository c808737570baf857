// Experiments side by side, from what is already built: resolved parameters, the verify report of each
// experiment's current key, the judge usage recorded by its artifacts and each target's state. Reads
// artifacts only, so comparing never calls the judge.
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { computeKeys, type ExperimentKeys } from '../keys/compute.js';
import { CACHED_TARGETS, type CachedTarget } from '../keys/slices.js';
import { isError, InvalidInputError } from '../diagnostics.js';
import {
  experimentsIn,
  listExperiments,
  loadExperiment,
  locateExperiment,
  memoisedYamlReader,
  type ListedExperiment,
} from '../manifest/load.js';
import type { readYamlFile } from '../manifest/yaml-source.js';
import type { Origin } from '../manifest/layers.js';
import { maskSecrets } from '../manifest/secrets-mask.js';
import { parseRubric } from '../rubric/text.js';
import { readStamp } from '../state/stamps.js';
import { ArtifactStore } from '../store/artifacts.js';
import { HashMemo } from '../store/hash.js';
import type { VerifyReport } from '../types/verify-report.js';
import { ArrError } from '../util/errors.js';
import { cacheDir } from '../workspace.js';
import type { ValidExperiment } from '../manifest/valid.js';
import type { TargetState } from './status.js';

export type CompareMetrics = {
  accuracy: number | null;
  ci_low: number | null;
  ci_high: number | null;
  baseline: number | null;
  gain: number | null;
  agreement: number | null;
  failures: number | null;
  /** Judge requests recorded by the rubric-generate and verify artifacts this experiment uses. */
  calls: number | null;
  tokens: number | null;
  cost: number | null;
  criteria: number | null;
};

export interface ComparedExperiment {
  name: string;
  params: Record<string, unknown>;
  metrics: CompareMetrics;
  states: Record<string, TargetState>;
}

export interface Comparison {
  experiments: ComparedExperiment[];
  differing: string[];
}

/** What compare knows about one experiment beyond the JSON row (for the HTML page and `arr diff`). */
export interface ExperimentFacts {
  row: ComparedExperiment;
  loaded: ValidExperiment;
  /** Every resolved leaf field (secrets masked) → value. */
  leaves: Map<string, unknown>;
  keys: ExperimentKeys;
  report: VerifyReport | null;
  /** The verify report's HTML page, when the artifact exists. */
  reportHtml: string | null;
  rubric: string | null;
}

export const METRIC_COLUMNS: (keyof CompareMetrics)[] = [
  'accuracy',
  'ci_low',
  'ci_high',
  'baseline',
  'gain',
  'agreement',
  'failures',
  'calls',
  'tokens',
  'cost',
  'criteria',
];

/** Flattens a resolved manifest into `a.b.c` → value; lists stay whole. */
export function leafFields(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length) {
    for (const [k, v] of Object.entries(value)) leafFields(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, value);
  return out;
}

/** How many criteria a rubric text holds: its tips when categorised, its items when a list, else 0. */
export function countCriteria(text: string): number {
  const doc = parseRubric(text);
  if (doc.kind === 'categories') return doc.categories.reduce((n, c) => n + c.tips.length, 0);
  if (doc.kind === 'list') return doc.items.length;
  return 0;
}

interface Usage {
  calls?: number;
  promptTokens?: number;
  completionTokens?: number;
  cost?: number | null;
}

/** Reads artifacts once per (kind, key): experiments that share a slice share the artifact. */
class ArtifactReader {
  private readonly json = new Map<string, Promise<unknown>>();
  constructor(readonly store: ArtifactStore) {}

  file(kind: CachedTarget, key: string, name: string): Promise<unknown> {
    const id = `${kind}/${key}/${name}`;
    let p = this.json.get(id);
    if (!p) {
      p = (async () => {
        if (!(await this.store.has(kind, key))) return null;
        const text = await readFile(join(this.store.path(kind, key), name), 'utf8').catch(() => null);
        if (text === null) return null;
        return name.endsWith('.json') ? JSON.parse(text) : text;
      })();
      this.json.set(id, p);
    }
    return p;
  }
}

async function stateOf(
  ws: string,
  name: string,
  target: CachedTarget,
  keys: ExperimentKeys,
  store: ArtifactStore,
): Promise<TargetState> {
  if (await store.has(target, keys[target].key)) return 'fresh';
  const stamp = await readStamp(ws, name, target);
  return stamp ? 'stale' : 'never built';
}

async function factsOf(
  listed: ListedExperiment,
  ws: string,
  memo: HashMemo,
  reader: ArtifactReader,
  read: typeof readYamlFile,
  env?: Record<string, string | undefined>,
): Promise<ExperimentFacts> {
  const result = loadExperiment(listed.file, { workspaceRoot: ws, env, member: listed.member, read });
  if (!result.ok) throw new InvalidInputError(result.diagnostics.filter(isError), ws);
  const loaded = result as ValidExperiment;
  const keys = await computeKeys(loaded.experiment, { workspaceRoot: ws, memo });
  const states: Record<string, TargetState> = {};
  for (const target of CACHED_TARGETS) states[target] = await stateOf(ws, loaded.name, target, keys, reader.store);
  const report = (await reader.file('verify', keys.verify.key, 'report.json')) as VerifyReport | null;
  const reportHtml = report ? reader.store.path('verify', keys.verify.key) + '/report.html' : null;
  const stats = (await reader.file('rubric-generate', keys['rubric-generate'].key, 'stats.json')) as {
    usage?: Usage;
  } | null;
  const rubric =
    report?.rubric.text ??
    ((await reader.file('rubric-generate', keys['rubric-generate'].key, 'rubric.txt')) as string | null);
  const usages = [stats?.usage, report?.usage].filter((u): u is Usage => Boolean(u));
  const sum = (f: (u: Usage) => number | null | undefined) =>
    usages.length ? usages.reduce((n, u) => n + (f(u) ?? 0), 0) : null;
  const costs = usages.map((u) => u.cost).filter((c): c is number => typeof c === 'number');
  const s = report?.with_rubric.summary;
  const metrics: CompareMetrics = {
    accuracy: s?.accuracy ?? null,
    ci_low: s?.ci95[0] ?? null,
    ci_high: s?.ci95[1] ?? null,
    baseline: report?.baseline?.summary.accuracy ?? null,
    gain: report?.gain ?? null,
    agreement: s?.agreement ?? null,
    failures: s?.failures ?? null,
    calls: sum((u) => u.calls),
    tokens: sum((u) => (u.promptTokens ?? 0) + (u.completionTokens ?? 0)),
    cost: costs.length ? costs.reduce((a, b) => a + b, 0) : null,
    criteria: rubric === null ? null : countCriteria(rubric),
  };
  const masked = maskSecrets(loaded.experiment, loaded.origins);
  const leaves = leafFields(masked);
  return { row: { name: loaded.name, params: {}, metrics, states }, loaded, leaves, keys, report, reportHtml, rubric };
}

/** A field whose value was derived (the default freeze.name) differs by construction and says nothing. */
const isDerived = (origin: Origin | undefined) => origin?.kind === 'derived';

/** The experiments `refs` name: every one when empty; a matrix manifest's name stands for its members. */
export function selectExperiments(
  refs: string[],
  ws: string,
  read: typeof readYamlFile = memoisedYamlReader(),
): ListedExperiment[] {
  if (refs.length === 0) return listExperiments(ws, read);
  return refs.flatMap((ref) => {
    const { file, member } = locateExperiment(ref, ws);
    if (member !== undefined) return [{ name: ref, file, member }];
    return experimentsIn(file, read);
  });
}

export interface CompareOptions {
  workspaceRoot: string;
  env?: Record<string, string | undefined>;
  /** Skip experiments whose manifest does not load (with `onSkip`) instead of failing. */
  onSkip?: (name: string, error: Error) => void;
  /** The YAML reader selectExperiments used, so each manifest is parsed once. */
  read?: typeof readYamlFile;
}

/** Gathers every experiment's facts and the fields that differ between them. */
export async function gatherComparison(
  listed: ListedExperiment[],
  options: CompareOptions,
): Promise<{ comparison: Comparison; facts: ExperimentFacts[] }> {
  const ws = options.workspaceRoot;
  const memo = new HashMemo(cacheDir(ws));
  const reader = new ArtifactReader(new ArtifactStore(cacheDir(ws), { memo }));
  const read = options.read ?? memoisedYamlReader();
  // A few experiments at a time: their stats and reads overlap; the order of rows stays the listed one.
  const slots: (ExperimentFacts | undefined)[] = new Array(listed.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < listed.length; i = next++) {
      try {
        slots[i] = await factsOf(listed[i], ws, memo, reader, read, options.env);
      } catch (error) {
        if (!options.onSkip || !(error instanceof ArrError)) throw error;
        options.onSkip(listed[i].name, error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, listed.length) }, worker));
  await memo.flush();
  const facts = slots.filter((f): f is ExperimentFacts => f !== undefined);
  const fields = [...new Set(facts.flatMap((f) => [...f.leaves.keys()]))];
  const differing = fields.filter((field) => {
    if (facts.every((f) => isDerived(f.loaded.origins.get(field)))) return false;
    const values = new Set(facts.map((f) => JSON.stringify(f.leaves.get(field) ?? null)));
    return values.size > 1;
  });
  for (const f of facts)
    f.row.params = Object.fromEntries(differing.map((field) => [field, f.leaves.get(field) ?? null]));
  return { comparison: { experiments: facts.map((f) => f.row), differing }, facts };
}

/** Sorts rows by a column named as in the JSON: a metric, a differing field, `name`, or a target's state. */
export function sortComparison(c: Comparison, column: string): Comparison {
  const value = (e: ComparedExperiment): unknown =>
    column === 'name'
      ? e.name
      : column in e.metrics
        ? e.metrics[column as keyof CompareMetrics]
        : column in e.params
          ? e.params[column]
          : column in e.states
            ? e.states[column]
            : undefined;
  const known =
    column === 'name' ||
    METRIC_COLUMNS.includes(column as keyof CompareMetrics) ||
    c.differing.includes(column) ||
    (CACHED_TARGETS as readonly string[]).includes(column);
  if (!known) {
    throw new ArrError(`no column ${column} to sort by`, {
      hint: `columns: name, ${METRIC_COLUMNS.join(', ')}${c.differing.length ? `, ${c.differing.join(', ')}` : ''}, ${CACHED_TARGETS.join(', ')}`,
    });
  }
  const cmp = (a: unknown, b: unknown): number => {
    if (a === b) return 0;
    if (a === null || a === undefined) return 1; // missing values last
    if (b === null || b === undefined) return -1;
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    return String(a).localeCompare(String(b));
  };
  // Metrics read best-first (highest accuracy on top); names and parameters ascending.
  const descending =
    METRIC_COLUMNS.includes(column as keyof CompareMetrics) &&
    !['failures', 'calls', 'tokens', 'cost'].includes(column);
  const rows = [...c.experiments].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va === null || va === undefined || vb === null || vb === undefined) return cmp(va, vb);
    return descending ? cmp(vb, va) : cmp(va, vb);
  });
  return { ...c, experiments: rows };
}

export const workspaceRelative = (ws: string, file: string) => relative(ws, file);
