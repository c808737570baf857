import type { ExecutorContext } from '@nx/devkit';
import { runEngineTarget, type EngineOptions } from '../run-engine';

export default function preprocess(options: EngineOptions, context: ExecutorContext) {
  return runEngineTarget('preprocess', options, context);
}
