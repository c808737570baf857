// Why a verify failed and what to do about it, read from the report's own numbers. Each rule names one
// cause a user can act on; several can hold at once (a position-biased judge also gains nothing).
import type { VerifyReport } from '../types/verify-report.js';

export type VerifyCause = 'position-bias' | 'no-gain' | 'too-few-pairs' | 'endpoint-failures';

export interface VerifyDiagnosis {
  cause: VerifyCause;
  /** What the numbers show, in one sentence. */
  finding: string;
  /** What to try, most useful first. */
  actions: string[];
}

/** Order agreement below this means the verdict depends on which image is shown first. */
export const LOW_AGREEMENT = 0.7;
/** A share of failed judgements above this points at the endpoint, not the rubric. */
export const MANY_FAILURES = 0.1;

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const Z = 1.959964;

/** Wilson 95% interval of a rate p measured on n items (as the verify report computes it). */
export function wilsonAt(p: number, n: number): [number, number] {
  const denom = 1 + (Z * Z) / n;
  const centre = (p + (Z * Z) / (2 * n)) / denom;
  const half = (Z * Math.sqrt((p * (1 - p)) / n + (Z * Z) / (4 * n * n))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/**
 * The number of test pairs at which the 95% interval around `accuracy` would no longer contain
 * `threshold`, so the check would be decided either way; null when the accuracy equals the threshold.
 */
export function pairsToDecide(accuracy: number, threshold: number, limit = 1_000_000): number | null {
  if (Math.abs(accuracy - threshold) < 1e-9) return null;
  const decided = (n: number) => {
    const [lo, hi] = wilsonAt(accuracy, n);
    return accuracy > threshold ? lo > threshold : hi < threshold;
  };
  if (!decided(limit)) return null;
  let lo = 1;
  let hi = limit;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (decided(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

type Diagnosable = Pick<
  VerifyReport,
  'with_rubric' | 'baseline' | 'gain' | 'both_orders' | 'thresholds' | 'passed' | 'experiment'
>;

/** The causes the report's numbers point at; empty when it passed or nothing stands out. */
export function diagnoseVerify(report: Diagnosable): VerifyDiagnosis[] {
  if (report.passed) return [];
  const s = report.with_rubric.summary;
  const out: VerifyDiagnosis[] = [];
  const exp = report.experiment;
  const failedShare = s.total ? s.failures / s.total : 0;
  if (s.failures > 0 && failedShare > MANY_FAILURES) {
    out.push({
      cause: 'endpoint-failures',
      finding: `${s.failures} of ${s.total} judgements failed (${pct(failedShare)}): errors or unusable answers from the endpoint, not verdicts about the rubric`,
      actions: [
        `check the judge endpoint with \`arr judge doctor --experiment ${exp}\` (it answers, takes several images, returns parseable JSON)`,
        'look at the failed items in report.html for the raw replies and errors',
        'lower judge.concurrency or raise judge.timeout_s / judge.retries if the endpoint is overloaded; then rebuild verify',
      ],
    });
  }
  if (s.agreement !== null && s.agreement < Math.max(LOW_AGREEMENT, report.thresholds.min_agreement)) {
    out.push({
      cause: 'position-bias',
      finding: `the judge gave the same verdict in both orders for only ${pct(s.agreement)} of pairs (${s.disagreements} disagreed): its answer follows the position of an image more than the image, i.e. position bias`,
      actions: [
        `run \`arr judge doctor --experiment ${exp}\` to measure the bias on a few pairs`,
        'keep verify.both_orders: true so a biased verdict never counts as correct',
        'try a stronger judge (judge.model), or one without thinking switched on or off as its provider recommends',
      ],
    });
  }
  // With the orders mostly disagreeing, neither arm measured the rubric: "no gain" would mislead.
  const biasDominates = s.agreement !== null && s.agreement < 0.3;
  if (report.gain !== null && report.gain <= 0 && !biasDominates) {
    out.push({
      cause: 'no-gain',
      finding: `the rubric does not help: accuracy ${pct(s.accuracy)} with it against ${pct(report.baseline!.summary.accuracy)} without (gain ${(report.gain * 100).toFixed(1)} points)`,
      actions: [
        'add seed pairs (rubric.seed), more of them and more varied ones, so the criteria cover what the test pairs differ in',
        'try another rubric.per_pair (more criteria per pair, or fewer and sharper ones)',
      ],
    });
  }
  const threshold = report.thresholds.min_accuracy;
  const [lo, hi] = s.ci95;
  if (s.judged > 0 && lo < threshold && hi >= threshold) {
    const needed = pairsToDecide(s.accuracy, threshold);
    out.push({
      cause: 'too-few-pairs',
      finding: `the 95% interval of the accuracy (${pct(lo)}–${pct(hi)}) contains the threshold ${pct(threshold)}: ${s.judged} test pair(s) cannot tell whether the rubric meets it`,
      actions: [
        needed === null
          ? `the observed accuracy equals the threshold, so no number of pairs decides it at this accuracy; improve the rubric or revisit verify.min_accuracy`
          : `add test pairs to verify.test: at the observed accuracy ${pct(s.accuracy)}, about ${needed} pairs would make the check decisive (${needed > s.judged ? `${needed - s.judged} more` : 'already enough'})`,
      ],
    });
  }
  return out;
}

/** The diagnosis as indented text lines for a command's message. */
export function describeDiagnosis(diagnoses: VerifyDiagnosis[]): string[] {
  const lines: string[] = [];
  for (const d of diagnoses) {
    lines.push(`  why (${d.cause}): ${d.finding}`);
    for (const a of d.actions) lines.push(`    - ${a}`);
  }
  return lines;
}
