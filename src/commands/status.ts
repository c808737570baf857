import type { Command } from 'commander';
import { experimentStatus } from '../targets/status.js';
import { collectSet, reportFailure, workspace } from './shared.js';

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('Show each cached target as fresh, stale or never built, and for stale ones which fields or files changed. Exits 0 whatever the state unless --check.')
    .argument('<experiment>', 'project name (exp-flux) or manifest path')
    .option('--check', 'exit 1 when any target is stale')
    .option('--set <field=value>', 'override a field (repeatable)', collectSet, {})
    .option('--json', 'print machine-readable JSON')
    .action(async (ref: string, opts: { check?: boolean; json?: boolean; set: Record<string, unknown> }) => {
      try {
        const status = await experimentStatus({ experiment: ref, workspaceRoot: workspace(), overrides: opts.set });
        if (opts.json) console.log(JSON.stringify(status, null, 2));
        else {
          console.log(`${status.experiment}`);
          for (const t of status.targets) {
            console.log(`  ${t.target.padEnd(16)} ${t.state.padEnd(12)} ${t.key.slice(0, 12)}`);
            for (const change of t.changes) console.log(`      ${change}`);
          }
        }
        if (opts.check && status.targets.some((t) => t.state === 'stale')) process.exitCode = 1;
      } catch (error) {
        reportFailure(error, opts.json);
      }
    });
}
