import type { Command } from 'commander';
import { registerBuildCommand } from './build.js';
import { registerCacheCommand } from './cache.js';
import { registerCompareCommand } from './compare.js';
import { registerDiffCommand } from './diff.js';
import { registerHashFilesCommand } from './hash-files.js';
import { registerJudgeCommand } from './judge.js';
import { registerNewCommand } from './new.js';
import { registerRubricCommands } from './rubric.js';
import { registerRunsCommand } from './runs.js';
import { registerServeCommand } from './serve.js';
import { registerShowCommand } from './show.js';
import { registerStatusCommand } from './status.js';
import { registerTrainCommand } from './train.js';
import { registerValidateCommand } from './validate.js';

/** Every `arr` subcommand registers itself here; one module per command under src/commands/. */
export function registerCommands(program: Command): void {
  registerValidateCommand(program);
  registerShowCommand(program);
  registerStatusCommand(program);
  registerBuildCommand(program);
  registerCacheCommand(program);
  registerJudgeCommand(program);
  registerNewCommand(program);
  registerHashFilesCommand(program);
  registerRubricCommands(program);
  registerTrainCommand(program);
  registerServeCommand(program);
  registerCompareCommand(program);
  registerDiffCommand(program);
  registerRunsCommand(program);
}
