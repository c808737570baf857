import type { Command } from 'commander';
import { registerBuildCommand } from './build.js';
import { registerCacheCommand } from './cache.js';
import { registerHashFilesCommand } from './hash-files.js';
import { registerJudgeCommand } from './judge.js';
import { registerModelsCommand } from './models.js';
import { registerNewCommand } from './new.js';
import { registerRubricCommands } from './rubric.js';
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
  registerModelsCommand(program);
  registerNewCommand(program);
  registerHashFilesCommand(program);
  registerRubricCommands(program);
  registerTrainCommand(program);
  registerServeCommand(program);
}
