// Checks before a training launch: each failure says what to fix, so no GPU hour is spent on a run that
// the reference trainer would reject (or silently break) minutes in.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import type { Env } from '../manifest/env.js';
import { readLockedRubric, RubricLockError } from '../rubric/locked.js';
import { verifyEmbeddingEntries } from './embeddings-check.js';
import { flagValue, NUM_GENERATIONS, type TrainPlan } from './plan.js';

export interface TrainCheck {
  /** Short id: `trainer`, `base-model`, `embeddings`, `rubric`, `gpus`, `num-generations`, `grad-accum`, `rpo-flags`. */
  name: string;
  ok: boolean;
  /** `warning` never blocks a launch. */
  severity: 'error' | 'warning';
  message: string;
}

export interface CheckOptions {
  /** Skip the GPU count check (`--allow-no-gpu`, or ARR_ALLOW_NO_GPU=1 in env). */
  allowNoGpu?: boolean;
  env?: Env;
  /** Counts visible GPUs; default runs `nvidia-smi -L`. Returns null when nvidia-smi cannot run. */
  countGpus?: () => number | null;
  /** The python3 that loads embeddings with torch (tests): a path, or null for the structural check; default found on PATH. */
  python?: string | null;
}

/** Visible GPUs by `nvidia-smi -L` (one `GPU n: …` line each); null when nvidia-smi is missing or fails. */
export function countGpusWithNvidiaSmi(): number | null {
  try {
    const out = execFileSync('nvidia-smi', ['-L'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 20_000,
    });
    return out.split('\n').filter((l) => /^GPU \d+/.test(l.trim())).length;
  } catch {
    return null;
  }
}

const isFile = (p: string) => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

/**
 * The embeddings' metadata.json: present, a JSON array, every file every entry names opened, and one
 * file of each kind loaded as the trainer's loader does (embeddings-check.ts).
 */
export function checkEmbeddings(plan: TrainPlan, env: Env = process.env, python?: string | null): TrainCheck {
  const fail = (message: string): TrainCheck => ({ name: 'embeddings', ok: false, severity: 'error', message });
  const rel = (p: string) => relative(plan.workspaceRoot, p) || p;
  const rebuild = `npx nx run ${plan.experiment}:preprocess`;
  const build = `build it with: ${rebuild}`;
  const src = plan.embeddings;
  if (!src.metadata) {
    return fail(
      `no embeddings: set train.embeddings to a metadata.json, or ${build} (its pointer ${rel(src.pointer!)} is missing or unreadable)`,
    );
  }
  const where = src.from === 'train.embeddings' ? 'train.embeddings' : `the preprocess artifact`;
  if (!isFile(src.metadata)) {
    return fail(
      `${where} names ${rel(src.metadata)}, which does not exist; ${src.from === 'preprocess' ? build : 'fix train.embeddings or remove it to use the preprocess target'}`,
    );
  }
  let entries: unknown;
  try {
    entries = JSON.parse(readFileSync(src.metadata, 'utf8'));
  } catch (error) {
    return fail(`${rel(src.metadata)} is not valid JSON (${(error as Error).message}); regenerate it (${build})`);
  }
  if (!Array.isArray(entries))
    return fail(
      `${rel(src.metadata)} must be a JSON array of embedding entries (the reference's data_json_path format)`,
    );
  if (entries.length === 0) {
    return {
      name: 'embeddings',
      ok: true,
      severity: 'warning',
      message: `${rel(src.metadata)} is an empty array: the trainer has no prompts to train on`,
    };
  }
  const verdict = verifyEmbeddingEntries(src.metadata, entries, {
    task: plan.task,
    referenceTrainer: !plan.custom,
    workspaceRoot: plan.workspaceRoot,
    rebuild,
    env,
    python,
  });
  return { name: 'embeddings', ok: verdict.ok, severity: 'error', message: verdict.message };
}

/** The rubric the run rewards with: present and matching its lock (or unlocked by explicit opt-in). */
export function checkRubric(plan: TrainPlan): TrainCheck {
  const rel = (p: string) => relative(plan.workspaceRoot, p) || p;
  const { file } = plan.rubric;
  if (!existsSync(file)) {
    const how = plan.rubric.frozen
      ? `freeze it first: npx nx run ${plan.experiment}:freeze`
      : 'fix rubric.from, or freeze a rubric and point rubric.from at it';
    return {
      name: 'rubric',
      ok: false,
      severity: 'error',
      message: `the frozen rubric ${rel(file)} does not exist; ${how}`,
    };
  }
  try {
    const rubric = readLockedRubric(file, plan.workspaceRoot, { allowUnlocked: plan.rubric.allowUnlocked });
    const how = rubric.lock
      ? `matches its lock ${rel(rubric.lock)} (${rubric.trust}, sha256 ${rubric.sha256.slice(0, 12)}…)`
      : 'has no lock; used because rubric.allow_unlocked is true';
    return { name: 'rubric', ok: true, severity: 'error', message: `${rel(file)} ${how}` };
  } catch (error) {
    if (!(error instanceof RubricLockError)) throw error;
    return {
      name: 'rubric',
      ok: false,
      severity: 'error',
      message: `${error.message}${error.hint ? `; ${error.hint}` : ''}`,
    };
  }
}

/** Every check, in the order they are shown. */
export function runChecks(plan: TrainPlan, options: CheckOptions = {}): TrainCheck[] {
  const env = options.env ?? process.env;
  const rel = (p: string) => relative(plan.workspaceRoot, p) || p;
  const checks: TrainCheck[] = [];
  const push = (name: string, ok: boolean, message: string, severity: 'error' | 'warning' = 'error') =>
    checks.push({ name, ok, severity, message });

  if (plan.custom) {
    push(
      'trainer',
      true,
      `train.command replaces the reference trainer: ${plan.command.join(' ')} (script and base model checks skipped)`,
    );
  } else {
    if (!plan.trainerDir)
      push(
        'trainer',
        false,
        'no trainer checkout: set train.trainer_dir or ARR_TRAINER_DIR to a clone of the reference trainers (OpenEnvision/AutoRubric-as-Reward), or set train.command',
      );
    else if (!isFile(plan.script!))
      push(
        'trainer',
        false,
        `the reference script ${rel(plan.script!)} does not exist; point train.trainer_dir (or ARR_TRAINER_DIR) at the reference trainers' checkout`,
      );
    else push('trainer', true, `${rel(plan.script!)} present`);
    if (!plan.baseModel)
      push(
        'base-model',
        false,
        `set train.base_model to the ${plan.task === 't2i' ? 'FLUX.1-dev' : 'Qwen-Image-Edit'} weights folder`,
      );
    else if (!existsSync(plan.baseModel))
      push(
        'base-model',
        false,
        `train.base_model ${rel(plan.baseModel)} does not exist; download the weights there or fix the path`,
      );
    else push('base-model', true, `${rel(plan.baseModel)} present`);
  }

  checks.push(checkEmbeddings(plan, env, options.python));
  checks.push(checkRubric(plan));

  const allowNoGpu = options.allowNoGpu || env.ARR_ALLOW_NO_GPU === '1';
  if (allowNoGpu) {
    push('gpus', true, 'GPU check skipped (--allow-no-gpu or ARR_ALLOW_NO_GPU=1)', 'warning');
  } else {
    const count = (options.countGpus ?? countGpusWithNvidiaSmi)();
    if (count === null)
      push(
        'gpus',
        false,
        `nvidia-smi -L did not run: no NVIDIA GPU visible (train.gpus_per_node is ${plan.gpusPerNode}); run on a GPU node, or for a stand-in trainer pass --allow-no-gpu (arr train) or set ARR_ALLOW_NO_GPU=1`,
      );
    else if (count < plan.gpusPerNode)
      push(
        'gpus',
        false,
        `nvidia-smi -L lists ${count} GPU(s) but train.gpus_per_node is ${plan.gpusPerNode}; lower train.gpus_per_node or free/expose more GPUs (CUDA_VISIBLE_DEVICES)`,
      );
    else push('gpus', true, `${count} GPU(s) visible, ${plan.gpusPerNode} requested`);
  }

  // validate_rpo_args: --use_arr, a non-empty --arr_config_path, --num_generations 2, --use_group.
  const gens = Number(flagValue(plan.flags, 'num_generations'));
  if (gens !== NUM_GENERATIONS)
    push(
      'num-generations',
      false,
      `num_generations is ${flagValue(plan.flags, 'num_generations') ?? 'unset'}; the reference trainer (validate_rpo_args) accepts 2 only: remove train.flags.num_generations`,
    );
  else push('num-generations', true, 'num_generations is 2');
  const off = ['use_arr', 'use_group', 'arr_config_path'].filter((n) => flagValue(plan.flags, n) === undefined);
  if (off.length)
    push(
      'rpo-flags',
      false,
      `${off.map((n) => `--${n}`).join(', ')} turned off by train.flags; the reference trainer (validate_rpo_args) requires them: remove them from train.flags`,
    );

  const accum = plan.gradientAccumulationSteps;
  if (!Number.isInteger(accum) || accum < 1 || accum > plan.samplesPerStep) {
    push(
      'grad-accum',
      false,
      `gradient_accumulation_steps ${accum} is larger than the ${plan.samplesPerStep} samples per step (train_batch_size × num_generations): the reference trainer would never step the optimizer and crash after the first step; set train.gradient_accumulation_steps to at most ${plan.samplesPerStep} (null means ${plan.samplesPerStep})`,
    );
  } else
    push(
      'grad-accum',
      true,
      `gradient_accumulation_steps ${accum} ≤ ${plan.samplesPerStep} samples per step (${Math.floor(plan.samplesPerStep / accum)} optimizer step(s) per training step)`,
    );
  return checks;
}

export const failedChecks = (checks: TrainCheck[]): TrainCheck[] =>
  checks.filter((c) => !c.ok && c.severity === 'error');

/** One line per check: `ok`, `warn` or `FAIL`. */
export function describeChecks(checks: TrainCheck[]): string {
  return checks
    .map((c) => `  ${!c.ok ? 'FAIL' : c.severity === 'warning' ? 'warn' : 'ok  '} ${c.name}: ${c.message}`)
    .join('\n');
}
