import { existsSync, readdirSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { isError, type Diagnostic } from '../diagnostics.js';
import type { Experiment } from '../types/experiment.js';
import { findEnvReferences, resolveEnv, type Env, type EnvReference } from './env.js';
import { fieldDiagnostic, loadMerged, isPlainObject, type Origins } from './layers.js';
import { applyMember, expandMatrix, memberSplits, setField, type MatrixMember } from './matrix.js';
import { resolvePaths } from './paths.js';
import { readYamlFile } from './yaml-source.js';
import { FORBIDDEN_KEYS, forbiddenKeyMessage } from '../util/safe-keys.js';
import { applyDefaults, fieldsMarked, validateExperiment } from './schema.js';
import { checkSecrets, checkUrlSecrets } from './secrets.js';

export interface LoadOptions {
  workspaceRoot: string;
  env?: Env;
  /** Values from command-line flags by dotted field path; they beat the manifest. */
  overrides?: Record<string, unknown>;
  /** For a manifest with `matrix:`, the slug of the member to load (`3--1.0e-5`). */
  member?: string;
  /**
   * An ad-hoc sweep (`arr build` with a field set more than once): this combination's slug. The
   * experiment is named `<name>--<slug>` and its freeze.name gets the same suffix, as a matrix member's.
   */
  sweepSlug?: string;
  /** Reads a YAML file; pass a memoising one when loading many manifests that share bases. */
  read?: typeof readYamlFile;
}

export interface LoadedExperiment {
  ok: boolean;
  name: string;
  file: string;
  /** The manifest, then every file it extends. */
  chain: string[];
  /** Present when ok: the manifest after extends, env references, CLI overrides and defaults. */
  experiment?: Experiment;
  origins: Origins;
  envRefs: EnvReference[];
  /** Errors when not ok; warnings either way. */
  diagnostics: Diagnostic[];
  /** The matrix combination this experiment is, when its manifest has `matrix:`. */
  member?: MatrixMember;
}

export const experimentName = (file: string): string => basename(file).replace(/\.ya?ml$/i, '');

/** `exp-flux` → `<workspace>/experiments/exp-flux.yaml`; anything path-like is taken as a path. */
export function resolveExperimentFile(ref: string, workspaceRoot: string, cwd = process.cwd()): string {
  const looksLikePath = ref.includes('/') || ref.includes('\\') || /\.ya?ml$/i.test(ref);
  if (looksLikePath) {
    const file = isAbsolute(ref) ? ref : resolve(cwd, ref);
    if (!existsSync(file)) throw new Error(`manifest not found: ${file}`);
    return file;
  }
  for (const ext of ['.yaml', '.yml']) {
    const file = join(workspaceRoot, 'experiments', `${ref}${ext}`);
    if (existsSync(file)) return file;
  }
  const known = listExperimentFiles(workspaceRoot).map(experimentName);
  throw new Error(
    `no experiment named ${ref} (looked for experiments/${ref}.yaml); known experiments: ${known.join(', ') || 'none'}`,
  );
}

/** An experiment reference resolved: its manifest, and the matrix member when it names one. */
export interface ExperimentLocation {
  file: string;
  member?: string;
}

/**
 * Like resolveExperimentFile, and also accepts a matrix member's name (`exp-flux--3--1.0e-5`): the
 * longest `experiments/<prefix>.yaml` before a `--` is its manifest, the rest its slug.
 */
export function locateExperiment(ref: string, workspaceRoot: string, cwd = process.cwd()): ExperimentLocation {
  try {
    return { file: resolveExperimentFile(ref, workspaceRoot, cwd) };
  } catch (error) {
    for (const { manifest, slug } of memberSplits(ref)) {
      for (const ext of ['.yaml', '.yml']) {
        const file = join(workspaceRoot, 'experiments', `${manifest}${ext}`);
        if (existsSync(file)) return { file, member: slug };
      }
    }
    throw error;
  }
}

/** The manifests that are Nx projects: `experiments/*.yaml`, not files in subfolders. */
export function listExperimentFiles(workspaceRoot: string): string[] {
  const dir = join(workspaceRoot, 'experiments');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && /\.ya?ml$/i.test(e.name))
    .map((e) => join(dir, e.name))
    .sort();
}

/** A readYamlFile that parses each file once (its results are treated as read-only by the loader). */
export function memoisedYamlReader(): typeof readYamlFile {
  const seen = new Map<string, ReturnType<typeof readYamlFile>>();
  return (file) => {
    let r = seen.get(file);
    if (!r) seen.set(file, (r = readYamlFile(file)));
    return r;
  };
}

/** One experiment the workspace holds: a manifest, or one member of a manifest's matrix. */
export interface ListedExperiment {
  name: string;
  file: string;
  member?: string;
}

/**
 * Every experiment in the workspace, matrices expanded into their members (a matrix with problems is
 * listed under its manifest's name, so loading it reports them).
 */
export function listExperiments(workspaceRoot: string, read?: typeof readYamlFile): ListedExperiment[] {
  return listExperimentFiles(workspaceRoot).flatMap((file) => experimentsIn(file, read));
}

/** The experiments one manifest stands for: itself, or each member of its matrix. */
export function experimentsIn(file: string, read?: typeof readYamlFile): ListedExperiment[] {
  const name = experimentName(file);
  const merged = loadMerged(file, read);
  const matrix = merged.diagnostics.length
    ? undefined
    : expandMatrix(merged.value, merged.origins, resolve(file), name);
  if (!matrix || matrix.diagnostics.length) return [{ name, file }];
  return matrix.members.map((m) => ({ name: m.name, file, member: m.slug }));
}

function semanticChecks(value: Record<string, any>, origins: Origins, file: string): Diagnostic[] {
  const at = (field: string, message: string, severity?: 'warning'): Diagnostic =>
    fieldDiagnostic(origins, field, file, message, severity);
  const out: Diagnostic[] = [];
  const { rubric, task, preprocess } = value;
  if (rubric.seed === null && rubric.from === null) {
    out.push(
      at(
        'rubric',
        'set rubric.seed (labelled pairs to generate a rubric from) or rubric.from (a frozen rubric to reuse)',
      ),
    );
  }
  if (rubric.seed !== null && rubric.from !== null) {
    out.push(
      at(
        'rubric.from',
        'set only one of rubric.seed and rubric.from: a frozen rubric is reused as is, nothing is generated from seeds',
      ),
    );
  }
  if (rubric.min_score >= rubric.max_score)
    out.push(at('rubric.max_score', `must be greater than rubric.min_score (${rubric.min_score})`));
  if (task === 't2i' && preprocess.edits !== null)
    out.push(at('preprocess.edits', 'is for task edit; a t2i experiment reads preprocess.prompts', 'warning'));
  if (task === 'edit' && preprocess.prompts !== null)
    out.push(at('preprocess.prompts', 'is for task t2i; an edit experiment reads preprocess.edits', 'warning'));
  return out;
}

/**
 * Loads an experiment the way a task sees it: extends merged, env references resolved, CLI overrides
 * applied, defaults filled, validated, paths resolved and checked against the allowed roots.
 */
export function loadExperiment(file: string, options: LoadOptions): LoadedExperiment {
  const env = options.env ?? process.env;
  const name = experimentName(file);
  const merged = loadMerged(file, options.read ?? ((path) => readYamlFile(path, env)), {
    workspaceRoot: options.workspaceRoot,
  });
  const base = { name, file: resolve(file), chain: merged.chain, origins: merged.origins };
  let envRefs = findEnvReferences(merged.value);
  if (merged.diagnostics.length) return { ...base, ok: false, envRefs, diagnostics: merged.diagnostics };

  const matrix = expandMatrix(merged.value, merged.origins, base.file, name);
  let member: MatrixMember | undefined;
  if (matrix) {
    const problems = [...matrix.diagnostics];
    member = matrix.members.find((m) => m.slug === options.member);
    if (!problems.length && !member) {
      const names = matrix.members.map((m) => m.name);
      const shown = names.length > 6 ? `${names.slice(0, 6).join(', ')}, … (${names.length} in all)` : names.join(', ');
      const what =
        options.member === undefined
          ? `is a matrix of ${names.length} experiment(s); name one of them`
          : `has no member ${name}--${options.member}; its members are`;
      problems.push(fieldDiagnostic(merged.origins, 'matrix', base.file, `${what}: ${shown}`));
    }
    if (problems.length) return { ...base, ok: false, envRefs, diagnostics: problems };
    applyMember(merged.value, merged.origins, member!);
    base.name = member!.name;
    envRefs = findEnvReferences(merged.value);
  } else if (options.member !== undefined) {
    return {
      ...base,
      ok: false,
      envRefs,
      diagnostics: [{ file: base.file, message: `has no matrix:, so it has no member ${name}--${options.member}` }],
    };
  }
  const suffix =
    options.sweepSlug === undefined
      ? member?.slug
      : member
        ? `${member.slug}--${options.sweepSlug}`
        : options.sweepSlug;
  if (options.sweepSlug !== undefined) base.name = `${base.name}--${options.sweepSlug}`;
  const diagnostics: Diagnostic[] = checkSecrets(merged.value, merged.origins, base.file, fieldsMarked('x-arr-secret'));
  const resolved = resolveEnv(merged.value, merged.origins, env, base.file);
  diagnostics.push(...resolved.diagnostics);
  const value = resolved.value;
  diagnostics.push(...checkUrlSecrets(value, merged.origins, base.file));
  for (const [field, v] of Object.entries(options.overrides ?? {})) {
    const unsafe = field.split('.').find((k) => FORBIDDEN_KEYS.has(k));
    if (unsafe !== undefined) {
      diagnostics.push({ file: base.file, field, message: `--set ${field}: ${forbiddenKeyMessage(unsafe)}` });
      continue;
    }
    setField(value, field, v);
    merged.origins.set(field, { kind: 'cli' });
  }
  applyDefaults(value, merged.origins);
  // A field whose env reference failed already has its error; its placeholder value needs no second one.
  const envFailed = new Set(resolved.diagnostics.map((d) => d.field));
  const schemaProblems = validateExperiment(value, merged.origins, base.file).filter((d) => !envFailed.has(d.field));
  diagnostics.push(...schemaProblems);
  if (schemaProblems.length === 0) {
    const v = value as Record<string, any>;
    if (v.freeze.name === null) {
      v.freeze.name = base.name.toLowerCase();
      merged.origins.set('freeze.name', { kind: 'derived', note: 'the experiment name' });
    } else if (
      suffix !== undefined &&
      !member?.values.some(([field]) => field === 'freeze.name') &&
      !(options.overrides && 'freeze.name' in options.overrides)
    ) {
      // Members of one sweep never overwrite each other's frozen rubric.
      v.freeze.name = `${v.freeze.name}--${suffix}`;
      merged.origins.set('freeze.name', { kind: 'derived', note: `freeze.name and the sweep member ${suffix}` });
    }
    diagnostics.push(...semanticChecks(v, merged.origins, base.file));
    diagnostics.push(...resolvePaths(v, merged.origins, options.workspaceRoot, base.file));
  }
  const ok = !diagnostics.some(isError);
  return { ...base, ok, envRefs, diagnostics, member, experiment: ok ? (value as unknown as Experiment) : undefined };
}
