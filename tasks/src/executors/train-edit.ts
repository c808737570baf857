import type { ExecutorContext } from '@nx/devkit';
import { runEngineTarget, type EngineOptions } from '../run-engine';

export default function train_edit(options: EngineOptions, context: ExecutorContext) {
  return runEngineTarget('train-edit', options, context);
}
