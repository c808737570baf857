import { existsSync, readdirSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { isError, type Diagnostic } from '../diagnostics.js';
import type { Experiment } from '../types/experiment.js';
import { findEnvReferences, resolveEnv, type Env, type EnvReference } from './env.js';
import { fieldDiagnostic, loadMerged, isPlainObject, type Origins } from './layers.js';
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
  throw new Error(`no experiment named ${ref} (looked for experiments/${ref}.yaml); known experiments: ${known.join(', ') || 'none'}`);
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

function setAt(value: Record<string, unknown>, field: string, v: unknown): void {
  const keys = field.split('.');
  let node = value;
  for (const key of keys.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = v;
}

function semanticChecks(value: Record<string, any>, origins: Origins, file: string): Diagnostic[] {
  const at = (field: string, message: string, severity?: 'warning'): Diagnostic => fieldDiagnostic(origins, field, file, message, severity);
  const out: Diagnostic[] = [];
  const { rubric, task, preprocess } = value;
  if (rubric.seed === null && rubric.from === null) {
    out.push(at('rubric', 'set rubric.seed (labelled pairs to generate a rubric from) or rubric.from (a frozen rubric to reuse)'));
  }
  if (rubric.seed !== null && rubric.from !== null) {
    out.push(at('rubric.from', 'set only one of rubric.seed and rubric.from: a frozen rubric is reused as is, nothing is generated from seeds'));
  }
  if (rubric.min_score >= rubric.max_score) out.push(at('rubric.max_score', `must be greater than rubric.min_score (${rubric.min_score})`));
  if (task === 't2i' && preprocess.edits !== null) out.push(at('preprocess.edits', 'is for task edit; a t2i experiment reads preprocess.prompts', 'warning'));
  if (task === 'edit' && preprocess.prompts !== null) out.push(at('preprocess.prompts', 'is for task t2i; an edit experiment reads preprocess.edits', 'warning'));
  return out;
}

/**
 * Loads an experiment the way a task sees it: extends merged, env references resolved, CLI overrides
 * applied, defaults filled, validated, paths resolved and checked against the allowed roots.
 */
export function loadExperiment(file: string, options: LoadOptions): LoadedExperiment {
  const env = options.env ?? process.env;
  const name = experimentName(file);
  const merged = loadMerged(file, (path) => readYamlFile(path, env), { workspaceRoot: options.workspaceRoot });
  const base = { name, file: resolve(file), chain: merged.chain, origins: merged.origins };
  const envRefs = findEnvReferences(merged.value);
  if (merged.diagnostics.length) return { ...base, ok: false, envRefs, diagnostics: merged.diagnostics };

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
    setAt(value, field, v);
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
      v.freeze.name = name.toLowerCase();
      merged.origins.set('freeze.name', { kind: 'derived', note: 'the experiment name' });
    }
    diagnostics.push(...semanticChecks(v, merged.origins, base.file));
    diagnostics.push(...resolvePaths(v, merged.origins, options.workspaceRoot, base.file));
  }
  const ok = !diagnostics.some(isError);
  return { ...base, ok, envRefs, diagnostics, experiment: ok ? (value as unknown as Experiment) : undefined };
}
