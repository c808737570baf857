// What the Nx adapter needs to know about one manifest, computed without running anything: its
// targets, their dependencies, and honest inputs (files, env variables) and outputs. No Nx import.
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { listDatasetImageFiles } from '../data/load-dataset.js';
import { formatDiagnostic } from '../diagnostics.js';
import { CACHED_TARGETS, keySpec, type CachedTarget } from '../keys/slices.js';
import { findEnvReferences } from '../manifest/env.js';
import { isPlainObject, loadMerged } from '../manifest/layers.js';
import { readYamlFile } from '../manifest/yaml-source.js';
import { experimentName } from '../manifest/load.js';
import { isInside, pathFields } from '../manifest/paths.js';
import { fieldsMarked } from '../manifest/schema.js';
import type { Experiment } from '../types/experiment.js';

export type PlannedTarget = CachedTarget | 'train-flux' | 'train-edit' | 'train';

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
}

export interface ProjectPlan {
  name: string;
  task: 't2i' | 'edit' | undefined;
  /** Workspace-relative manifest and extends chain. */
  chain: string[];
  targets: Partial<Record<PlannedTarget, TargetPlan>>;
  /** Problems found while planning; the project still gets targets, which fail with the full errors. */
  problems: string[];
  /** Every file whose content the plan depends on, for the plugin's own cache. */
  dependencies: string[];
}

const DESCRIPTIONS: Record<PlannedTarget, string> = {
  resolve: 'Validate the manifest and everything it names; write the resolved manifest and input hashes (the lock).',
  preprocess: 'Encode the training prompt or edit list into embeddings with onnxruntime-node.',
  'rubric-generate': 'Generate, verify and revise rubric text from the labelled seed pairs with the VLM judge.',
  verify: 'Judge the held-out test pairs with the rubric (and without, as baseline); report accuracy and agreement.',
  freeze: 'Write the verified rubric to rubrics/<name>.v<N>.txt with its lock file.',
  'train-flux': 'Launch ARR-RPO LoRA training of FLUX.1-dev with the reward service. Never cached.',
  'train-edit': 'Launch ARR-RPO LoRA training of Qwen-Image-Edit with the reward service. Never cached.',
  train: 'Run the training target for this experiment’s task (train-flux or train-edit).',
};

const LENIENT_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const toPosix = (p: string) => p.split(sep).join('/');
/** Datasets naming more images than this are declared by folder, to keep the graph small. */
const MAX_LISTED_IMAGES = 200;

/** Reads `value.a.b` from a raw manifest. */
const readRaw = (value: Record<string, unknown>, field: string): unknown =>
  field.split('.').reduce<unknown>((n, k) => (isPlainObject(n) ? n[k] : undefined), value);

/** Work shared by every manifest of one graph computation: bases and datasets are read once. */
export interface PlanMemo {
  yaml: Map<string, ReturnType<typeof readYamlFile>>;
  images: Map<string, string[]>;
}
export const planMemo = (): PlanMemo => ({ yaml: new Map(), images: new Map() });

const JUDGE_BACKEND_ENV = ['ARR_JUDGE_BACKEND', 'ARR_JUDGE_URL'];

export function planProject(manifestFile: string, workspaceRoot: string, env: Record<string, string | undefined> = process.env, memo: PlanMemo = planMemo()): ProjectPlan {
  const file = resolve(manifestFile);
  const name = experimentName(file);
  const readOnce = (path: string) => {
    let result = memo.yaml.get(path);
    if (!result) memo.yaml.set(path, (result = readYamlFile(path)));
    return result;
  };
  const merged = loadMerged(file, readOnce);
  const problems = merged.diagnostics.map((d) => formatDiagnostic(d, workspaceRoot));
  const raw = merged.value;
  const task = raw.task === 't2i' || raw.task === 'edit' ? raw.task : undefined;
  const dependencies = [...merged.chain];
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

  const slice = { rubric: { from: readRaw(raw, 'rubric.from') ?? null, select: { embedder: readRaw(raw, 'rubric.select.embedder') ?? 'lexical' } } } as unknown as Experiment;
  const imagesOf = memo.images;
  const filesFor = (target: CachedTarget): { files: string[]; external: string[]; env: string[] } => {
    const spec = keySpec(target, slice);
    const files = new Set<string>(merged.chain.filter((f) => isInside(f, workspaceRoot)).map(wsRel));
    const external = new Set<string>(merged.chain.filter((f) => !isInside(f, workspaceRoot)));
    const add = (abs: string, glob = '') => (isInside(abs, workspaceRoot) ? files.add(wsRel(abs) + glob) : external.add(abs));
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
      target === 'resolve' ? !secretFields.has(field) : [...spec.fields, ...spec.files.map((f) => f.field)].some((p) => field === p || field.startsWith(`${p}.`) || field.startsWith(`${p}[`));
    // Which backend judges, and with which model files, decides the model identity in the key: the
    // variables that choose the backend and any that judge.local reads are inputs of the judging targets.
    const judging = target === 'resolve' || target === 'rubric-generate' || target === 'verify';
    const judgeEnv = judging ? [...JUDGE_BACKEND_ENV, ...refs.filter((r) => r.field.startsWith('judge.local.')).map((r) => r.name)] : [];
    const envVars = [...new Set([...refs.filter((r) => covered(r.field)).map((r) => r.name), ...judgeEnv])].sort();
    return { files: [...files].sort(), external: [...external].sort(), env: envVars };
  };

  const targets: ProjectPlan['targets'] = {};
  const out = (target: string) => `cache/experiments/${name}/${target}`;
  const upstream: Record<CachedTarget, PlannedTarget[]> = {
    resolve: [],
    preprocess: ['resolve'],
    'rubric-generate': ['resolve'],
    verify: ['rubric-generate'],
    freeze: ['verify'],
  };
  for (const target of CACHED_TARGETS) {
    targets[target] = {
      description: DESCRIPTIONS[target],
      dependsOn: upstream[target],
      ...filesFor(target),
      upstreamOutputs: upstream[target].length > 0,
      outputs: [out(target)],
      cache: true,
    };
  }
  const freezeName = typeof readRaw(raw, 'freeze.name') === 'string' ? String(readRaw(raw, 'freeze.name')) : name.toLowerCase();
  const version = readRaw(raw, 'freeze.version') ?? 1;
  targets.freeze!.outputs.push(`rubrics/${freezeName}.v${version}.txt`, `rubrics/${freezeName}.v${version}.lock.json`);

  const trainTargets: PlannedTarget[] = task === 't2i' ? ['train-flux'] : task === 'edit' ? ['train-edit'] : [];
  const needsEmbeddings = readRaw(raw, 'train.embeddings') === undefined || readRaw(raw, 'train.embeddings') === null;
  const chainFiles = merged.chain.filter((f) => isInside(f, workspaceRoot)).map(wsRel);
  const launch = (target: PlannedTarget, dependsOn: PlannedTarget[]): TargetPlan => ({
    description: DESCRIPTIONS[target],
    dependsOn,
    files: chainFiles,
    external: [],
    env: [],
    upstreamOutputs: false,
    outputs: [],
    cache: false,
  });
  for (const t of trainTargets) targets[t] = launch(t, needsEmbeddings ? ['freeze', 'preprocess'] : ['freeze']);
  // A broken manifest has no task: `train` then depends on resolve, which fails with its errors.
  targets.train = launch('train', trainTargets.length ? trainTargets : ['resolve']);
  if (!task && problems.length === 0) problems.push(`${wsRel(file)}: task must be t2i or edit`);
  return { name, task, chain: merged.chain.map(wsRel), targets, problems, dependencies: [...new Set(dependencies)] };
}
