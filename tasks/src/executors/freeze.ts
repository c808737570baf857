import type { ExecutorContext } from '@nx/devkit';
import { runEngineTarget, type EngineOptions } from '../run-engine';

export default function freeze(options: EngineOptions, context: ExecutorContext) {
  return runEngineTarget('freeze', options, context);
}
