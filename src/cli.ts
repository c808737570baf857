import { Command } from 'commander';
import { registerCommands } from './commands/index.js';
import { reportFailure } from './commands/shared.js';
import { ArrError } from './util/errors.js';

const program = new Command('arr')
  .description('Auto-Rubric as Reward: validate experiments, inspect their state, manage the artifact cache.')
  .showHelpAfterError()
  .exitOverride()
  .enablePositionalOptions();

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // commander's own exits (--help, usage errors) carry an exitCode and have already printed.
  if (!(error instanceof ArrError) && typeof (error as { exitCode?: unknown }).exitCode === 'number') {
    process.exit((error as { exitCode: number }).exitCode);
  }
  reportFailure(error);
  process.exit(process.exitCode ?? 1);
}
