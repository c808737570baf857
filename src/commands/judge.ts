import type { Command } from 'commander';
import { resolve, relative } from 'node:path';
import { loadDataset } from '../data/load-dataset.js';
import { InvalidInputError, isError } from '../diagnostics.js';
import { datasetOptionsFor } from '../manifest/dataset-options.js';
import { runJudge, type JudgeReport } from '../judge/run.js';
import { runDoctor } from '../judge/doctor.js';
import { loadValidExperiment } from '../manifest/valid.js';
import { writeJsonAtomic } from '../store/atomic.js';
import { reportFailure, workspace } from './shared.js';
import { readLockedRubric } from '../rubric/locked.js';

interface JudgeFlags {
  experiment: string;
  dataset: string;
  rubric?: string;
  baseUrl?: string;
  concurrency?: number;
  bothOrders?: boolean;
  out?: string;
  json?: boolean;
  cache: boolean;
  maxFailures: number;
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export function printSummary(report: JudgeReport, log: (line: string) => void = console.log): void {
  const s = report.summary;
  log('------------------------------');
  log(`Task:        ${report.task}`);
  log(`Mode:        ${report.mode}`);
  log(
    `Rubric:      ${report.rubric.source === 'none' ? 'none (direct judging)' : `${report.rubric.source} ${report.rubric.path ?? ''}`}`,
  );
  log(`Total Tests: ${s.total}`);
  log(`Correct:     ${s.correct}`);
  log(`Accuracy:    ${pct(s.accuracy)} (95% CI ${pct(s.ci95[0])}–${pct(s.ci95[1])})`);
  log(
    `Agreement:   ${s.agreement === null ? 'n/a (one order judged)' : `${pct(s.agreement)} of items agree when the order is swapped (${s.disagreements} disagree)`}`,
  );
  log(`Failures:    ${s.failures}${s.stoppedBy ? `; stopped early: ${s.stoppedBy}` : ''}`);
  log(
    `Judge calls: ${report.usage.calls} (${report.usage.cached} cached, ${report.usage.retries} retries, ${report.usage.reasks} re-asks), ${report.usage.promptTokens + report.usage.completionTokens} tokens${report.usage.cost !== null ? `, cost ${report.usage.cost.toFixed(4)}` : ''}`,
  );
  log('------------------------------');
}

export function registerJudgeCommand(program: Command): void {
  const judge = program
    .command('judge')
    .enablePositionalOptions()
    .description(
      "Judge a labelled dataset with an experiment's judge (and rubric), as the reference CLI evaluates: accuracy, 95% interval, order agreement, failures.",
    )
    // Checked in the action: commander would demand a parent's required options from `judge doctor` too.
    .option('--experiment <experiment>', 'project name (exp-flux) or manifest path (required)')
    .option('--dataset <file>', 'labelled pairs (.jsonl, .json, .yaml) (required)')
    .option('--rubric <file>', 'rubric text (default: rubric.from, else the frozen rubric, else none)')
    .option('--base-url <url>', 'judge endpoint(s), comma-separated; beats judge.base_url')
    .option('--concurrency <n>', 'judge calls in flight', (v) => Number.parseInt(v, 10))
    .option('--both-orders', 'judge each item in both candidate orders and report agreement')
    .option('--out <report.json>', 'write the full report (summary and every item)')
    .option('--no-cache', 'ignore the judge response cache')
    .option(
      '--max-failures <n>',
      'judgements that may fail before the command exits 1',
      (v) => Number.parseInt(v, 10),
      0,
    )
    .option('--json', 'print the report as JSON')
    .action(async (flags: JudgeFlags) => {
      try {
        if (!flags.experiment || !flags.dataset)
          throw new Error(
            'arr judge needs --experiment <experiment> and --dataset <file> (or: arr judge doctor --experiment <experiment>)',
          );
        const ws = workspace();
        const loaded = await loadValidExperiment(
          { experiment: flags.experiment, workspaceRoot: ws },
          { checkData: false },
        );
        const experiment = loaded.experiment;
        const dataset = resolve(flags.dataset);
        const data = await loadDataset(dataset, datasetOptionsFor(experiment, ws));
        if (data.diagnostics.some(isError)) throw new InvalidInputError(data.diagnostics.filter(isError));
        const report = await runJudge({
          experiment,
          experimentName: loaded.name,
          workspaceRoot: ws,
          items: data.items,
          datasetPath: relative(ws, dataset) || dataset,
          rubricFlag: flags.rubric ? resolve(flags.rubric) : undefined,
          readRubric: (file) => readLockedRubric(file, ws, { allowUnlocked: experiment.rubric.allow_unlocked }).text,
          baseUrl: flags.baseUrl,
          concurrency: flags.concurrency,
          bothOrders: flags.bothOrders ?? false,
          noCache: !flags.cache,
          quiet: Boolean(flags.json),
        });
        if (flags.out) await writeJsonAtomic(resolve(flags.out), report);
        if (flags.json) console.log(JSON.stringify(report, null, 2));
        else printSummary(report);
        // The report is written either way, but an outage is not a result: the exit status says so.
        const { failures, total } = report.summary;
        if (failures > flags.maxFailures) {
          process.exitCode = 1;
          console.error(
            `arr judge: ${failures} of ${total} judgements failed (more than --max-failures ${flags.maxFailures}); each is listed with its reason in the report`,
          );
        }
      } catch (error) {
        reportFailure(error, flags.json);
      }
    });

  judge
    .command('doctor')
    .description(
      'Check a judge before spending on it: the endpoint answers, takes several images in one request, returns parseable JSON, and its verdicts survive swapping the order.',
    )
    .requiredOption('--experiment <experiment>', 'project name (exp-flux) or manifest path')
    .option('--base-url <url>', 'judge endpoint(s), comma-separated')
    .option('--pairs <n>', 'example pairs to judge in both orders', (v) => Number.parseInt(v, 10), 4)
    .option('--json', 'print the checks as JSON')
    .action(
      async (flags: { experiment: string; baseUrl?: string; pairs: number; json?: boolean }, command: Command) => {
        try {
          const ws = workspace();
          const baseUrl = flags.baseUrl ?? command.parent?.opts().baseUrl;
          const loaded = await loadValidExperiment(
            { experiment: flags.experiment, workspaceRoot: ws },
            { checkData: false },
          );
          const result = await runDoctor({
            experiment: loaded.experiment,
            workspaceRoot: ws,
            baseUrl,
            pairs: flags.pairs,
          });
          if (flags.json) console.log(JSON.stringify(result, null, 2));
          else {
            for (const check of result.checks) {
              console.log(`${check.ok ? '✓' : '✗'} ${check.name}: ${check.detail}`);
              if (!check.ok && check.advice) console.log(`    → ${check.advice}`);
            }
            console.log(
              result.ok ? 'the judge is usable' : 'fix the failed checks before building rubrics with this judge',
            );
          }
          process.exitCode = result.ok ? 0 : 1;
        } catch (error) {
          reportFailure(error, flags.json);
        }
      },
    );
}
