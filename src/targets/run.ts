import { relative } from 'node:path';
import { runFreeze } from './freeze.js';
import { runPreprocessTarget } from './preprocess.js';
import { runResolve } from './resolve.js';
import { runRubricGenerate } from './rubric-generate.js';
import { runVerify } from './verify.js';
import { failedChecks } from '../train/checks.js';
import { launchTrain, prepareTrain, TrainCheckError } from '../train/launch.js';
import type { ExperimentRef } from './context.js';
import { ArrError } from '../util/errors.js';

export const TARGETS = ['resolve', 'preprocess', 'rubric-generate', 'verify', 'freeze', 'train-flux', 'train-edit'] as const;

export interface TargetOptions {
  estimate?: boolean;
  noCache?: boolean;
  /** First run the training pre-launch checks that need nothing built (Nx passes it when a train-* task is in the graph). */
  trainChecks?: boolean;
}

/** Pre-launch checks that need a built artifact; every other one can fail a run before any judge call. */
const NEEDS_ARTIFACT = new Set(['embeddings', 'rubric']);

/**
 * The training checks that need nothing built yet (trainer, base model, GPUs, flags, gradient
 * accumulation), all at once. Throws TrainCheckError listing every failure; returns a summary line.
 */
export async function earlyTrainChecks(ref: ExperimentRef): Promise<string> {
  const { plan, checks } = await prepareTrain(ref);
  const early = checks.filter((c) => !NEEDS_ARTIFACT.has(c.name));
  if (failedChecks(early).length) throw new TrainCheckError(early, `${plan.experiment} (${plan.target}, checked before building anything)`);
  return `${plan.target} ${plan.experiment}: ${early.length} pre-launch check(s) passed before building anything`;
}

/** Runs one target and returns its summary. */
export async function runTarget(target: string, ref: ExperimentRef, options: TargetOptions = {}): Promise<string> {
  if (!(TARGETS as readonly string[]).includes(target)) throw new Error(`unknown target ${target}; targets: ${TARGETS.join(', ')}`);
  if (options.estimate && target !== 'rubric-generate') throw new Error('--estimate applies to rubric-generate only');
  const early = options.trainChecks && !target.startsWith('train-') ? `${await earlyTrainChecks(ref)}\n` : '';
  return early + (await runOne(target, ref, options));
}

async function runOne(target: string, ref: ExperimentRef, options: TargetOptions): Promise<string> {
  if (target === 'resolve') {
    const r = await runResolve(ref);
    return `resolve ${r.experiment}: ${r.files} input file(s) hashed, key ${r.key.slice(0, 12)} (${r.reused ? 'reused' : 'built'}), lock ${relative(ref.workspaceRoot, r.lockFile)}`;
  }
  if (target === 'preprocess') return runPreprocessTarget(ref);
  if (target === 'rubric-generate') return runRubricGenerate(ref, options);
  if (target === 'verify') return runVerify(ref, options);
  if (target === 'freeze') return runFreeze(ref);
  // train-flux / train-edit: never cached; a failed or interrupted run fails the target.
  const result = await launchTrain(ref, { target: target as 'train-flux' | 'train-edit' });
  if (result.status !== 'succeeded') throw new ArrError(result.summary, { exitCode: result.processExitCode });
  return result.summary;
}
