// The launch plan of `train-flux` / `train-edit`: which program runs, with which flags and environment,
// reading which inputs. Pure: nothing here touches the disk except to read the preprocess pointer.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromStoredPath } from '../manifest/paths.js';
import type { Env } from '../manifest/env.js';
import { frozenRubricPaths } from '../rubric/freeze.js';
import { targetOutputDir } from '../state/stamps.js';
import { canonicalJson, sha256Hex } from '../store/canonical-json.js';
import type { Experiment } from '../types/experiment.js';
import type { ValidExperiment } from '../manifest/valid.js';

export type TrainTask = Experiment['task'];
export type FlagValue = string | number | boolean | null;

/** The paper's (and the reference launchers') values, used where the manifest leaves a field null. */
export const PAPER_DEFAULTS = {
  t2i: { learning_rate: 5e-5, sampling_steps: 8, kl_beta: 0.01, lora_rank: 16, lora_alpha: 32 },
  edit: { learning_rate: 1e-5, sampling_steps: 10, kl_beta: 0.02, lora_rank: 32, lora_alpha: 64 },
} as const;

/** The reference script each task launches, relative to the trainer checkout. */
export const TRAINER_SCRIPT: Record<TrainTask, string> = {
  t2i: 'fastvideo/train_rpo_flux.py',
  edit: 'fastvideo/train_rpo_qwen_edit.py',
};

export const TARGET_OF: Record<TrainTask, 'train-flux' | 'train-edit'> = { t2i: 'train-flux', edit: 'train-edit' };

/** Candidates the trainer samples per prompt; `validate_rpo_args` accepts 2 only. */
export const NUM_GENERATIONS = 2;

/**
 * The reference launchers' flags that the manifest has no field for (scripts/finetune/*.sh), in their order.
 * `train.flags` replaces any of them (false/null removes one).
 */
const LAUNCHER_FLAGS: Record<TrainTask, Record<string, FlagValue>> = {
  t2i: {
    train_batch_size: 1,
    num_latent_t: 1,
    dataloader_num_workers: 4,
    lr_warmup_steps: 0,
    weight_decay: 0.0001,
    max_grad_norm: 1.0,
    mixed_precision: 'bf16',
    allow_tf32: true,
    gradient_checkpointing: true,
    checkpointing_steps: 50,
    h: 512,
    w: 512,
    t: 1,
    eta: 0.3,
    shift: 3,
    sampler_seed: 1223627,
    cfg: 0.0,
    init_same_noise: true,
    ignore_last: true,
    timestep_fraction: 1.0,
    adv_clip_max: 5.0,
  },
  edit: {
    train_batch_size: 1,
    num_latent_t: 1,
    dataloader_num_workers: 4,
    lr_warmup_steps: 0,
    weight_decay: 0.0001,
    max_grad_norm: 1.0,
    mixed_precision: 'bf16',
    allow_tf32: true,
    gradient_checkpointing: true,
    selective_checkpointing: 1.0,
    checkpointing_steps: 50,
    h: 512,
    w: 512,
    t: 1,
    eta: 0.3,
    shift: 3,
    sampler_seed: 12627,
    cfg: 0.0,
    init_same_noise: true,
    ignore_last: true,
    timestep_fraction: 1.0,
    adv_clip_max: 5.0,
  },
};

/** Where the embeddings come from: `train.embeddings`, or the preprocess target's published pointer. */
export interface EmbeddingsSource {
  /** Absolute path of metadata.json, or null when the preprocess pointer is missing. */
  metadata: string | null;
  from: 'train.embeddings' | 'preprocess';
  /** The preprocess pointer file (cache/experiments/<name>/preprocess/embeddings.json). */
  pointer?: string;
}

export interface TrainPlan {
  experiment: string;
  manifest: string;
  task: TrainTask;
  target: 'train-flux' | 'train-edit';
  workspaceRoot: string;
  /** True when `train.command` replaces torchrun + the reference script. */
  custom: boolean;
  /** The program and its arguments before the trainer flags (torchrun … script, or train.command). */
  command: string[];
  /** The reference script (null with a custom command). */
  script: string | null;
  trainerDir: string | null;
  baseModel: string | null;
  embeddings: EmbeddingsSource;
  /** The frozen rubric (absolute) and its lock. */
  rubric: { file: string; lock: string; frozen: boolean; allowUnlocked: boolean };
  /** Trainer flags by the reference's names, in order; `data_json_path`, `output_dir`, `arr_config_path` are filled at launch. */
  flags: [string, FlagValue][];
  /** Variables added to the trainer's environment (values the run fills in are placeholders here). */
  env: Record<string, string>;
  /** Prompts per step per rank × generations per prompt. */
  samplesPerStep: number;
  gradientAccumulationSteps: number;
  gpusPerNode: number;
  /** The judge settings the in-process judge config is written from. */
  judge: {
    model: string;
    baseUrl: string;
    apiKeyRef: string;
    apiKeyEnv: string | null;
    temperature: number;
    language: string;
    mode: string;
    taskDescription: string;
  };
  /** The reward service settings (`reward.*`); which of them apply depends on how the trainer asks for rewards. */
  reward: Experiment['reward'];
  /** True when the run picks a free torch.distributed master port (single node, no rendezvous endpoint). */
  picksMasterPort: boolean;
  /** sha256 of the plan (inputs named, command, flags); part of the run id. */
  hash: string;
}

/** Placeholders in a plan for values that exist only once the run starts. */
export const AT_LAUNCH = {
  runDir: '<run dir>',
  rewardUrl: '<reward service url, set at launch>',
  rewardToken: '<made per run, never shown>',
  masterPort: '<free port, picked at launch>',
};

/** `--name value` arguments: true → bare flag, false/null → omitted. */
export function flagArgs(flags: [string, FlagValue][]): string[] {
  const out: string[] = [];
  for (const [name, value] of flags) {
    if (value === false || value === null) continue;
    out.push(`--${name}`);
    if (value !== true) out.push(String(value));
  }
  return out;
}

/** Reads a flag's value from a plan's flag list (undefined when absent or turned off). */
export function flagValue(flags: [string, FlagValue][], name: string): FlagValue | undefined {
  const hit = flags.find(([n]) => n === name);
  return hit && hit[1] !== false && hit[1] !== null ? hit[1] : undefined;
}

/** The embeddings metadata.json a run reads. */
export function embeddingsSource(loaded: ValidExperiment, workspaceRoot: string): EmbeddingsSource {
  const stored = loaded.experiment.train.embeddings;
  if (stored) return { metadata: fromStoredPath(stored, workspaceRoot), from: 'train.embeddings' };
  const pointer = join(targetOutputDir(workspaceRoot, loaded.name, 'preprocess'), 'embeddings.json');
  if (!existsSync(pointer)) return { metadata: null, from: 'preprocess', pointer };
  try {
    const { metadata } = JSON.parse(readFileSync(pointer, 'utf8')) as { metadata?: string };
    return {
      metadata: typeof metadata === 'string' ? fromStoredPath(metadata, workspaceRoot) : null,
      from: 'preprocess',
      pointer,
    };
  } catch {
    return { metadata: null, from: 'preprocess', pointer };
  }
}

/** The frozen rubric a run rewards with: `rubric.from`, else `rubrics/<freeze.name>.v<freeze.version>.txt`. */
export function frozenRubricOf(
  e: Experiment,
  workspaceRoot: string,
): { file: string; lock: string; frozen: boolean; allowUnlocked: boolean } {
  const allowUnlocked = e.rubric.allow_unlocked;
  if (e.rubric.from) {
    const file = fromStoredPath(e.rubric.from, workspaceRoot);
    return { file, lock: file.replace(/\.txt$/i, '') + '.lock.json', frozen: false, allowUnlocked };
  }
  const { txt, lockFile } = frozenRubricPaths(workspaceRoot, e.freeze.name!, e.freeze.version);
  return { file: txt, lock: lockFile, frozen: true, allowUnlocked };
}

export interface PlanOptions {
  workspaceRoot: string;
  env?: Env;
}

/** Builds the launch plan of an experiment (no checks: see checks.ts). */
export function buildPlan(loaded: ValidExperiment, options: PlanOptions): TrainPlan {
  const env = options.env ?? process.env;
  const ws = options.workspaceRoot;
  const e = loaded.experiment;
  const t = e.train;
  const task = e.task;
  const paper = PAPER_DEFAULTS[task];

  const custom = Array.isArray(t.command) && t.command.length > 0;
  const trainerDir = t.trainer_dir
    ? fromStoredPath(t.trainer_dir, ws)
    : env.ARR_TRAINER_DIR
      ? fromStoredPath(env.ARR_TRAINER_DIR, ws)
      : null;
  const script = custom ? null : join(trainerDir ?? '$ARR_TRAINER_DIR', TRAINER_SCRIPT[task]);
  // One node without a rendezvous endpoint: torchrun would take 29500, which a second run on the node also takes.
  const picksMasterPort = t.nnodes === 1 && !t.rdzv_endpoint;
  const command = custom
    ? [...t.command!]
    : [
        'torchrun',
        '--nnodes',
        String(t.nnodes),
        '--node_rank',
        String(t.node_rank),
        '--nproc_per_node',
        String(t.gpus_per_node),
        ...(t.rdzv_endpoint ? ['--rdzv_endpoint', t.rdzv_endpoint] : []),
        ...(picksMasterPort ? ['--master_port', AT_LAUNCH.masterPort] : []),
        script!,
      ];

  const extra = t.flags ?? {};
  const batch =
    typeof extra.train_batch_size === 'number'
      ? extra.train_batch_size
      : Number(extra.train_batch_size ?? LAUNCHER_FLAGS[task].train_batch_size);
  const generations = extra.num_generations === undefined ? NUM_GENERATIONS : Number(extra.num_generations);
  const samplesPerStep =
    (Number.isFinite(batch) ? batch : 1) * (Number.isFinite(generations) ? generations : NUM_GENERATIONS);
  const gradAccum = t.gradient_accumulation_steps ?? samplesPerStep;
  const baseModel = t.base_model ? fromStoredPath(t.base_model, ws) : null;

  const ordered: [string, FlagValue][] = [
    ['data_json_path', '<embeddings metadata.json>'],
    ...(baseModel ? ([['pretrained_model_name_or_path', baseModel]] as [string, FlagValue][]) : []),
    ['seed', t.seed],
    ...Object.entries(LAUNCHER_FLAGS[task]),
    ['gradient_accumulation_steps', gradAccum],
    ['max_train_steps', t.max_train_steps],
    ['learning_rate', t.learning_rate ?? paper.learning_rate],
    ['sampling_steps', t.sampling_steps ?? paper.sampling_steps],
    ['clip_range', t.clip_range],
    ['kl_beta', t.kl_beta ?? paper.kl_beta],
    ['lora_rank', t.lora.rank ?? paper.lora_rank],
    ['lora_alpha', t.lora.alpha ?? paper.lora_alpha],
    ['use_arr', true],
    ['num_generations', NUM_GENERATIONS],
    ['use_group', true],
    ['arr_config_path', `${AT_LAUNCH.runDir}/judge.yaml`],
    ['output_dir', `${AT_LAUNCH.runDir}/output`],
  ];
  // train.flags replaces a flag in place or appends it.
  for (const [name, value] of Object.entries(extra)) {
    const at = ordered.findIndex(([n]) => n === name);
    if (at >= 0) ordered[at] = [name, value];
    else ordered.push([name, value]);
  }

  const apiKeyEnv = loaded.origins.get('judge.api_key')?.env?.[0]?.name ?? null;
  const apiKeyRef = apiKeyEnv ? `\${${apiKeyEnv}}` : e.judge.api_key === 'EMPTY' ? 'EMPTY' : '${OPENAI_API_KEY}';
  const baseUrl = Array.isArray(e.judge.base_url) ? e.judge.base_url[0] : (e.judge.base_url as string);
  const rubric = frozenRubricOf(e, ws);
  const embeddings = embeddingsSource(loaded, ws);

  const runEnv: Record<string, string> = {
    ARR_EXPERIMENT: loaded.name,
    ARR_RUN_DIR: AT_LAUNCH.runDir,
    ARR_REWARD_URL: AT_LAUNCH.rewardUrl,
    ARR_REWARD_TOKEN: AT_LAUNCH.rewardToken,
    ARR_CONFIG_PATH: `${AT_LAUNCH.runDir}/judge.yaml`,
    ARR_RUBRIC_FILE: `${AT_LAUNCH.runDir}/rubric.txt`,
    DATA_JSON_PATH: embeddings.metadata ?? '<embeddings metadata.json>',
    OUTPUT_DIR: `${AT_LAUNCH.runDir}/output`,
    ...(baseModel ? { MODEL_PATH: baseModel } : {}),
    ...(picksMasterPort ? { MASTER_PORT: AT_LAUNCH.masterPort } : {}),
    ...(trainerDir && !custom ? { PYTHONPATH: [trainerDir, env.PYTHONPATH].filter(Boolean).join(':') } : {}),
  };

  const hashed = {
    experiment: loaded.name,
    task,
    command,
    flags: ordered,
    rubric: rubric.file,
    embeddings: embeddings.metadata,
    judge: { model: e.judge.model, baseUrl, apiKeyRef },
    reward: e.reward,
  };
  return {
    experiment: loaded.name,
    manifest: loaded.file,
    task,
    target: TARGET_OF[task],
    workspaceRoot: ws,
    custom,
    command,
    script,
    trainerDir,
    baseModel,
    embeddings,
    rubric,
    flags: ordered,
    env: runEnv,
    samplesPerStep,
    gradientAccumulationSteps: Number(flagValue(ordered, 'gradient_accumulation_steps') ?? gradAccum),
    gpusPerNode: t.gpus_per_node,
    judge: {
      model: e.judge.model,
      baseUrl,
      apiKeyRef,
      apiKeyEnv,
      temperature: e.judge.temperature,
      language: e.rubric.language,
      mode: e.rubric.mode,
      taskDescription: e.rubric.task_description,
    },
    reward: e.reward,
    picksMasterPort,
    hash: sha256Hex(canonicalJson(hashed)),
  };
}

/** Fills the run's real paths into a plan's flags and environment. */
export function materialize(
  plan: TrainPlan,
  run: { dir: string; rewardUrl: string; rewardToken: string; masterPort: number | null },
): { args: string[]; env: Record<string, string>; flags: [string, FlagValue][] } {
  const fill = (v: string) =>
    v
      .replaceAll(AT_LAUNCH.runDir, run.dir)
      .replaceAll(AT_LAUNCH.masterPort, String(run.masterPort ?? ''))
      .replace(AT_LAUNCH.rewardUrl, run.rewardUrl)
      .replace(AT_LAUNCH.rewardToken, run.rewardToken)
      .replace('<embeddings metadata.json>', plan.embeddings.metadata ?? '');
  const flags = plan.flags.map(([n, v]) => [n, typeof v === 'string' ? fill(v) : v] as [string, FlagValue]);
  const env = Object.fromEntries(Object.entries(plan.env).map(([k, v]) => [k, fill(v)]));
  return { args: [...plan.command.slice(1).map(fill), ...flagArgs(flags)], env, flags };
}

/** Environment shown in plans and run.json: the reward token never, the judge key only whether it is set. */
export function publicEnv(
  env: Record<string, string>,
  plan: TrainPlan,
  processEnv: Env = process.env,
): Record<string, string> {
  const out: Record<string, string> = { ...env };
  if ('ARR_REWARD_TOKEN' in out) out.ARR_REWARD_TOKEN = '(set; made per run)';
  if (plan.judge.apiKeyEnv) {
    const v = processEnv[plan.judge.apiKeyEnv];
    out[plan.judge.apiKeyEnv] = v !== undefined && v !== '' ? '(set)' : '(not set)';
  }
  return out;
}
