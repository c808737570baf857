// What the Nx adapter needs to know about one manifest, computed without running anything: its
// targets, their dependencies, and honest inputs (files, env variables) and outputs. No Nx import.
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { listDatasetImageFiles } from '../data/load-dataset.js';
import { formatDiagnostic } from '../diagnostics.js';
import { CACHED_TARGETS, keySpec, type CachedTarget } from '../keys/slices.js';
import {
  TARGET_NAMES,
  TARGET_REGISTRY,
  type CachedTargetDefinition,
  type KeySpecFields,
  type LaunchTargetDefinition,
  type TargetName,
} from '../targets/registry.js';
import { findEnvReferences } from '../manifest/env.js';
import { isPlainObject, loadMerged, type MergedManifest } from '../manifest/layers.js';
import { applyMember, expandMatrix, type MatrixMember } from '../manifest/matrix.js';
import { readYamlFile } from '../manifest/yaml-source.js';
import { experimentName } from '../manifest/load.js';
import { isInside, pathFields } from '../manifest/paths.js';
import { fieldsMarked } from '../manifest/schema.js';

export type PlannedTarget = TargetName;

export interface TargetPlan {
  description: string;
  dependsOn: PlannedTarget[];
  /** Workspace-relative files and globs the target reads. */
  files: string[];
  /** Absolute files outside the workspace the target reads (Nx cannot hash them itself). */
  external: string[];
  env: string[];
  /** Whether the outputs of the tasks it depends on are part of its hash. */
  upstreamOutputs: boolean;
  /** Workspace-relative output paths. */
  outputs: string[];
  cache: boolean;
  /** Whether the target has engine code to run (a grouping target such as `train` has none). */
  runnable: boolean;
}

export interface ProjectPlan {
  name: string;
  task: 't2i' | 'edit' | undefined;
  /** Workspace-relative manifest and extends chain. */
  chain: string[];
  /** Workspace-relative files the merge tried to read, including ones that failed to parse or did not exist. */
  tried: string[];
  targets: Partial<Record<PlannedTarget, TargetPlan>>;
  /** Problems found while planning; the project still gets targets, which fail with the full errors. */
  problems: string[];
  /** Every file whose content the plan depends on, for the plugin's own cache. */
  dependencies: string[];
  /** For a manifest with a valid `matrix:`, one plan per member (each a project); this plan is then no project itself. */
  members?: ProjectPlan[];
}

/** The Nx plugin's plan cache file name, inside Nx's workspace data folder (`.nx/workspace-data/`). */
export const PLAN_CACHE_FILE = 'arr-plans.json';

/**
 * Where the plan cache lives by default: Nx's workspace data folder, which `nx reset` removes.
 * Follows Nx's own rule (NX_WORKSPACE_DATA_DIRECTORY, else `<root>/.nx/workspace-data`).
 */
export function planCacheFile(workspaceRoot: string, env: Record<string, string | undefined> = process.env): string {
  const configured = env.NX_WORKSPACE_DATA_DIRECTORY ?? env.NX_PROJECT_GRAPH_CACHE_DIRECTORY;
  const dir =
    configured === undefined
      ? join(workspaceRoot, '.nx', 'workspace-data')
      : isAbsolute(configured)
        ? configured
        : join(workspaceRoot, configured);
  return join(dir, PLAN_CACHE_FILE);
}

/**
 * Environment variables the engine reads without the manifest naming them, and the targets whose result
 * they change: each is an Nx `env` input of those targets, so Nx never replays a result built under
 * another value. (Variables a manifest refers to with `${VAR}` are found in the manifest itself.)
 */
export const IMPLICIT_ENV: Record<string, readonly CachedTarget[]> = {
  // Both choose the backend (auto is http when ARR_JUDGE_URL is set), so both shape the judging keys.
  ARR_JUDGE_URL: ['resolve', 'rubric-generate', 'verify'],
  ARR_JUDGE_BACKEND: ['resolve', 'rubric-generate', 'verify'],
};

const LENIENT_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const toPosix = (p: string) => p.split(sep).join('/');
/** Datasets naming more images than this are declared by folder, to keep the graph small. */
const MAX_LISTED_IMAGES = 200;

/** Reads `value.a.b` from a raw manifest. */
const readRaw = (value: Record<string, unknown>, field: string): unknown =>
  field.split('.').reduce<unknown>((n, k) => (isPlainObject(n) ? n[k] : undefined), value);

const EMBEDDERS = ['lexical', 'endpoint', 'onnx'] as const;

/**
 * What the key specs read, taken from the raw manifest as the resolver would default it. A `rubric.from`
 * of any form marks the rubric frozen (the manifest check reports a malformed one); an unknown embedder
 * counts as the default, which is what the key cares about (ONNX or not).
 */
function keySpecFields(raw: Record<string, unknown>): KeySpecFields {
  const from = readRaw(raw, 'rubric.from');
  const embedder = EMBEDDERS.find((e) => e === readRaw(raw, 'rubric.select.embedder')) ?? 'lexical';
  return { rubric: { from: from === undefined || from === null ? null : String(from), select: { embedder } } };
}

/** Work shared by every manifest of one graph computation: bases and datasets are read once. */
export interface PlanMemo {
  yaml: Map<string, ReturnType<typeof readYamlFile>>;
  images: Map<string, string[]>;
}
export const planMemo = (): PlanMemo => ({ yaml: new Map(), images: new Map() });

export function planProject(
  manifestFile: string,
  workspaceRoot: string,
  env: Record<string, string | undefined> = process.env,
  memo: PlanMemo = planMemo(),
): ProjectPlan {
  const file = resolve(manifestFile);
  const name = experimentName(file);
  const readOnce = (path: string) => {
    let result = memo.yaml.get(path);
    if (!result) memo.yaml.set(path, (result = readYamlFile(path, env)));
    return result;
  };
  const merged = loadMerged(file, readOnce, { workspaceRoot });
  const matrix = merged.diagnostics.length ? undefined : expandMatrix(merged.value, merged.origins, file, name);
  if (!matrix) return planMerged(name, file, merged, workspaceRoot, env, memo);
  if (matrix.diagnostics.length) {
    // One project under the manifest's name, whose targets fail with the located errors.
    const plan = planMerged(
      name,
      file,
      { ...merged, value: { ...merged.value, matrix: undefined } },
      workspaceRoot,
      env,
      memo,
    );
    plan.problems.unshift(...matrix.diagnostics.map((d) => formatDiagnostic(d, workspaceRoot)));
    return plan;
  }
  const members = matrix.members.map((member) => {
    const value = structuredClone(merged.value);
    const origins = new Map(merged.origins);
    applyMember(value, origins, member);
    return planMerged(member.name, file, { ...merged, value, origins }, workspaceRoot, env, memo, member);
  });
  const first = members[0];
  return { ...first, name, targets: {}, members, dependencies: [...new Set(members.flatMap((m) => m.dependencies))] };
}

function planMerged(
  name: string,
  file: string,
  merged: MergedManifest,
  workspaceRoot: string,
  env: Record<string, string | undefined>,
  memo: PlanMemo,
  member?: MatrixMember,
): ProjectPlan {
  const problems = merged.diagnostics.map((d) => formatDiagnostic(d, workspaceRoot));
  const raw = merged.value;
  const task = raw.task === 't2i' || raw.task === 'edit' ? raw.task : undefined;
  // Every file tried, read or not: a manifest that failed to parse, or a base that did not exist yet,
  // must still invalidate the plan (and the targets' hashes) when it is fixed or created.
  const dependencies = [...merged.tried];
  const wsRel = (abs: string) => toPosix(relative(workspaceRoot, abs));

  // Resolve path fields as the engine will, substituting env references with today's values (the
  // variables are inputs too, so a change still invalidates).
  const refs = findEnvReferences(raw);
  const secretFields = new Set(fieldsMarked('x-arr-secret'));
  const paths = new Map<string, string>();
  for (const [field, text] of pathFields(raw)) {
    const substituted = text.replace(LENIENT_REF, (_m, v: string, d?: string) => env[v] || d || '');
    const declaredIn = merged.origins.get(field)?.file ?? file;
    paths.set(field, isAbsolute(substituted) ? substituted : resolve(dirname(declaredIn), substituted));
  }

  const slice = keySpecFields(raw);
  const imagesOf = memo.images;
  const filesFor = (target: CachedTarget): { files: string[]; external: string[]; env: string[] } => {
    const spec = keySpec(target, slice);
    const files = new Set<string>(merged.tried.filter((f) => isInside(f, workspaceRoot)).map(wsRel));
    const external = new Set<string>(merged.tried.filter((f) => !isInside(f, workspaceRoot)));
    const add = (abs: string, glob = '') =>
      isInside(abs, workspaceRoot) ? files.add(wsRel(abs) + glob) : external.add(abs);
    for (const input of spec.files) {
      const abs = paths.get(input.field);
      if (!abs) continue;
      if (input.tree) {
        add(abs, '/**/*');
        continue;
      }
      add(abs);
      if (!input.images || !task) continue;
      // The plan depends on the dataset's contents (which images it names), memoised or not.
      dependencies.push(abs);
      const memoKey = `${task}:${abs}`;
      let images = imagesOf.get(memoKey);
      if (!images) {
        images = listDatasetImageFiles(abs, task); // never throws: the target reports unreadable datasets
        imagesOf.set(memoKey, images);
      }
      if (images.length > MAX_LISTED_IMAGES) for (const dir of new Set(images.map((i) => dirname(i)))) add(dir, '/*');
      else images.forEach((i) => add(i));
    }
    const covered = (field: string) =>
      target === 'resolve'
        ? !secretFields.has(field)
        : [...spec.fields, ...spec.files.map((f) => f.field)].some(
            (p) => field === p || field.startsWith(`${p}.`) || field.startsWith(`${p}[`),
          );
    // Variables the engine reads without the manifest naming them (IMPLICIT_ENV), and any judge.local
    // reads: which backend judges, with which model files, decides the model identity in the key.
    const implicit = Object.keys(IMPLICIT_ENV).filter((name) => IMPLICIT_ENV[name].includes(target));
    const judging = target === 'resolve' || target === 'rubric-generate' || target === 'verify';
    const localEnv = judging ? refs.filter((r) => r.field.startsWith('judge.local.')).map((r) => r.name) : [];
    const envVars = [
      ...new Set([...refs.filter((r) => covered(r.field)).map((r) => r.name), ...implicit, ...localEnv]),
    ].sort();
    return { files: [...files].sort(), external: [...external].sort(), env: envVars };
  };

  const targets: ProjectPlan['targets'] = {};
  const out = (target: string) => `cache/experiments/${name}/${target}`;
  for (const target of CACHED_TARGETS) {
    const { description, dependsOn } = TARGET_REGISTRY[target];
    targets[target] = {
      description,
      dependsOn: [...dependsOn] as PlannedTarget[],
      ...filesFor(target),
      upstreamOutputs: dependsOn.length > 0,
      outputs: [out(target)],
      cache: (TARGET_REGISTRY[target] as CachedTargetDefinition).nxCache !== false,
      runnable: true,
    };
  }
  const setName = readRaw(raw, 'freeze.name');
  const sweptName = member?.values.some(([field]) => field === 'freeze.name');
  const freezeName =
    typeof setName === 'string' ? (member && !sweptName ? `${setName}--${member.slug}` : setName) : name.toLowerCase();
  const version = readRaw(raw, 'freeze.version') ?? 1;
  targets.freeze!.outputs.push(`rubrics/${freezeName}.v${version}.txt`, `rubrics/${freezeName}.v${version}.lock.json`);

  const chainFiles = merged.tried.filter((f) => isInside(f, workspaceRoot)).map(wsRel);
  const launch = (target: PlannedTarget, dependsOn: PlannedTarget[]): TargetPlan => ({
    description: TARGET_REGISTRY[target].description,
    dependsOn,
    files: chainFiles,
    external: [],
    env: [],
    upstreamOutputs: false,
    outputs: [],
    cache: false,
    runnable: TARGET_REGISTRY[target].entry !== undefined,
  });
  // Launch targets of this experiment's task, minus dependencies whose input the manifest brings itself.
  const isSet = (field: string) => readRaw(raw, field) !== undefined && readRaw(raw, field) !== null;
  const trainTargets: PlannedTarget[] = [];
  for (const target of TARGET_NAMES) {
    const def = TARGET_REGISTRY[target];
    if (def.cached || !def.entry || def.task !== task) continue;
    const skipped = (def as LaunchTargetDefinition).unlessSet ?? {};
    targets[target] = launch(
      target,
      def.dependsOn.filter((d) => !(d in skipped && isSet(skipped[d]!))) as PlannedTarget[],
    );
    trainTargets.push(target);
  }
  // A broken manifest has no task: `train` then depends on resolve, which fails with its errors.
  targets.train = launch('train', trainTargets.length ? trainTargets : ['resolve']);
  if (!task && problems.length === 0) problems.push(`${wsRel(file)}: task must be t2i or edit`);
  return {
    name,
    task,
    chain: merged.chain.map(wsRel),
    tried: merged.tried.map(wsRel),
    targets,
    problems,
    dependencies: [...new Set(dependencies)],
  };
}
