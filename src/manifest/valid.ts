import { isError, InvalidInputError } from '../diagnostics.js';
import { freezeCollisions } from './freeze-collisions.js';
import { checkInputs } from './inputs.js';
import { loadExperiment, locateExperiment, type LoadedExperiment, type LoadOptions } from './load.js';
import type { Experiment } from '../types/experiment.js';

export interface ExperimentRef {
  /** A project name (`exp-flux`) or a manifest path. */
  experiment: string;
  workspaceRoot: string;
  env?: LoadOptions['env'];
  overrides?: LoadOptions['overrides'];
  /** One combination of an ad-hoc `--set` sweep (see LoadOptions.sweepSlug). */
  sweepSlug?: string;
}

export type ValidExperiment = LoadedExperiment & { experiment: Experiment };

/**
 * Loads an experiment and checks everything it names; throws InvalidInputError with every problem.
 * Nothing is written before this passes, so bad input never leaves anything in cache/.
 */
export async function loadValidExperiment(
  ref: ExperimentRef,
  options: { checkData?: boolean } = {},
): Promise<ValidExperiment> {
  const { file, member } = locateExperiment(ref.experiment, ref.workspaceRoot);
  const loaded = loadExperiment(file, {
    workspaceRoot: ref.workspaceRoot,
    env: ref.env,
    overrides: ref.overrides,
    member,
    sweepSlug: ref.sweepSlug,
  });
  if (!loaded.ok) throw new InvalidInputError(loaded.diagnostics.filter(isError), ref.workspaceRoot);
  const collisions = freezeCollisions(ref.workspaceRoot, loaded.file);
  if (collisions.length) throw new InvalidInputError(collisions, ref.workspaceRoot);
  if (options.checkData !== false) {
    const problems = (await checkInputs(loaded, ref.workspaceRoot)).filter(isError);
    if (problems.length) throw new InvalidInputError(problems, ref.workspaceRoot);
  }
  return loaded as ValidExperiment;
}
