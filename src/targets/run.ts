import { relative } from 'node:path';
import { runFreeze } from './freeze.js';
import { runPreprocessTarget } from './preprocess.js';
import { runResolve } from './resolve.js';
import { runRubricGenerate } from './rubric-generate.js';
import { runVerify } from './verify.js';
import { loadValidExperiment, type ExperimentRef } from './context.js';

export const TARGETS = ['resolve', 'preprocess', 'rubric-generate', 'verify', 'freeze', 'train-flux', 'train-edit'] as const;

/** Targets whose engine part is tracked by a later issue: they fail loudly rather than pretend. */
const PENDING: Record<string, string> = {
  'train-flux': 'train-flux (launching ARR-RPO with the reward service) is not implemented yet (issue #6)',
  'train-edit': 'train-edit (launching ARR-RPO with the reward service) is not implemented yet (issue #6)',
};

export interface TargetOptions {
  estimate?: boolean;
  noCache?: boolean;
}

/** Runs one target and returns its summary. */
export async function runTarget(target: string, ref: ExperimentRef, options: TargetOptions = {}): Promise<string> {
  if (!(TARGETS as readonly string[]).includes(target)) throw new Error(`unknown target ${target}; targets: ${TARGETS.join(', ')}`);
  if (options.estimate && target !== 'rubric-generate') throw new Error('--estimate applies to rubric-generate only');
  if (target === 'resolve') {
    const r = await runResolve(ref);
    return `resolve ${r.experiment}: ${r.files} input file(s) hashed, key ${r.key.slice(0, 12)} (${r.reused ? 'reused' : 'built'}), lock ${relative(ref.workspaceRoot, r.lockFile)}`;
  }
  if (target === 'preprocess') return runPreprocessTarget(ref);
  if (target === 'rubric-generate') return runRubricGenerate(ref, options);
  if (target === 'verify') return runVerify(ref, options);
  if (target === 'freeze') return runFreeze(ref);
  // Validate first so a broken manifest reports its own errors, not the missing feature.
  const loaded = await loadValidExperiment(ref, { checkData: false });
  const expected = loaded.experiment.task === 't2i' ? 'train-flux' : 'train-edit';
  if (target.startsWith('train-') && target !== expected) {
    throw new Error(`${loaded.name} has task ${loaded.experiment.task}; it trains with ${expected}, not ${target}`);
  }
  throw new Error(PENDING[target]);
}
