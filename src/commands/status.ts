import type { Command } from 'commander';
import { describeState, experimentStatus, FAILING_STATES } from '../targets/status.js';
import { collectSet, reportFailure, workspace } from './shared.js';

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description(
      'Show each cached target as fresh, stale, missing, corrupt or never built, and why. Exits 0 whatever the state unless --check.',
    )
    .argument('<experiment>', 'project name (exp-flux) or manifest path')
    .option('--check', 'exit 1 when any target is stale, missing or corrupt')
    .option('--set <field=value>', 'override a field (repeatable)', collectSet, {})
    .option('--json', 'print machine-readable JSON')
    .action(async (ref: string, opts: { check?: boolean; json?: boolean; set: Record<string, unknown> }) => {
      try {
        const status = await experimentStatus({ experiment: ref, workspaceRoot: workspace(), overrides: opts.set });
        if (opts.json) console.log(JSON.stringify(status, null, 2));
        else {
          console.log(`${status.experiment}`);
          const states = status.targets.map((t) => describeState(t, status.experiment));
          const width = Math.max(12, ...states.map((s) => s.length));
          for (const [i, t] of status.targets.entries()) {
            console.log(`  ${t.target.padEnd(16)} ${states[i].padEnd(width)} ${t.key.slice(0, 12)}`);
            for (const change of t.changes) console.log(`      ${change}`);
          }
        }
        if (opts.check && status.targets.some((t) => FAILING_STATES.includes(t.state))) process.exitCode = 1;
      } catch (error) {
        reportFailure(error, opts.json);
      }
    });
}
