// Grading one item: encode its images, ask the judge (in both orders when asked), and say plainly
// whether the orders agree. A failed judgement is reported as failed, never as a default verdict.
import type { DatasetItem } from '../data/types.js';
import type { Experiment } from '../types/experiment.js';
import type { JudgeReport } from '../types/judge-report.js';
import { parseRankAnswer, parseScoreAnswer } from './answers.js';
import { JudgementError, type JudgeClient } from './client.js';
import type { EncodedImage, ImageEncoder } from './images/encoder.js';
import { ImageError } from './images/image-error.js';
import { gradingMessage, type Language, type Task } from './prompts.js';

export interface GradeOptions {
  task: Task;
  mode: 'pairwise' | 'listwise' | 'pointwise';
  language: Language;
  taskDescription: string;
  rubric: string | undefined;
  bothOrders: boolean;
  minScore: number;
  maxScore: number;
  noCache?: boolean;
}

/** What an experiment's manifest fixes about every grading prompt: task, mode, language, scale. */
export type GradeSettings = Pick<
  GradeOptions,
  'task' | 'mode' | 'language' | 'taskDescription' | 'minScore' | 'maxScore'
>;

/** The grading settings an experiment's manifest fixes (`task` and `rubric.*`). */
export function gradeSettingsOf(experiment: Experiment): GradeSettings {
  const r = experiment.rubric;
  return {
    task: experiment.task,
    mode: r.mode,
    language: r.language,
    taskDescription: r.task_description,
    minScore: r.min_score,
    maxScore: r.max_score,
  };
}

/**
 * Grade options for an experiment: its manifest's settings, then what the caller decides (the rubric
 * text, both orders or one, and any setting it overrides, as the doctor's fixed listwise check does).
 */
export function gradeOptionsFor(
  experiment: Experiment,
  choices: Pick<GradeOptions, 'rubric' | 'bothOrders'> & Partial<GradeOptions>,
): GradeOptions {
  return { ...gradeSettingsOf(experiment), ...choices };
}

/** One order's judgement: ranks aligned with the original candidate order (report schema). */
export type OrderVerdict = JudgeReport['items'][number]['orders'][number];

export interface Grade {
  /** `agree`: both orders gave the same ranks; `disagree`: they did not (no rank stands); `single`: one order judged. */
  verdict: 'single' | 'agree' | 'disagree' | 'failed';
  rank?: number[];
  score?: number;
  orders: OrderVerdict[];
}

export interface GradeDeps {
  client: JudgeClient;
  encoder: ImageEncoder;
}

export async function gradeItem(item: DatasetItem, options: GradeOptions, deps: GradeDeps): Promise<Grade> {
  const identity = item.candidates.map((_, i) => i);
  let base: EncodedImage | undefined;
  let encoded: EncodedImage[];
  try {
    [base, ...encoded] = (await Promise.all([
      item.source ? deps.encoder.encode(item.source) : Promise.resolve(undefined),
      ...item.candidates.map((c) => deps.encoder.encode(c)),
    ])) as EncodedImage[];
  } catch (error) {
    // An unreadable image fails this item (naming the file), not the whole run.
    if (!(error instanceof ImageError)) throw error;
    return { verdict: 'failed', orders: [{ order: identity, error: error.message }] };
  }
  const n = encoded.length;
  const pointwise = options.mode === 'pointwise';
  const orders = options.bothOrders && !pointwise && n > 1 ? [identity, [...identity].reverse()] : [identity];

  const verdicts = await Promise.all(
    orders.map(async (order): Promise<OrderVerdict> => {
      const blocks = gradingMessage({
        task: options.task,
        mode: pointwise ? 'pointwise' : 'listwise',
        language: options.language,
        query: item.query,
        taskDescription: options.taskDescription,
        rubric: options.rubric,
        base,
        candidates: order.map((i) => encoded[i]),
        minScore: options.minScore,
        maxScore: options.maxScore,
      });
      const request = {
        turns: [{ role: 'user' as const, content: blocks }],
        answer: pointwise
          ? { kind: 'score' as const, n, min: options.minScore, max: options.maxScore }
          : { kind: 'rank' as const, n },
      };
      try {
        if (pointwise) {
          const r = await deps.client.ask(
            request,
            (reply) => parseScoreAnswer(reply, options.minScore, options.maxScore),
            { noCache: options.noCache },
          );
          return { order, score: r.value.score, reason: r.value.reason, cached: r.cached };
        }
        const r = await deps.client.ask(request, (reply) => parseRankAnswer(reply, n), { noCache: options.noCache });
        // shown[k] = candidate order[k] got rank r.value.rank[k]; map back to the original order.
        const rank = new Array<number>(n);
        order.forEach((candidate, shownAt) => (rank[candidate] = r.value.rank[shownAt]));
        return { order, rank, reason: r.value.reason, cached: r.cached };
      } catch (error) {
        if (!(error instanceof JudgementError)) throw error;
        return { order, error: error.message, replies: error.replies };
      }
    }),
  );

  if (verdicts.some((v) => v.error)) return { verdict: 'failed', orders: verdicts };
  if (pointwise) return { verdict: 'single', score: verdicts[0].score, orders: verdicts };
  if (verdicts.length === 1) return { verdict: 'single', rank: verdicts[0].rank, orders: verdicts };
  const agree = JSON.stringify(verdicts[0].rank) === JSON.stringify(verdicts[1].rank);
  return agree
    ? { verdict: 'agree', rank: verdicts[0].rank, orders: verdicts }
    : { verdict: 'disagree', orders: verdicts };
}
