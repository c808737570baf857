// `train-flux` / `train-edit` / `arr train`: checks, a run directory, the reward service, the trainer
// under supervision (own process group, log kept, Ctrl-C/SIGTERM forwarded), the outcome recorded.
// Never cached: every launch is a new run under cache/runs/<run id>/.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { constants as osConstants } from 'node:os';
import { execa } from 'execa';
import { stringify } from 'yaml';
import type { Env } from '../manifest/env.js';
import { startRewardService, type RewardService, type RewardServiceOptions } from '../reward/service.js';
import { sha256Hex } from '../store/canonical-json.js';
import { writeJsonAtomic } from '../store/atomic.js';
import { loadValidExperiment, type ExperimentRef, type ValidExperiment } from '../manifest/valid.js';
import { cacheDir } from '../workspace.js';
import { describeChecks, failedChecks, runChecks, type CheckOptions, type TrainCheck } from './checks.js';
import { buildPlan, flagArgs, materialize, publicEnv, type FlagValue, type TrainPlan } from './plan.js';
import { ArrError } from '../util/errors.js';

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

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'interrupted';

export interface TrainResult {
  plan: TrainPlan;
  checks: TrainCheck[];
  /** Absent with planOnly. */
  runId?: string;
  runDir?: string;
  status?: RunStatus;
  /** The trainer's exit code (null when it was killed by a signal or never started). */
  exitCode?: number | null;
  /** The signal that ended the trainer, if one did. */
  signal?: string | null;
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
export async function prepareTrain(ref: ExperimentRef, options: TrainOptions = {}): Promise<{ loaded: ValidExperiment; plan: TrainPlan; checks: TrainCheck[] }> {
  const loaded = await loadValidExperiment(ref, { checkData: false });
  const env: Env = ref.env ?? process.env;
  const plan = buildPlan(loaded, { workspaceRoot: ref.workspaceRoot, env });
  if (options.target && options.target !== plan.target) {
    throw new Error(`${loaded.name} has task ${plan.task}; it trains with ${plan.target}, not ${options.target}`);
  }
  const checks = runChecks(plan, { allowNoGpu: options.allowNoGpu, countGpus: options.countGpus, env });
  return { loaded, plan, checks };
}

/** The plan as text: command, flags with values, environment (no secrets), checks. */
export function describePlan(plan: TrainPlan, checks: TrainCheck[], env: Env = process.env): string {
  const rel = (p: string) => relative(plan.workspaceRoot, p) || p;
  const lines = [
    `${plan.target} ${plan.experiment} (task ${plan.task}; manifest ${rel(plan.manifest)})`,
    `command: ${[plan.command[0], ...plan.command.slice(1)].join(' ')}`,
    `  run directory: cache/runs/<UTC start>-${plan.hash.slice(0, 8)}/ (working directory of the trainer)`,
    'flags:',
    ...plan.flags.map(([n, v]) => `  --${n}${v === true ? '' : v === false || v === null ? '  (omitted)' : ` ${v}`}`),
    `  (${plan.samplesPerStep} samples per step, gradient accumulation ${plan.gradientAccumulationSteps})`,
    'environment (added to the current one):',
    ...Object.entries(publicEnv(plan.env, plan, env)).map(([k, v]) => `  ${k}=${v}`),
    `judge: ${plan.judge.model} at ${plan.judge.baseUrl} (api_key ${plan.judge.apiKeyRef})`,
    'checks:',
    describeChecks(checks),
  ];
  return lines.join('\n');
}

const compactUtc = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

function gitCommit(cwd: string): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    return null;
  }
}

const fileHash = (file: string | null | undefined): { path: string; sha256: string | null } | null => {
  if (!file) return null;
  try {
    return { path: file, sha256: sha256Hex(readFileSync(file)) };
  } catch {
    return { path: file, sha256: null };
  }
};

/** The judge config in the reference's format (rubric_pipeline YAML), for trainers that judge in-process. */
export function judgeConfigYaml(plan: TrainPlan, rubricFile: string): string {
  const config = {
    grader_name: 'image quality comparator',
    model_name: plan.judge.model,
    base_url: plan.judge.baseUrl,
    api_key: plan.judge.apiKeyRef,
    temperature: plan.judge.temperature,
    task_type: plan.task === 't2i' ? 't2i' : 'image_edit',
    eval_mode: plan.judge.mode,
    language: plan.judge.language,
    ...(plan.judge.taskDescription ? { task_description: plan.judge.taskDescription } : {}),
    rubrics_file: rubricFile,
  };
  return `# Written by arr for this run; the api key is a reference, never its value.\n${stringify(config)}`;
}

/** Checks, then (unless planOnly) launches and supervises one training run. */
export async function launchTrain(ref: ExperimentRef, options: TrainOptions = {}): Promise<TrainResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const env: Env = ref.env ?? process.env;
  const { loaded, plan, checks } = await prepareTrain(ref, options);
  if (options.planOnly) {
    const failed = failedChecks(checks).length;
    return { plan, checks, processExitCode: failed ? 1 : 0, summary: describePlan(plan, checks, env) };
  }
  if (failedChecks(checks).length) throw new TrainCheckError(checks, plan.experiment);

  // The run directory.
  const started = new Date();
  const runsDir = join(cacheDir(ref.workspaceRoot), 'runs');
  let runId = `${compactUtc(started)}-${plan.hash.slice(0, 8)}`;
  for (let n = 2; existsSync(join(runsDir, runId)); n++) runId = `${compactUtc(started)}-${plan.hash.slice(0, 8)}-${n}`;
  const runDir = join(runsDir, runId);
  const outputDir = join(runDir, 'output');
  await mkdir(outputDir, { recursive: true });
  const rubricCopy = join(runDir, 'rubric.txt');
  await copyFile(plan.rubric.file, rubricCopy);
  if (existsSync(plan.rubric.lock)) await copyFile(plan.rubric.lock, join(runDir, 'rubric.lock.json'));
  await writeFile(join(runDir, 'judge.yaml'), judgeConfigYaml(plan, rubricCopy));
  const rubricText = readFileSync(rubricCopy, 'utf8');

  const logStream = createWriteStream(join(runDir, 'train.log'), { flags: 'a' });
  const keep = (line: string) => logStream.write(`${line}\n`);
  const prefix = `[${plan.experiment}] `;

  const token = randomBytes(32).toString('hex');
  const start = options.startService ?? startRewardService;
  let service: RewardService;
  try {
    service = await start({
    experiment: loaded.experiment,
    workspaceRoot: ref.workspaceRoot,
    rubric: rubricText,
    token,
    allowedRoots: [runDir],
    log: (line) => {
      keep(`[reward] ${line}`);
      log(`[reward] ${line}`);
    },
    });
  } catch (error) {
    // Never leave a run directory that looks like a run: record why it did not start.
    const message = `the reward service did not start: ${(error as Error).message}`;
    keep(`# failed: ${message}`);
    await new Promise<void>((r) => logStream.end(() => r()));
    await writeJsonAtomic(join(runDir, 'run.json'), { schema: 1, run_id: runId, experiment: plan.experiment, target: plan.target, status: 'failed', plan_hash: plan.hash, started: started.toISOString(), ended: new Date().toISOString(), exit_code: null, signal: null, error: message });
    throw new Error(`${plan.experiment}: ${message} (run ${relative(ref.workspaceRoot, runDir)})`);
  }

  const { args, env: runEnv, flags } = materialize(plan, { dir: runDir, rewardUrl: service.url, rewardToken: token });
  const program = plan.command[0];
  const shownEnv = publicEnv(runEnv, plan, env);
  const record: Record<string, unknown> = {
    schema: 1,
    run_id: runId,
    experiment: plan.experiment,
    target: plan.target,
    task: plan.task,
    status: 'running' as RunStatus,
    plan_hash: plan.hash,
    git_commit: gitCommit(ref.workspaceRoot),
    inputs: {
      rubric: fileHash(plan.rubric.file),
      rubric_lock: existsSync(plan.rubric.lock) ? fileHash(plan.rubric.lock) : null,
      embeddings_metadata: fileHash(plan.embeddings.metadata),
      embeddings_from: plan.embeddings.from,
      manifests: loaded.chain.map((f) => fileHash(f)),
      trainer_script: plan.script ? fileHash(plan.script) : null,
      base_model: plan.baseModel,
    },
    command: [program, ...args],
    flags: Object.fromEntries(flags.filter(([, v]) => v !== false && v !== null)) as Record<string, FlagValue>,
    env: shownEnv,
    reward_service: { url: service.url },
    judge_config: 'judge.yaml',
    checks: checks.map((c) => ({ name: c.name, ok: c.ok, severity: c.severity, message: c.message })),
    started: started.toISOString(),
    ended: null,
    exit_code: null,
    signal: null,
    received_signals: [],
  };
  const runJson = join(runDir, 'run.json');
  await writeJsonAtomic(runJson, record);
  keep(`# ${plan.target} ${plan.experiment} run ${runId} started ${started.toISOString()}`);
  keep(`# ${[program, ...args].join(' ')}`);
  log(`${plan.target} ${plan.experiment}: run ${relative(ref.workspaceRoot, runDir)}; reward service at ${service.url}`);

  const received: string[] = [];
  let subprocess: ReturnType<typeof execa> | undefined;
  const forward = (signal: NodeJS.Signals) => {
    received.push(signal);
    const pid = subprocess?.pid;
    if (!pid) return;
    // A third signal means "stop now".
    const sent = received.length >= 3 ? 'SIGKILL' : signal;
    log(`${prefix}${signal} received; sending ${sent} to the trainer (process group ${pid})`);
    keep(`# ${signal} received; sent ${sent} to process group ${pid}`);
    try {
      process.kill(-pid, sent);
    } catch {
      /* already gone */
    }
  };
  const handlers: [NodeJS.Signals, () => void][] = (options.forwardSignals ?? true) ? (['SIGINT', 'SIGTERM', 'SIGHUP'] as NodeJS.Signals[]).map((s) => [s, () => forward(s)]) : [];
  for (const [s, h] of handlers) process.on(s, h);

  let result: { exitCode?: number; signal?: string; failed: boolean; message?: string };
  try {
    subprocess = execa(program, args, {
      cwd: runDir,
      env: { ...env, ...runEnv },
      extendEnv: false,
      detached: true, // own process group: a signal reaches torchrun and every rank
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      cleanup: false,
    });
    options.onSpawn?.({ pid: subprocess.pid, runDir });
    const pump = (stream: NodeJS.ReadableStream | null, err: boolean) =>
      new Promise<void>((resolveDone) => {
        if (!stream) return resolveDone();
        const rl = createInterface({ input: stream, crlfDelay: Infinity });
        rl.on('line', (line) => {
          keep(line);
          if (err && !options.log) process.stderr.write(`${prefix}${line}\n`);
          else log(`${prefix}${line}`);
        });
        rl.on('close', () => resolveDone());
      });
    const [done] = await Promise.all([subprocess, pump(subprocess.stdout, false), pump(subprocess.stderr, true)]);
    result = { exitCode: done.exitCode, signal: done.signal, failed: done.failed, message: done.exitCode === undefined && !done.signal ? done.originalMessage || done.shortMessage : undefined };
  } catch (error) {
    result = { failed: true, message: (error as Error).message };
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
  }

  let serviceStats: unknown = null;
  try {
    serviceStats = service.stats();
  } catch {
    /* a stand-in may not count */
  }
  await service.close();

  const ended = new Date();
  const exitCode = result.exitCode ?? null;
  const signal = result.signal ?? null;
  const status: RunStatus = received.length ? 'interrupted' : exitCode === 0 && !signal && !result.failed ? 'succeeded' : 'failed';
  const signum = signal ? ((osConstants.signals as Record<string, number>)[signal] ?? 0) : 0;
  const processExitCode = status === 'succeeded' ? 0 : exitCode !== null && exitCode !== 0 ? exitCode : signal ? 128 + signum : received.length ? 128 + ((osConstants.signals as Record<string, number>)[received[0]] ?? 0) : 1;
  Object.assign(record, {
    status,
    ended: ended.toISOString(),
    duration_s: Math.round((ended.getTime() - started.getTime()) / 10) / 100,
    exit_code: exitCode,
    signal,
    received_signals: received,
    ...(result.message ? { error: result.message } : {}),
    reward_service: { url: service.url, stats: serviceStats },
    checkpoints: await listCheckpoints(outputDir),
  });
  await writeJsonAtomic(runJson, record);
  const how = signal ? `killed by ${signal}` : exitCode !== null ? `exit code ${exitCode}` : `did not start (${result.message})`;
  keep(`# ${status}: ${how} at ${ended.toISOString()}`);
  await new Promise<void>((r) => logStream.end(() => r()));

  const where = relative(ref.workspaceRoot, runDir);
  const summary =
    status === 'succeeded'
      ? `${plan.target} ${plan.experiment}: run ${runId} succeeded; checkpoints in ${where}/output, log ${where}/train.log`
      : `${plan.target} ${plan.experiment}: run ${runId} ${status} (${how}${received.length ? `; received ${received.join(', ')}` : ''}); log ${where}/train.log`;
  return { plan, checks, runId, runDir, status, exitCode, signal, processExitCode, summary };
}

async function listCheckpoints(outputDir: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  try {
    return (await readdir(outputDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/** For callers that want the trainer's argv without launching (plan consumers). */
export const trainerArgv = (plan: TrainPlan): string[] => [...plan.command, ...flagArgs(plan.flags)];
