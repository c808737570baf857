import type { ExecutorContext } from '@nx/devkit';
import { runEngineTarget, type EngineOptions } from '../run-engine';

/** The one executor: every engine target runs through it, named by the `target` option. */
export default function runTarget(options: EngineOptions & { target: string }, context: ExecutorContext) {
  return runEngineTarget(options.target, options, context);
}
