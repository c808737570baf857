import type { Experiment } from '../types/experiment.js';
import { PROMPT_TEMPLATE_VERSION } from '../rubric/prompt-version.js';

/** The cached targets, in build order. `train-*` is never cached and has no key. */
export const CACHED_TARGETS = ['resolve', 'preprocess', 'rubric-generate', 'verify', 'freeze'] as const;
export type CachedTarget = (typeof CACHED_TARGETS)[number];

/** A path field whose file contents (not its path) go into a key. */
export interface FileInput {
  field: string;
  /** Also hash every local image the dataset names. */
  images?: boolean;
  /** The field names a folder: hash every file in it. */
  tree?: boolean;
}

/**
 * What shapes one target's artifact: the invalidation contract of DESIGN.md §2. Field entries are
 * dotted prefixes (`rubric` covers `rubric.per_pair`); `exclude` removes prefixes again. Path fields
 * never enter a key as text except in `resolve`: their contents do, through `files`.
 */
export interface KeySpec {
  fields: string[];
  exclude?: string[];
  files: FileInput[];
  upstream?: CachedTarget;
  constants?: Record<string, string>;
}

const JUDGE_SHAPE = ['judge.model', 'judge.temperature', 'judge.max_tokens', 'judge.image_max_side'];
/** Never in any key: where the judge runs and how hard we push it, and pass/fail thresholds. */
export const NEVER_IN_KEYS = ['judge.api_key', 'judge.base_url', 'judge.backend', 'judge.local.gpu_layers', 'judge.local.threads', 'judge.local.parallel', 'judge.local.context', 'judge.concurrency', 'judge.timeout_s', 'judge.retries', 'verify.min_accuracy', 'verify.min_agreement', 'verify.min_gain'];

export function keySpec(target: CachedTarget, experiment: Experiment): KeySpec {
  switch (target) {
    case 'resolve':
      // The lock of the whole manifest; api_key is kept as the reference the user wrote, never its value.
      return {
        fields: [''],
        exclude: ['judge.api_key'],
        files: [
          { field: 'rubric.seed', images: true },
          { field: 'rubric.from' },
          { field: 'verify.test', images: true },
          { field: 'preprocess.prompts' },
          { field: 'preprocess.edits', images: true },
          { field: 'train.embeddings' },
        ],
      };
    case 'preprocess':
      return {
        fields: ['task', 'preprocess'],
        files: [{ field: 'preprocess.prompts' }, { field: 'preprocess.edits', images: true }, { field: 'preprocess.models', tree: true }],
      };
    case 'rubric-generate':
      if (experiment.rubric.from !== null) {
        // A frozen rubric is reused as is: its text is the whole input.
        return { fields: ['task'], files: [{ field: 'rubric.from' }], constants: { source: 'frozen' } };
      }
      // An ONNX selection embedder makes the preprocess encoders part of what shapes the rubric.
      return {
        fields: ['task', ...JUDGE_SHAPE, 'rubric', ...(experiment.rubric.select.embedder === 'onnx' ? ['preprocess.encoders'] : [])],
        exclude: ['rubric.from'],
        files: [{ field: 'rubric.seed', images: true }, ...(experiment.rubric.select.embedder === 'onnx' ? [{ field: 'preprocess.models', tree: true }] : [])],
        constants: { prompts: PROMPT_TEMPLATE_VERSION },
      };
    case 'verify':
      return {
        fields: ['task', 'rubric.mode', 'rubric.language', 'rubric.task_description', 'rubric.min_score', 'rubric.max_score', ...JUDGE_SHAPE, 'verify.both_orders', 'verify.baseline'],
        files: [{ field: 'verify.test', images: true }],
        upstream: 'rubric-generate',
        constants: { prompts: PROMPT_TEMPLATE_VERSION },
      };
    case 'freeze':
      return { fields: ['freeze.name', 'freeze.version'], files: [], upstream: 'verify' };
  }
}
