import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { findRubric } from '../judge/rubric-source.js';
import { openJudge } from '../judge/session.js';
import { assertSafeBind } from '../reward/limits.js';
import { startRewardService } from '../reward/service.js';
import { loadValidExperiment } from '../manifest/valid.js';
import { readLockedRubric } from '../rubric/locked.js';
import { ArrError } from '../util/errors.js';
import { reportFailure, workspace } from './shared.js';

interface ServeFlags {
  experiment: string;
  port?: number;
  bind?: string;
  token?: string;
  baseUrl?: string;
  allowUnlocked?: boolean;
}

/** `arr serve`: the reward service trainers call (docs/training.md), until SIGINT/SIGTERM. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      "Serve rubric rewards over HTTP for trainers (POST /v1/rewards), judged with the experiment's frozen rubric.",
    )
    .requiredOption('--experiment <experiment>', 'project name (exp-flux) or manifest path')
    .option('--port <n>', 'port (default reward.port; 0 picks a free one)', (v) => Number.parseInt(v, 10))
    .option('--bind <addr>', 'listen address (default reward.bind, 127.0.0.1)')
    .option(
      '--token <token>',
      'bearer token clients must send (default ARR_REWARD_TOKEN, else a random one printed once)',
    )
    .option('--base-url <url>', 'judge endpoint(s), comma-separated; beats judge.base_url')
    .option(
      '--allow-unlocked',
      'serve a rubric that has no lock beside it (a rubric whose lock does not match is refused regardless)',
    )
    .action(async (flags: ServeFlags) => {
      try {
        const ws = workspace();
        const loaded = await loadValidExperiment(
          { experiment: flags.experiment, workspaceRoot: ws },
          { checkData: false },
        );
        const experiment = loaded.experiment;
        // The rubric must match its lock: the service refuses to start on a tampered or unlocked one.
        const allowUnlocked = Boolean(flags.allowUnlocked) || experiment.rubric.allow_unlocked;
        const rubric = findRubric(
          experiment,
          ws,
          undefined,
          (file) =>
            readLockedRubric(file, ws, { allowUnlocked, optIn: '--allow-unlocked (or rubric.allow_unlocked: true)' })
              .text,
        );
        if (rubric.source === 'none' || !rubric.text) {
          throw new ArrError(
            `${loaded.name} has no frozen rubric (no rubric.from, no rubrics/${experiment.freeze.name}.v${experiment.freeze.version}.txt); build one with: npx nx run ${loaded.name}:freeze`,
          );
        }
        const token = flags.token || process.env.ARR_REWARD_TOKEN || randomBytes(32).toString('hex');
        assertSafeBind(flags.bind ?? experiment.reward.bind, token);
        const warn = (m: string) => console.error(`warning: ${m}`);
        const judge = openJudge(experiment, ws, { baseUrl: flags.baseUrl, warn });
        await judge.client.preflight();
        const service = await startRewardService({
          experiment,
          workspaceRoot: ws,
          rubric: rubric.text,
          token,
          bind: flags.bind,
          port: flags.port,
          judge,
          log: (line) => console.error(line),
        });
        console.log(
          `reward service for ${loaded.name} at ${service.url} (rubric ${rubric.path}${allowUnlocked ? '' : ', lock checked'}, judge ${experiment.judge.model})`,
        );
        console.log(`ARR_REWARD_URL=${service.url}`);
        if (!flags.token && !process.env.ARR_REWARD_TOKEN) console.log(`ARR_REWARD_TOKEN=${token}`);
        await new Promise<void>((resolve) => {
          const stop = (signal: string) => {
            console.error(`${signal}: stopping the reward service`);
            resolve();
          };
          process.once('SIGINT', () => stop('SIGINT'));
          process.once('SIGTERM', () => stop('SIGTERM'));
        });
        const s = service.stats();
        await service.close();
        console.error(
          `served ${s.requests} requests, ${s.items} items, ${s.chat.completions} chat completions; ${s.failures + s.chat.failures} failed, ${s.disconnects + s.chat.disconnects} disconnected, refused ${Object.values(s.refused).reduce((a, b) => a + b, 0)}; judge calls ${s.judge.calls} (${s.judge.cached} cached)`,
        );
      } catch (error) {
        reportFailure(error);
      }
    });
}
