// `train-flux` / `train-edit` / `arr train`: checks, a run directory, the reward service, the trainer
// under supervision, the outcome recorded. Never cached: every launch is a new run under
// cache/runs/<run id>/. The pieces live beside this file: run-dir.ts, judge-config.ts, supervise.ts,
// outcome.ts, run-record.ts.
import { randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import type { Env } from '../manifest/env.js';
import { startRewardService, type RewardService, type RewardServiceOptions } from '../reward/service.js';
import { writeJsonAtomic } from '../store/atomic.js';
import { loadValidExperiment, type ExperimentRef, type ValidExperiment } from '../manifest/valid.js';
import { ArrError } from '../util/errors.js';
import { describeChecks, failedChecks, runChecks, type CheckOptions, type TrainCheck } from './checks.js';
import { freePort } from './free-port.js';
import { judgeConfigYaml, openAiBaseUrl, REWARD_TOKEN_ENV } from './judge-config.js';
import { runOutcome, type RunStatus } from './outcome.js';
import { buildPlan, flagArgs, materialize, publicEnv, type TrainPlan } from './plan.js';
import { describeRewardMode, rewardMode, type RewardModeReport } from './reward-mode.js';
import { createRunDir, type RunDir } from './run-dir.js';
import {
  finishedRecord,
  listCheckpoints,
  notStartedRecord,
  runningRecord,
  type RunRecord,
  type StartInfo,
} from './run-record.js';
import { superviseTrainer } from './supervise.js';

export type { RunStatus };
export { judgeConfigYaml };

export interface TrainOptions extends Omit<CheckOptions, 'env'> {
  /** Print the plan and the checks; launch nothing, write nothing. */
  planOnly?: boolean;
  /** Only this target may run the experiment (`train-flux` for t2i, `train-edit` for edit). */
  target?: 'train-flux' | 'train-edit';
  /** One line of output (default console.log); trainer lines arrive here prefixed. */
  log?: (line: string) => void;
  /** Starts the reward service (tests may stand one in); default src/reward/service.ts. */
  startService?: (options: RewardServiceOptions) => Promise<RewardService>;
  /** Forward SIGINT/SIGTERM received by this process to the trainer's process group (default true). */
  forwardSignals?: boolean;
  /** Called once the trainer is spawned (tests). */
  onSpawn?: (info: { pid: number | undefined; runDir: string }) => void;
}

export interface TrainResult {
  plan: TrainPlan;
  checks: TrainCheck[];
  /** How rewards reach the trainer and which reward.* settings apply. */
  rewards: RewardModeReport;
  /** Absent with planOnly. */
  runId?: string;
  runDir?: string;
  status?: RunStatus;
  /** The trainer's exit code (null when it was killed by a signal or never started). */
  exitCode?: number | null;
  /** The signal that ended the trainer, if one did. */
  signal?: string | null;
  /** run.json as written at the end (absent with planOnly). */
  record?: RunRecord;
  /** What this process should exit with: the trainer's code, 128 + signal number, or 1. */
  processExitCode: number;
  summary: string;
}

/** Raised when a pre-launch check fails; carries every check. */
export class TrainCheckError extends ArrError {
  constructor(
    readonly checks: TrainCheck[],
    experiment: string,
  ) {
    super(`${experiment}: not launching; fix these first:\n${describeChecks(failedChecks(checks))}`);
  }
}

/** Loads the experiment and builds its plan and checks. */
export async function prepareTrain(
  ref: ExperimentRef,
  options: TrainOptions = {},
): Promise<{ loaded: ValidExperiment; plan: TrainPlan; checks: TrainCheck[] }> {
  const loaded = await loadValidExperiment(ref, { checkData: false });
  const env: Env = ref.env ?? process.env;
  const plan = buildPlan(loaded, { workspaceRoot: ref.workspaceRoot, env });
  if (options.target && options.target !== plan.target) {
    throw new ArrError(`${loaded.name} has task ${plan.task}; it trains with ${plan.target}, not ${options.target}`);
  }
  const checks = runChecks(plan, {
    allowNoGpu: options.allowNoGpu,
    countGpus: options.countGpus,
    python: options.python,
    env,
  });
  return { loaded, plan, checks };
}

/** The plan as text: command, flags with values, environment (no secrets), judge, rewards, checks. */
export function describePlan(plan: TrainPlan, checks: TrainCheck[], env: Env = process.env): string {
  const rel = (p: string) => relative(plan.workspaceRoot, p) || p;
  const lines = [
    `${plan.target} ${plan.experiment} (task ${plan.task}; manifest ${rel(plan.manifest)})`,
    `command: ${plan.command.join(' ')}`,
    `  run directory: cache/runs/<UTC start>-${plan.hash.slice(0, 8)}/ (working directory of the trainer, with images/ and output/)`,
    ...(plan.picksMasterPort
      ? ['  master port: a free port picked at launch (--master_port for torchrun, MASTER_PORT in the environment)']
      : []),
    'flags:',
    ...plan.flags.map(([n, v]) => `  --${n}${v === true ? '' : v === false || v === null ? '  (omitted)' : ` ${v}`}`),
    `  (${plan.samplesPerStep} samples per step, gradient accumulation ${plan.gradientAccumulationSteps})`,
    'environment (added to the current one):',
    ...Object.entries(publicEnv(plan.env, plan, env)).map(([k, v]) => `  ${k}=${v}`),
    `judge.yaml: model ${plan.judge.model}, base_url <reward service url>/v1, api_key \${${REWARD_TOKEN_ENV}}; the service forwards to ${plan.judge.baseUrl} (api_key ${plan.judge.apiKeyRef})`,
    ...describeRewardMode(rewardMode(plan)),
    'checks:',
    describeChecks(checks),
  ];
  return lines.join('\n');
}

/** The plan, its checks and the reward mode as one JSON-ready object (`arr train --plan --json`). */
export function planJson(plan: TrainPlan, checks: TrainCheck[], env: Env = process.env): Record<string, unknown> {
  return {
    experiment: plan.experiment,
    target: plan.target,
    task: plan.task,
    manifest: plan.manifest,
    command: plan.command,
    argv: [...plan.command, ...flagArgs(plan.flags)],
    flags: Object.fromEntries(plan.flags),
    env: publicEnv(plan.env, plan, env),
    embeddings: plan.embeddings,
    rubric: plan.rubric,
    judge: { model: plan.judge.model, forwards_to: plan.judge.baseUrl, api_key: plan.judge.apiKeyRef },
    rewards: rewardMode(plan),
    master_port: plan.picksMasterPort ? 'picked at launch' : null,
    plan_hash: plan.hash,
    checks,
    ok: failedChecks(checks).length === 0,
  };
}

/** Checks, then (unless planOnly) launches and supervises one training run. */
export async function launchTrain(ref: ExperimentRef, options: TrainOptions = {}): Promise<TrainResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const env: Env = ref.env ?? process.env;
  const { loaded, plan, checks } = await prepareTrain(ref, options);
  const rewards = rewardMode(plan);
  if (options.planOnly) {
    const failed = failedChecks(checks).length;
    return { plan, checks, rewards, processExitCode: failed ? 1 : 0, summary: describePlan(plan, checks, env) };
  }
  if (failedChecks(checks).length) throw new TrainCheckError(checks, plan.experiment);

  const started = new Date();
  const run = await createRunDir(plan, ref.workspaceRoot, started);
  const info: StartInfo = { plan, loaded, runId: run.runId, started, workspaceRoot: ref.workspaceRoot, checks };
  const logStream = createWriteStream(run.trainLog, { flags: 'a' });
  const keep = (line: string) => logStream.write(`${line}\n`);
  const closeLog = () => new Promise<void>((r) => logStream.end(() => r()));

  const token = randomBytes(32).toString('hex');
  let service: RewardService;
  try {
    service = await (options.startService ?? startRewardService)({
      experiment: loaded.experiment,
      workspaceRoot: ref.workspaceRoot,
      rubric: readFileSync(run.rubricFile, 'utf8'),
      token,
      allowedRoots: [run.dir],
      log: (line) => {
        keep(`[reward] ${line}`);
        log(`[reward] ${line}`);
      },
    });
  } catch (error) {
    // Never leave a run directory that looks like a run: record why it did not start.
    const message = `the reward service did not start: ${(error as Error).message}`;
    keep(`# failed: ${message}`);
    await closeLog();
    await writeJsonAtomic(run.runJson, notStartedRecord(info, message));
    throw new ArrError(`${plan.experiment}: ${message} (run ${relative(ref.workspaceRoot, run.dir)})`, {
      cause: error,
    });
  }

  const masterPort = plan.picksMasterPort ? await freePort() : null;
  await writeFile(run.judgeConfig, judgeConfigYaml(plan, run.rubricFile, service.url));
  const {
    args,
    env: runEnv,
    flags,
  } = materialize(plan, { dir: run.dir, rewardUrl: service.url, rewardToken: token, masterPort });
  const program = plan.command[0];
  let record = runningRecord(info, {
    command: [program, ...args],
    cwd: run.dir,
    masterPort,
    flags,
    env: publicEnv(runEnv, plan, env),
    serviceUrl: service.url,
    openAiBaseUrl: openAiBaseUrl(service.url),
  });
  await writeJsonAtomic(run.runJson, record);
  keep(`# ${plan.target} ${plan.experiment} run ${run.runId} started ${started.toISOString()}`);
  keep(`# ${[program, ...args].join(' ')}`);
  log(
    `${plan.target} ${plan.experiment}: run ${relative(ref.workspaceRoot, run.dir)}; reward service at ${service.url} (OpenAI-compatible at ${openAiBaseUrl(service.url)})`,
  );

  const exit = await superviseTrainer(program, args, {
    cwd: run.dir,
    env: { ...env, ...runEnv },
    log,
    stderrToTerminal: !options.log,
    keep,
    prefix: `[${plan.experiment}] `,
    forwardSignals: options.forwardSignals ?? true,
    onSpawn: (pid) => options.onSpawn?.({ pid, runDir: run.dir }),
  });
  const stats = serviceStats(service);
  await service.close();

  const ended = new Date();
  const outcome = runOutcome(exit);
  record = finishedRecord(record, exit, outcome, ended, { stats, checkpoints: await listCheckpoints(run.outputDir) });
  await writeJsonAtomic(run.runJson, record);
  keep(`# ${outcome.status}: ${outcome.how} at ${ended.toISOString()}`);
  await closeLog();
  return {
    plan,
    checks,
    rewards,
    runId: run.runId,
    runDir: run.dir,
    status: outcome.status,
    exitCode: exit.exitCode,
    signal: exit.signal,
    record,
    processExitCode: outcome.processExitCode,
    summary: runSummary(plan, run, outcome, exit.received, ref.workspaceRoot),
  };
}

function serviceStats(service: RewardService): Record<string, unknown> | null {
  try {
    return service.stats() as unknown as Record<string, unknown>;
  } catch {
    return null; // a stand-in service may not count
  }
}

function runSummary(
  plan: TrainPlan,
  run: RunDir,
  outcome: ReturnType<typeof runOutcome>,
  received: string[],
  workspaceRoot: string,
): string {
  const where = relative(workspaceRoot, run.dir);
  const head = `${plan.target} ${plan.experiment}: run ${run.runId}`;
  if (outcome.status === 'succeeded')
    return `${head} succeeded; checkpoints in ${where}/output, log ${where}/train.log`;
  return `${head} ${outcome.status} (${outcome.how}${received.length ? `; received ${received.join(', ')}` : ''}); log ${where}/train.log`;
}

/** For callers that want the trainer's argv without launching (plan consumers). */
export const trainerArgv = (plan: TrainPlan): string[] => [...plan.command, ...flagArgs(plan.flags)];
