import type { Command } from 'commander';
import { RUNNABLE_TARGETS } from '../targets/registry.js';
import { runTarget } from '../targets/run.js';
import { collectSet, reportFailure, workspace } from './shared.js';

export function registerBuildCommand(program: Command): void {
  program
    .command('build')
    .description(`Build one target of an experiment outside Nx (${RUNNABLE_TARGETS.join(', ')}); the Nx executors call this.`)
    .argument('<target>', 'the target to build')
    .argument('<experiment>', 'project name (exp-flux) or manifest path')
    .option('--set <field=value>', 'override a field (repeatable)', collectSet, {})
    .option('--estimate', 'rubric-generate: print the worst-case number of judge calls and stop before any call')
    .option('--no-cache', 'ask the judge again instead of using cached answers')
    .action(async (target: string, ref: string, opts: { set: Record<string, unknown>; estimate?: boolean; cache: boolean }) => {
      try {
        console.log(await runTarget(target, { experiment: ref, workspaceRoot: workspace(), overrides: opts.set }, { estimate: opts.estimate, noCache: !opts.cache }));
      } catch (error) {
        reportFailure(error);
      }
    });
}
