import type { Command } from 'commander';
import { launchTrain, planJson, TrainCheckError } from '../train/launch.js';
import { collectSet, reportFailure, workspace } from './shared.js';

/**
 * `arr train --experiment <exp> [--plan] [--allow-no-gpu] [--json]`: the same launch as the train-flux /
 * train-edit targets, outside Nx. Builds no upstream target; exits with the trainer's status.
 */
export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description(
      "Launch ARR-RPO LoRA training for an experiment (what train-flux / train-edit run): checks, run directory, reward service, trainer. Exits with the trainer's status.",
    )
    .requiredOption('--experiment <experiment>', 'project name (exp-flux) or manifest path')
    .option(
      '--plan',
      'print the command, flags, environment (no secrets), which reward settings apply, and the checks; launch nothing',
    )
    .option('--allow-no-gpu', 'skip the nvidia-smi GPU check (also ARR_ALLOW_NO_GPU=1), e.g. for a stand-in trainer')
    .option('--set <field=value>', 'override a field (repeatable)', collectSet, {})
    .option('--json', 'print the plan (with --plan) or the run record as JSON on stdout; trainer output goes to stderr')
    .action(
      async (opts: {
        experiment: string;
        plan?: boolean;
        allowNoGpu?: boolean;
        json?: boolean;
        set: Record<string, unknown>;
      }) => {
        try {
          const result = await launchTrain(
            { experiment: opts.experiment, workspaceRoot: workspace(), overrides: opts.set },
            // With --json, stdout carries one JSON document: every other line goes to stderr.
            {
              planOnly: opts.plan,
              allowNoGpu: opts.allowNoGpu,
              ...(opts.json ? { log: (line: string) => console.error(line) } : {}),
            },
          );
          if (opts.json) {
            const body = opts.plan ? { plan: planJson(result.plan, result.checks) } : { run: result.record };
            console.log(
              JSON.stringify({ ok: result.processExitCode === 0, exit_code: result.processExitCode, ...body }, null, 2),
            );
          } else console.log(result.summary);
          process.exitCode = result.processExitCode;
        } catch (error) {
          if (opts.json && error instanceof TrainCheckError) {
            console.log(
              JSON.stringify(
                { ok: false, exit_code: 1, checks: error.checks, diagnostics: [{ message: error.message }] },
                null,
                2,
              ),
            );
            process.exitCode = 1;
            return;
          }
          reportFailure(error instanceof TrainCheckError ? new Error(error.message) : error, opts.json);
        }
      },
    );
}
