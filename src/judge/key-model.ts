import type { Experiment } from '../types/experiment.js';
import { judgeFiles, judgeIdentity } from './local/gguf-files.js';
import { progressBar } from './local/progress.js';
import { judgeBackend } from './settings.js';

/**
 * The experiment as keys see it: with the local backend, the model files' content hashes stand for
 * judge.model, so a different file (another quant, a new revision) is a different judge. Resolving
 * them downloads missing files unless `pull` is false.
 */
export async function keyedExperiment(
  experiment: Experiment,
  workspaceRoot: string,
  options: { pull?: boolean } = {},
): Promise<Experiment> {
  if (judgeBackend(experiment) !== 'local') return experiment;
  const { model, mmproj, quant } = experiment.judge.local;
  const files = await judgeFiles(
    { model, mmproj, quant },
    { base: workspaceRoot, pull: options.pull, onProgress: progressBar() },
  );
  return { ...experiment, judge: { ...experiment.judge, model: judgeIdentity(files) } };
}
