// The one list of targets. The plan Nx sees (graph/project-plan.ts), the keys (keys/slices.ts), the
// CLI (`arr build`) and the single Nx executor all derive from it, so adding a target means adding an
// entry here and writing its engine module. This file is pure data and sits low in the layer stack
// (docs/architecture.md): keys and graph import it; engine entries are module names that
// targets/run.ts loads only when the target runs.
import { PROMPT_TEMPLATE_VERSION } from '../keys/prompt-version.js';
import type { Experiment } from '../types/experiment.js';

/** A path field whose file contents (not its path) go into a key. */
export interface FileInput {
  field: string;
  /** Also hash every local image the dataset names. */
  images?: boolean;
  /** The field names a folder: hash every file in it. */
  tree?: boolean;
}

/**
 * What shapes one target's artifact: the invalidation contract (docs/caching.md). Field entries are
 * dotted prefixes (`rubric` covers `rubric.per_pair`); `exclude` removes prefixes again. Path fields
 * never enter a key as text except in `resolve`: their contents do, through `files`.
 */
export interface KeySpec {
  fields: string[];
  exclude?: string[];
  files: FileInput[];
  /** The cached target whose key this one's includes (its artifact is an input). */
  upstream?: string;
  constants?: Record<string, string>;
}

/**
 * The few experiment fields that decide a key spec's shape. A resolved `Experiment` has them; the Nx plan
 * builds them from the raw manifest, before the experiment is resolved.
 */
export interface KeySpecFields {
  rubric: {
    from: Experiment['rubric']['from'];
    select: Pick<Experiment['rubric']['select'], 'embedder'>;
  };
}

/** Where a target's engine code lives: `src/targets/<module>.ts`, function `<export>(ref, options)`. */
export interface EngineEntry {
  module: string;
  export: string;
}

interface TargetBase {
  /** One sentence; Nx shows it in `nx show project` and `arr build --help` lists it. */
  description: string;
  /** Targets that must have run first, in this project. */
  dependsOn: readonly string[];
}

export interface CachedTargetDefinition extends TargetBase {
  cached: true;
  entry: EngineEntry;
  /** What the target's artifact key reads from the resolved experiment. */
  key: (experiment: KeySpecFields) => KeySpec;
  /**
   * `false` when Nx must not replay the target from its task cache: its artifact is too large to travel
   * in Nx's outputs, so a replay could restore a pointer to an artifact that is gone. The target then
   * always runs, and with its artifact present does no work.
   */
  nxCache?: boolean;
}

export interface LaunchTargetDefinition extends TargetBase {
  /** Never cached: every launch is a new run. */
  cached: false;
  /** Absent for a target that only groups others (`train`). */
  entry?: EngineEntry;
  /** Only experiments of this task get the target. */
  task?: 't2i' | 'edit';
  /** A dependency dropped when the manifest sets this field (the user brings that input). */
  unlessSet?: Record<string, string>;
}

export type TargetDefinition = CachedTargetDefinition | LaunchTargetDefinition;

const JUDGE_SHAPE = ['judge.model', 'judge.temperature', 'judge.max_tokens', 'judge.image_max_side'];

const TARGETS = {
  resolve: {
    description:
      'Validate the manifest and everything it names; write the resolved manifest and input hashes (the lock).',
    dependsOn: [],
    cached: true,
    entry: { module: 'resolve', export: 'runResolveTarget' },
    // The lock of the whole manifest; api_key is kept as the reference the user wrote, never its value.
    key: (): KeySpec => ({
      fields: [''],
      // allow_unlocked only permits reading a rubric; it changes nothing that is built.
      exclude: ['judge.api_key', 'rubric.allow_unlocked'],
      files: [
        { field: 'rubric.seed', images: true },
        { field: 'rubric.from' },
        { field: 'verify.test', images: true },
        { field: 'preprocess.prompts' },
        { field: 'preprocess.edits', images: true },
        { field: 'train.embeddings' },
      ],
    }),
  },
  preprocess: {
    description: 'Encode the training prompt or edit list into embeddings with onnxruntime-node.',
    dependsOn: ['resolve'],
    cached: true,
    entry: { module: 'preprocess', export: 'runPreprocessTarget' },
    nxCache: false,
    key: (): KeySpec => ({
      fields: ['task', 'preprocess'],
      files: [
        { field: 'preprocess.prompts' },
        { field: 'preprocess.edits', images: true },
        { field: 'preprocess.models', tree: true },
      ],
    }),
  },
  'rubric-generate': {
    description: 'Generate, verify and revise rubric text from the labelled seed pairs with the VLM judge.',
    dependsOn: ['resolve'],
    cached: true,
    entry: { module: 'rubric-generate', export: 'runRubricGenerate' },
    key: (experiment): KeySpec => {
      // A frozen rubric is reused as is: its text is the whole input.
      if (experiment.rubric.from !== null)
        return { fields: ['task'], files: [{ field: 'rubric.from' }], constants: { source: 'frozen' } };
      // An ONNX selection embedder makes the preprocess encoders part of what shapes the rubric.
      const onnx = experiment.rubric.select.embedder === 'onnx';
      return {
        fields: ['task', ...JUDGE_SHAPE, 'rubric', ...(onnx ? ['preprocess.encoders'] : [])],
        exclude: ['rubric.from', 'rubric.max_failures', 'rubric.allow_unlocked'],
        files: [{ field: 'rubric.seed', images: true }, ...(onnx ? [{ field: 'preprocess.models', tree: true }] : [])],
        constants: { prompts: PROMPT_TEMPLATE_VERSION },
      };
    },
  },
  verify: {
    description:
      'Judge the held-out test pairs with the rubric (and without, as baseline); report accuracy and agreement.',
    dependsOn: ['rubric-generate'],
    cached: true,
    entry: { module: 'verify', export: 'runVerify' },
    key: (): KeySpec => ({
      fields: [
        'task',
        'rubric.mode',
        'rubric.language',
        'rubric.task_description',
        'rubric.min_score',
        'rubric.max_score',
        ...JUDGE_SHAPE,
        'verify.both_orders',
        'verify.baseline',
      ],
      files: [{ field: 'verify.test', images: true }],
      upstream: 'rubric-generate',
      constants: { prompts: PROMPT_TEMPLATE_VERSION },
    }),
  },
  freeze: {
    description: 'Write the verified rubric to rubrics/<name>.v<N>.txt with its lock file.',
    dependsOn: ['verify'],
    cached: true,
    entry: { module: 'freeze', export: 'runFreeze' },
    key: (): KeySpec => ({ fields: ['freeze.name', 'freeze.version'], files: [], upstream: 'verify' }),
  },
  'train-flux': {
    description: 'Launch ARR-RPO LoRA training of FLUX.1-dev with the reward service. Never cached.',
    dependsOn: ['freeze', 'preprocess'],
    cached: false,
    task: 't2i',
    unlessSet: { preprocess: 'train.embeddings' },
    entry: { module: 'train', export: 'runTrainTarget' },
  },
  'train-edit': {
    description: 'Launch ARR-RPO LoRA training of Qwen-Image-Edit with the reward service. Never cached.',
    dependsOn: ['freeze', 'preprocess'],
    cached: false,
    task: 'edit',
    unlessSet: { preprocess: 'train.embeddings' },
    entry: { module: 'train', export: 'runTrainTarget' },
  },
  train: {
    description: 'Run the training target for this experiment’s task (train-flux or train-edit).',
    // Filled per project with the launch targets of its task (see graph/project-plan.ts).
    dependsOn: [],
    cached: false,
  },
} as const satisfies Record<string, TargetDefinition>;

export type TargetName = keyof typeof TARGETS;
/** The cached targets, in build order. */
export type CachedTarget = { [K in TargetName]: (typeof TARGETS)[K] extends { cached: true } ? K : never }[TargetName];

export const TARGET_REGISTRY: Readonly<Record<TargetName, TargetDefinition>> = TARGETS;
export const TARGET_NAMES = Object.keys(TARGETS) as TargetName[];
export const CACHED_TARGETS = TARGET_NAMES.filter((name) => TARGETS[name].cached) as CachedTarget[];
/** Targets with engine code, which `arr build` and the executor can run. */
export const RUNNABLE_TARGETS = TARGET_NAMES.filter((name) => TARGET_REGISTRY[name].entry !== undefined);

export const isTargetName = (name: string): name is TargetName => Object.hasOwn(TARGETS, name);

/** The key spec of a cached target for this experiment. */
export function keySpec(target: CachedTarget, experiment: KeySpecFields): KeySpec {
  return (TARGETS[target] as CachedTargetDefinition).key(experiment);
}

export { JUDGE_SHAPE };
