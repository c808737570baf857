// `arr judge`: evaluate a labelled dataset and build the report (schemas/judge-report.schema.json).
import type { DatasetItem } from '../data/types.js';
import { ProgressReporter } from '../report/progress.js';
import type { Experiment } from '../types/experiment.js';
import type { JudgeReport } from '../types/judge-report.js';
import { evaluate } from './evaluate.js';
import { gradeOptionsFor } from './grade.js';
import { findRubric } from './rubric-source.js';
import { openCheckedJudge } from './session.js';

export type { JudgeReport };

export interface RunJudgeOptions {
  experiment: Experiment;
  experimentName: string;
  workspaceRoot: string;
  items: DatasetItem[];
  datasetPath: string;
  rubricFlag?: string;
  /** Reads rubric.from or the frozen rubric, checked against its lock. */
  readRubric?: (file: string) => string;
  baseUrl?: string;
  concurrency?: number;
  bothOrders: boolean;
  noCache?: boolean;
  quiet?: boolean;
}

export async function runJudge(options: RunJudgeOptions): Promise<JudgeReport> {
  const started = new Date().toISOString();
  const rubric = findRubric(options.experiment, options.workspaceRoot, options.rubricFlag, options.readRubric);
  const warn = (m: string) => options.quiet || console.error(`warning: ${m}`);
  if (rubric.source === 'none' && !options.quiet)
    console.error('no rubric: judging directly, without rubric text (pass --rubric, set rubric.from, or freeze one)');
  const { client, encoder, provenance } = await openCheckedJudge(options.experiment, options.workspaceRoot, {
    baseUrl: options.baseUrl,
    concurrency: options.concurrency,
    warn,
  });
  const progress = new ProgressReporter('judge', process.stderr, options.quiet);
  const { summary, items } = await evaluate(
    options.items,
    gradeOptionsFor(options.experiment, {
      rubric: rubric.text,
      bothOrders: options.bothOrders,
      noCache: options.noCache,
    }),
    {
      client,
      encoder,
      onProgress: (p) =>
        progress.update({
          done: p.done,
          total: p.total,
          tokens: p.usage.promptTokens + p.usage.completionTokens,
          cost: p.usage.cost,
        }),
    },
  );
  const { text: _text, ...rubricInfo } = rubric;
  return {
    schema: 1,
    kind: 'judge-report',
    experiment: options.experimentName,
    dataset: options.datasetPath,
    task: options.experiment.task,
    mode: options.experiment.rubric.mode,
    model: options.experiment.judge.model,
    ...provenance,
    endpoints: client.settings.baseUrls,
    api_key_set: client.settings.apiKey !== undefined,
    both_orders: options.bothOrders,
    rubric: rubricInfo,
    started,
    finished: new Date().toISOString(),
    summary,
    usage: { ...client.usage },
    items,
  };
}
