// Judging a labelled dataset: accuracy with a 95% interval, order agreement and failures, per item.
import type { DatasetItem } from '../data/types.js';
import type { JudgeReport } from '../types/judge-report.js';
import { BudgetExceededError, type JudgeClient, type Usage } from './client.js';
import { gradeItem, type Grade, type GradeOptions } from './grade.js';
import type { ImageEncoder } from './images/encoder.js';

// The report's shapes come from schemas/judge-report.schema.json.
export type ItemResult = JudgeReport['items'][number];
export type EvaluationSummary = JudgeReport['summary'];

export interface Progress {
  done: number;
  total: number;
  usage: Usage;
}

/** Wilson score interval: honest at small n and near 0 or 1, unlike the normal approximation. */
export function wilson(correct: number, n: number, z = 1.959964): [number, number] {
  if (n === 0) return [0, 0];
  const p = correct / n;
  const denom = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

const labelOf = (item: DatasetItem): ItemResult['label'] =>
  item.label ? ('score' in item.label ? { score: item.label.score } : { rank: item.label.rank }) : {};

function isCorrect(item: DatasetItem, grade: Grade): boolean {
  const label = item.label;
  if (!label) return false;
  if ('score' in label) return grade.score !== undefined && Math.round(grade.score) === Math.round(label.score);
  return grade.rank !== undefined && JSON.stringify(grade.rank) === JSON.stringify(label.rank);
}

export async function evaluate(
  items: DatasetItem[],
  options: GradeOptions,
  deps: { client: JudgeClient; encoder: ImageEncoder; onProgress?: (p: Progress) => void },
): Promise<{ summary: EvaluationSummary; items: ItemResult[] }> {
  const results: ItemResult[] = new Array(items.length);
  let stoppedBy: string | null = null;
  let done = 0;
  let nextIndex = 0;
  // Enough items in flight to keep every judge slot busy (two orders each), without holding them all.
  const workers = Math.max(1, deps.client.settings.concurrency);
  const work = async () => {
    while (nextIndex < items.length && !stoppedBy) {
      const i = nextIndex++;
      const item = items[i];
      const label = labelOf(item);
      try {
        const grade = await gradeItem(item, options, deps);
        results[i] = {
          index: item.index,
          query: item.query,
          label,
          predicted: grade.rank ? { rank: grade.rank } : grade.score !== undefined ? { score: grade.score } : null,
          correct: isCorrect(item, grade),
          verdict: grade.verdict,
          orders: grade.orders,
        };
      } catch (error) {
        if (!(error instanceof BudgetExceededError)) throw error;
        stoppedBy = error.message;
      }
      done++;
      deps.onProgress?.({ done, total: items.length, usage: deps.client.usage });
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, items.length) }, work));

  const judged = results.filter(Boolean);
  const all = items.map(
    (item, i) =>
      results[i] ?? {
        index: item.index,
        query: item.query,
        label: labelOf(item),
        predicted: null,
        correct: false,
        verdict: 'skipped' as const,
        orders: [],
      },
  );
  const correct = judged.filter((r) => r.correct).length;
  const twoOrder = judged.filter((r) => r.verdict === 'agree' || r.verdict === 'disagree');
  const disagreements = judged.filter((r) => r.verdict === 'disagree').length;
  return {
    summary: {
      total: items.length,
      judged: judged.length,
      correct,
      // Failures and disagreements count as wrong; the denominator is every item judged.
      accuracy: judged.length ? correct / judged.length : 0,
      ci95: wilson(correct, judged.length),
      agreement: twoOrder.length ? (twoOrder.length - disagreements) / twoOrder.length : null,
      disagreements,
      failures: judged.filter((r) => r.verdict === 'failed').length,
      stoppedBy,
    },
    items: all,
  };
}
