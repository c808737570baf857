import type { ExecutorContext } from '@nx/devkit';
import { runEngineTarget, type EngineOptions } from '../run-engine';

export default function verify(options: EngineOptions, context: ExecutorContext) {
  return runEngineTarget('verify', options, context);
}
