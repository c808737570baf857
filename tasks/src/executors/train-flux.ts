import type { ExecutorContext } from '@nx/devkit';
import { runEngineTarget, type EngineOptions } from '../run-engine';

export default function train_flux(options: EngineOptions, context: ExecutorContext) {
  return runEngineTarget('train-flux', options, context);
}
