import type { Command } from 'commander';
import { slugPart } from '../manifest/matrix.js';
import { RUNNABLE_TARGETS } from '../targets/registry.js';
import { runTarget } from '../targets/run.js';
import { collectSetList, reportFailure, setCombinations, workspace } from './shared.js';

export function registerBuildCommand(program: Command): void {
  program
    .command('build')
    .description(
      `Build one target of an experiment outside Nx (${RUNNABLE_TARGETS.join(', ')}); the Nx executor calls this.`,
    )
    .argument('<target>', 'the target to build')
    .argument('<experiment>', 'project name (exp-flux) or manifest path')
    .option(
      '--set <field=value>',
      'override a field (repeatable); a field given more than once is swept: one build per combination',
      collectSetList,
      [],
    )
    .option('--estimate', 'rubric-generate: print the worst-case number of judge calls and stop before any call')
    .option('--no-cache', 'ask the judge again instead of using cached answers')
    .option(
      '--train-checks',
      'cached targets: first run the training pre-launch checks that need nothing built (Nx passes it when training is requested)',
    )
    .action(
      async (
        target: string,
        ref: string,
        opts: { set: [string, unknown][]; estimate?: boolean; cache: boolean; trainChecks?: boolean },
      ) => {
        const combos = setCombinations(opts.set);
        const swept = [...new Set(opts.set.map(([f]) => f))].filter(
          (f) => opts.set.filter(([g]) => g === f).length > 1,
        );
        let failed = 0;
        for (const overrides of combos) {
          // An ad-hoc matrix: each combination is an experiment of its own (`<name>--<slug>`: its own
          // outputs, stamps and frozen name), built one after the other.
          const sweepSlug = swept.length ? swept.map((f) => slugPart(String(overrides[f]))).join('--') : undefined;
          if (sweepSlug)
            console.log(`== ${sweepSlug} (${swept.map((f) => `${f}=${JSON.stringify(overrides[f])}`).join(', ')})`);
          try {
            const ref_ = { experiment: ref, workspaceRoot: workspace(), overrides, sweepSlug };
            console.log(
              await runTarget(target, ref_, {
                estimate: opts.estimate,
                noCache: !opts.cache,
                trainChecks: opts.trainChecks,
              }),
            );
          } catch (error) {
            failed++;
            reportFailure(error);
          }
        }
        if (combos.length > 1 && failed) console.error(`${failed} of ${combos.length} combinations failed`);
      },
    );
}
