import type { ExecutorContext } from '@nx/devkit';
import { runEngineTarget, type EngineOptions } from '../run-engine';

export default function rubric_generate(options: EngineOptions, context: ExecutorContext) {
  return runEngineTarget('rubric-generate', options, context);
}
