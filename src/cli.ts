import { Command } from 'commander';
import { registerCommands } from './commands/index.js';

const program = new Command('arr')
  .description('Auto-Rubric as Reward: validate experiments, inspect their state, manage the artifact cache.')
  .showHelpAfterError()
  .exitOverride()
  .enablePositionalOptions();

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const code = (error as { exitCode?: number }).exitCode;
  if (typeof code === 'number') process.exit(code);
  console.error(`arr: ${(error as Error).message}`);
  process.exit(1);
}
