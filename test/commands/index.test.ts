// The lazy command table must name exactly the commands each module registers, or `arr <cmd>` would load
// the wrong module (or none) and report an unknown command.
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_MODULES, registerCommands } from '../../src/commands/index.js';

const names = (program: Command) => program.commands.map((c) => c.name());

describe('registerCommands', () => {
  it('lists, for every module, the top-level commands it really registers', async () => {
    for (const module of COMMAND_MODULES) {
      const program = new Command('arr');
      (await module.load())(program);
      expect(names(program).sort(), module.commands.join(', ')).toEqual([...module.commands].sort());
    }
  });

  it('loads only the named command, all of them without one, and none for --version', async () => {
    const only = new Command('arr');
    await registerCommands(only, ['import', 'config.yaml', '--name', 'x']);
    expect(names(only)).toEqual(['rubric', 'import']);

    const all = new Command('arr');
    await registerCommands(all, ['--help']);
    expect(names(all)).toEqual(COMMAND_MODULES.flatMap((m) => m.commands));

    const typo = new Command('arr');
    await registerCommands(typo, ['stauts']);
    expect(names(typo)).toHaveLength(names(all).length);

    const version = new Command('arr');
    await registerCommands(version, ['--version']);
    expect(names(version)).toEqual([]);
  });
});
