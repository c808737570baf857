import type { ExperimentRef } from '../manifest/valid.js';
import { failedChecks } from '../train/checks.js';
import { launchTrain, prepareTrain, TrainCheckError } from '../train/launch.js';
import { ArrError } from '../util/errors.js';

/**
 * `train-flux` / `train-edit`: never cached; a failed or interrupted run fails the target with the
 * trainer's own exit status.
 */
export async function runTrainTarget(ref: ExperimentRef, options: { target: string }): Promise<string> {
  const result = await launchTrain(ref, { target: options.target as 'train-flux' | 'train-edit' });
  if (result.status !== 'succeeded') throw new ArrError(result.summary, { exitCode: result.processExitCode });
  return result.summary;
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
  if (failedChecks(early).length)
    throw new TrainCheckError(early, `${plan.experiment} (${plan.target}, checked before building anything)`);
  return `${plan.target} ${plan.experiment}: ${early.length} pre-launch check(s) passed before building anything`;
}
