import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { registerCommands } from './commands/index.js';
import { ArrError } from './util/errors.js';

const program = new Command('arr')
  .description('Auto-Rubric as Reward: validate experiments, inspect their state, manage the artifact cache.')
  .showHelpAfterError()
  .exitOverride()
  .enablePositionalOptions();
// src/cli.ts and its compiled dist/cli.js both sit one folder below package.json.
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
program.version(version, '-V, --version', 'print the arr version');

await registerCommands(program, process.argv.slice(2));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // commander's own exits (--help, usage errors) carry an exitCode and have already printed.
  if (!(error instanceof ArrError) && typeof (error as { exitCode?: unknown }).exitCode === 'number') {
    process.exit((error as { exitCode: number }).exitCode);
  }
  // Imported here so a plain `arr --version` does not load the YAML parser the error printer uses.
  const { reportFailure } = await import('./commands/shared.js');
  reportFailure(error);
  process.exit(process.exitCode ?? 1);
}
