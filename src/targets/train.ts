import { launchTrain } from '../train/launch.js';
import { ArrError } from '../util/errors.js';
import type { ExperimentRef } from '../manifest/valid.js';

/**
 * `train-flux` / `train-edit`: never cached; a failed or interrupted run fails the target with the
 * trainer's own exit status.
 */
export async function runTrainTarget(ref: ExperimentRef, options: { target: string }): Promise<string> {
  const result = await launchTrain(ref, { target: options.target as 'train-flux' | 'train-edit' });
  if (result.status !== 'succeeded') throw new ArrError(result.summary, { exitCode: result.processExitCode });
  return result.summary;
}
