// run.json (schemas/run-record.schema.json): written when the trainer starts, rewritten when it ends.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { sha256Hex } from '../store/canonical-json.js';
import type { HashedFile, RunRecord } from '../types/run-record.js';
import type { ValidExperiment } from '../manifest/valid.js';
import type { TrainCheck } from './checks.js';
import type { RunOutcome, TrainerExit } from './outcome.js';
import type { FlagValue, TrainPlan } from './plan.js';

export type { RunRecord };

function gitCommit(cwd: string): string | null {
  try {
    return (
      execFileSync('git', ['rev-parse', 'HEAD'], {
        cwd,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() || null
    );
  } catch {
    return null;
  }
}

/** A file by path and content hash (sha256 null when unreadable); null when there is no file. */
export function hashedFile(file: string | null | undefined): HashedFile {
  if (!file) return null;
  try {
    return { path: file, sha256: sha256Hex(readFileSync(file)) };
  } catch {
    return { path: file, sha256: null };
  }
}

export interface StartInfo {
  plan: TrainPlan;
  loaded: ValidExperiment;
  runId: string;
  started: Date;
  workspaceRoot: string;
  checks: TrainCheck[];
}

/** The fields every record has, whether or not the trainer was launched. */
function baseRecord(info: StartInfo): RunRecord {
  const { plan } = info;
  return {
    schema: 1,
    run_id: info.runId,
    experiment: plan.experiment,
    target: plan.target,
    task: plan.task,
    status: 'running',
    plan_hash: plan.hash,
    git_commit: gitCommit(info.workspaceRoot),
    inputs: {
      rubric: hashedFile(plan.rubric.file),
      rubric_lock: existsSync(plan.rubric.lock) ? hashedFile(plan.rubric.lock) : null,
      embeddings_metadata: hashedFile(plan.embeddings.metadata),
      embeddings_from: plan.embeddings.from,
      manifests: info.loaded.chain.map((f) => hashedFile(f)),
      trainer_script: plan.script ? hashedFile(plan.script) : null,
      base_model: plan.baseModel,
    },
    checks: info.checks.map((c) => ({ name: c.name, ok: c.ok, severity: c.severity, message: c.message })),
    started: info.started.toISOString(),
    ended: null,
    exit_code: null,
    signal: null,
  };
}

/** The record of a run that ended before its trainer started (the reward service failed, say). */
export function notStartedRecord(info: StartInfo, error: string): RunRecord {
  return { ...baseRecord(info), status: 'failed', ended: new Date().toISOString(), error };
}

export interface LaunchInfo {
  command: string[];
  cwd: string;
  masterPort: number | null;
  flags: [string, FlagValue][];
  env: Record<string, string>;
  serviceUrl: string;
  openAiBaseUrl: string;
}

/** The record written as the trainer starts (status `running`). */
export function runningRecord(info: StartInfo, launch: LaunchInfo): RunRecord {
  return {
    ...baseRecord(info),
    command: launch.command,
    cwd: launch.cwd,
    master_port: launch.masterPort,
    flags: Object.fromEntries(
      launch.flags.filter((f): f is [string, string | number | boolean] => f[1] !== false && f[1] !== null),
    ),
    env: launch.env,
    reward_service: { url: launch.serviceUrl, openai_base_url: launch.openAiBaseUrl },
    judge_config: 'judge.yaml',
    received_signals: [],
  };
}

/** The record once the trainer ended: outcome, exit status, service stats, checkpoints. */
export function finishedRecord(
  record: RunRecord,
  exit: TrainerExit,
  outcome: RunOutcome,
  ended: Date,
  extra: { stats: Record<string, unknown> | null; checkpoints: string[] },
): RunRecord {
  return {
    ...record,
    status: outcome.status,
    ended: ended.toISOString(),
    duration_s: Math.round((ended.getTime() - Date.parse(record.started)) / 10) / 100,
    exit_code: exit.exitCode,
    signal: exit.signal,
    received_signals: exit.received,
    ...(exit.error ? { error: exit.error } : {}),
    reward_service: { ...record.reward_service!, stats: extra.stats },
    checkpoints: extra.checkpoints,
  };
}

/** Folders the trainer left in output/ (its checkpoints), sorted. */
export async function listCheckpoints(outputDir: string): Promise<string[]> {
  try {
    return (await readdir(outputDir, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}
