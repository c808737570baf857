import type { Command } from 'commander';
import { runTarget, TARGETS } from '../targets/run.js';
import { collectSet, reportFailure, workspace } from './shared.js';

export function registerBuildCommand(program: Command): void {
  program
    .command('build')
    .description(`Build one target of an experiment outside Nx (${TARGETS.join(', ')}); the Nx executors call this.`)
    .argument('<target>', 'the target to build')
    .argument('<experiment>', 'project name (exp-flux) or manifest path')
    .option('--set <field=value>', 'override a field (repeatable)', collectSet, {})
    .action(async (target: string, ref: string, opts: { set: Record<string, unknown> }) => {
      try {
        console.log(await runTarget(target, { experiment: ref, workspaceRoot: workspace(), overrides: opts.set }));
      } catch (error) {
        reportFailure(error);
      }
    });
}
