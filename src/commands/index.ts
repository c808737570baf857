import type { Command } from 'commander';

type Register = (program: Command) => void;

/** One module under src/commands/ and the top-level commands it registers. */
export interface CommandModule {
  commands: readonly string[];
  load(): Promise<Register>;
}

// Loaded only when asked for: judge, train and serve pull in openai, sharp and onnxruntime, which
// `arr --version` and `arr status` should not pay for. Listed in the order `arr --help` shows them.
export const COMMAND_MODULES: readonly CommandModule[] = [
  { commands: ['validate'], load: async () => (await import('./validate.js')).registerValidateCommand },
  { commands: ['show'], load: async () => (await import('./show.js')).registerShowCommand },
  { commands: ['status'], load: async () => (await import('./status.js')).registerStatusCommand },
  { commands: ['build'], load: async () => (await import('./build.js')).registerBuildCommand },
  { commands: ['cache'], load: async () => (await import('./cache.js')).registerCacheCommand },
  { commands: ['judge'], load: async () => (await import('./judge.js')).registerJudgeCommand },
  { commands: ['models'], load: async () => (await import('./models.js')).registerModelsCommand },
  { commands: ['new'], load: async () => (await import('./new.js')).registerNewCommand },
  { commands: ['hash-files'], load: async () => (await import('./hash-files.js')).registerHashFilesCommand },
  { commands: ['rubric', 'import'], load: async () => (await import('./rubric.js')).registerRubricCommands },
  { commands: ['train'], load: async () => (await import('./train.js')).registerTrainCommand },
  { commands: ['serve'], load: async () => (await import('./serve.js')).registerServeCommand },
  { commands: ['compare'], load: async () => (await import('./compare.js')).registerCompareCommand },
  { commands: ['diff'], load: async () => (await import('./diff.js')).registerDiffCommand },
  { commands: ['runs'], load: async () => (await import('./runs.js')).registerRunsCommand },
];

/**
 * Registers the `arr` subcommands. Given the command-line arguments, it loads only the module of the
 * command they name; with no known command (help, a typo) it loads every module so help and suggestions
 * see them all, and for a bare `--version` none.
 */
export async function registerCommands(program: Command, args: readonly string[] = []): Promise<void> {
  const named = args.find((a) => !a.startsWith('-'));
  if (named === undefined && args.some((a) => a === '--version' || a === '-V')) return;
  const chosen = COMMAND_MODULES.filter((m) => named !== undefined && m.commands.includes(named));
  for (const module of chosen.length > 0 ? chosen : COMMAND_MODULES) (await module.load())(program);
}
