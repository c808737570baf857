import type { Command } from 'commander';
import { isAbsolute, relative } from 'node:path';
import { listRuns } from '../state/runs.js';
import { reportFailure, workspace } from './shared.js';
import { formatTable } from '../report/table.js';

const when = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-');
const seconds = (s: number | null) =>
  s === null ? '-' : s < 120 ? `${s.toFixed(1)}s` : s < 7200 ? `${(s / 60).toFixed(1)}m` : `${(s / 3600).toFixed(1)}h`;

export function registerRunsCommand(program: Command): void {
  program
    .command('runs')
    .description(
      'Training runs under cache/runs/: experiment, start, duration, status, exit code, the rubric used and the reward service’s final counters.',
    )
    .argument('[experiment]', 'only this experiment’s runs')
    .option('--json', 'print machine-readable JSON')
    .action(async (experiment: string | undefined, opts: { json?: boolean }) => {
      try {
        const ws = workspace();
        const runs = await listRuns(ws, experiment);
        if (opts.json) {
          console.log(JSON.stringify({ runs }, null, 2));
          return;
        }
        if (runs.length === 0) {
          console.log(`no training runs${experiment ? ` of ${experiment}` : ''} under cache/runs/`);
          return;
        }
        const rows = runs.map((r) => {
          const rubric = r.rubric?.file
            ? isAbsolute(r.rubric.file)
              ? relative(ws, r.rubric.file)
              : r.rubric.file
            : '-';
          const reward = r.reward
            ? `${r.reward.requests ?? '-'} req, ${r.reward.failures ?? '-'} failed, mean ${r.reward.mean_reward === null ? '-' : r.reward.mean_reward.toFixed(3)}`
            : '-';
          return [
            r.run_id,
            r.experiment ?? '-',
            when(r.started),
            seconds(r.duration_s),
            r.status,
            r.exit_code === null ? '-' : String(r.exit_code),
            rubric,
            reward,
          ];
        });
        const table = [
          ['run', 'experiment', 'started', 'duration', 'status', 'exit', 'rubric', 'reward service'],
          ...rows,
        ];
        console.log(formatTable(table));
        for (const r of runs) if (r.error) console.log(`${r.run_id}: ${r.error}`);
      } catch (error) {
        reportFailure(error, opts.json);
      }
    });
}
