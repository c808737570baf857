import type { Command } from 'commander';
import { launchTrain, TrainCheckError } from '../train/launch.js';
import { collectSet, reportFailure, workspace } from './shared.js';

/**
 * `arr train --experiment <exp> [--plan] [--allow-no-gpu]`: the same launch as the train-flux /
 * train-edit targets, outside Nx. Builds no upstream target; exits with the trainer's status.
 */
export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description('Launch ARR-RPO LoRA training for an experiment (what train-flux / train-edit run): checks, run directory, reward service, trainer. Exits with the trainer\'s status.')
    .requiredOption('--experiment <experiment>', 'project name (exp-flux) or manifest path')
    .option('--plan', 'print the command, flags, environment (no secrets) and the checks; launch nothing')
    .option('--allow-no-gpu', 'skip the nvidia-smi GPU check (also ARR_ALLOW_NO_GPU=1), e.g. for a stand-in trainer')
    .option('--set <field=value>', 'override a field (repeatable)', collectSet, {})
    .action(async (opts: { experiment: string; plan?: boolean; allowNoGpu?: boolean; set: Record<string, unknown> }) => {
      try {
        const result = await launchTrain(
          { experiment: opts.experiment, workspaceRoot: workspace(), overrides: opts.set },
          { planOnly: opts.plan, allowNoGpu: opts.allowNoGpu },
        );
        console.log(result.summary);
        process.exitCode = result.processExitCode;
      } catch (error) {
        reportFailure(error instanceof TrainCheckError ? new Error(error.message) : error);
      }
    });
}
