import type { ExecutorContext } from '@nx/devkit';
import { runEngineTarget, type EngineOptions } from '../run-engine';

export default function resolve(options: EngineOptions, context: ExecutorContext) {
  return runEngineTarget('resolve', options, context);
}
