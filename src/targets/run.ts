import type { ExperimentRef } from '../manifest/valid.js';
import { ArrError } from '../util/errors.js';
import { RUNNABLE_TARGETS, TARGET_REGISTRY, isTargetName, type TargetName } from './registry.js';

export interface TargetOptions {
  estimate?: boolean;
  noCache?: boolean;
  /** First run the training pre-launch checks that need nothing built (Nx passes it when a train-* task is in the graph). */
  trainChecks?: boolean;
}

/** What every engine entry named in the registry is: run one target, return its one-line summary. */
export type TargetEntry = (ref: ExperimentRef, options: TargetOptions & { target: TargetName }) => Promise<string>;

/** Loads a target's engine function from the module the registry names (only when it runs). */
export async function loadTargetEntry(target: TargetName): Promise<TargetEntry> {
  const entry = TARGET_REGISTRY[target].entry;
  if (!entry) throw new ArrError(`target ${target} only groups other targets and has nothing to run`);
  const module = (await import(`./${entry.module}.js`)) as Record<string, unknown>;
  const run = module[entry.export];
  if (typeof run !== 'function')
    throw new ArrError(`target ${target}: src/targets/${entry.module}.ts exports no function ${entry.export}`);
  return run as TargetEntry;
}

/** Runs one target and returns its summary. */
export async function runTarget(target: string, ref: ExperimentRef, options: TargetOptions = {}): Promise<string> {
  if (!isTargetName(target) || !(RUNNABLE_TARGETS as string[]).includes(target)) {
    throw new ArrError(`unknown target ${target}; targets: ${RUNNABLE_TARGETS.join(', ')}`);
  }
  if (options.estimate && target !== 'rubric-generate')
    throw new ArrError('--estimate applies to rubric-generate only');
  let early = '';
  if (options.trainChecks && TARGET_REGISTRY[target].cached) {
    const { earlyTrainChecks } = await import('./train.js');
    early = `${await earlyTrainChecks(ref)}\n`;
  }
  const run = await loadTargetEntry(target);
  return early + (await run(ref, { ...options, target }));
}
