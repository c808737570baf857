// `arr judge`: evaluate a labelled dataset and build the report (schemas/judge-report.schema.json).
import type { DatasetItem } from '../data/types.js';
import { ProgressReporter } from '../report/progress.js';
import type { Experiment } from '../types/experiment.js';
import type { JudgeReport } from '../types/judge-report.js';
import { evaluate } from './evaluate.js';
import { gradeOptionsFor } from './grade.js';
import { findRubric } from './rubric-source.js';
import { judgeProvenance, openJudge } from './session.js';

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

export async function runJudge(o: RunJudgeOptions): Promise<JudgeReport> {
  const started = new Date().toISOString();
  const rubric = findRubric(o.experiment, o.workspaceRoot, o.rubricFlag, o.readRubric);
  const warn = (m: string) => o.quiet || console.error(`warning: ${m}`);
  const session = openJudge(o.experiment, o.workspaceRoot, { baseUrl: o.baseUrl, concurrency: o.concurrency, warn });
  const { client, encoder } = session;
  if (rubric.source === 'none' && !o.quiet) console.error('no rubric: judging directly, without rubric text (pass --rubric, set rubric.from, or freeze one)');
  await client.preflight();
  const provenance = await judgeProvenance(session);
  const progress = new ProgressReporter('judge', process.stderr, o.quiet);
  const { summary, items } = await evaluate(
    o.items,
    gradeOptionsFor(o.experiment, { rubric: rubric.text, bothOrders: o.bothOrders, noCache: o.noCache }),
    { client, encoder, onProgress: (p) => progress.update({ done: p.done, total: p.total, tokens: p.usage.promptTokens + p.usage.completionTokens, cost: p.usage.cost }) },
  );
  const { text: _text, ...rubricInfo } = rubric;
  return {
    schema: 1,
    kind: 'judge-report',
    experiment: o.experimentName,
    dataset: o.datasetPath,
    task: o.experiment.task,
    mode: o.experiment.rubric.mode,
    model: o.experiment.judge.model,
    ...provenance,
    endpoints: client.settings.baseUrls,
    api_key_set: client.settings.apiKey !== undefined,
    both_orders: o.bothOrders,
    rubric: rubricInfo,
    started,
    finished: new Date().toISOString(),
    summary,
    usage: { ...client.usage },
    items,
  };
}
