// How an experiment's manifest turns into the options `loadDataset` takes, so every reader of a
// labelled dataset (checks, targets, `arr judge`, the doctor) judges its records by the same rules.
import type { LoadDatasetOptions } from '../data/load-dataset.js';
import type { Experiment } from '../types/experiment.js';
import { fromStoredPath } from './paths.js';

/** The folders an experiment's data may come from: the workspace and `data.allowed_roots`, absolute. */
export function dataRootsOf(experiment: Experiment, workspaceRoot: string): string[] {
  return [workspaceRoot, ...experiment.data.allowed_roots.map((root) => fromStoredPath(root, workspaceRoot))];
}

/**
 * `loadDataset` options for one of an experiment's labelled datasets: its task, the label its
 * `rubric.mode` needs (required) and score range, its data roots. Images are not decoded unless
 * `overrides.checkImages` says so (the targets that read images report a bad one per item).
 */
export function datasetOptionsFor(
  experiment: Experiment,
  workspaceRoot: string,
  overrides: Partial<LoadDatasetOptions> = {},
): LoadDatasetOptions {
  return {
    task: experiment.task,
    mode: experiment.rubric.mode,
    minScore: experiment.rubric.min_score,
    maxScore: experiment.rubric.max_score,
    requireLabel: true,
    allowedRoots: dataRootsOf(experiment, workspaceRoot),
    checkImages: false,
    ...overrides,
  };
}
