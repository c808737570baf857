/* Generated from schemas/verify-report.schema.json by scripts/gen.ts (npm run gen). Do not edit by hand. */

import type { JudgeItem, JudgeSummary, JudgeUsage } from './judge-report.js';

/**
 * What the verify target writes (report.json): the rubric judged on held-out pairs, the direct-judge baseline, the gain and the thresholds in force. Kept even when a threshold is missed.
 */
export interface VerifyReport {
  /**
   * Report format version.
   */
  schema: 1;
  /**
   * Always verify-report.
   */
  kind: "verify-report";
  /**
   * Experiment that built the report (the artifact may be shared).
   */
  experiment: string;
  /**
   * The verify artifact key.
   */
  key: string;
  /**
   * Task.
   */
  task: "t2i" | "edit";
  /**
   * Judging mode.
   */
  mode: "pairwise" | "listwise" | "pointwise";
  /**
   * Judge model id.
   */
  model: string;
  /**
   * Where the judge ran: an OpenAI-compatible endpoint, or in-process on llama.cpp.
   */
  backend?: "http" | "local";
  /**
   * The local judge's GGUF files (model, then projector); absent for an endpoint.
   */
  model_files?: {
    /**
     * File name.
     */
    name: string;
    /**
     * Content hash (what stands for the model in keys).
     */
    sha256: string;
  }[];
  /**
   * The held-out dataset, workspace-relative.
   */
  test: string;
  /**
   * Whether each pair was judged in both orders (a disagreement counts as not correct).
   */
  both_orders: boolean;
  /**
   * The rubric under test.
   */
  rubric: {
    /**
     * sha256 of the rubric text.
     */
    sha256: string;
    /**
     * The rubric text.
     */
    text: string;
    /**
     * Where it came from: the rubric-generate artifact key or the frozen file.
     */
    source: string;
  };
  with_rubric: Evaluation;
  /**
   * The same pairs judged without the rubric (verify.baseline), or null.
   */
  baseline: null | Evaluation;
  /**
   * Accuracy with the rubric minus the baseline's; null without a baseline.
   */
  gain: number | null;
  /**
   * The thresholds in force when the report was checked (not part of the key).
   */
  thresholds: {
    /**
     * verify.min_accuracy
     */
    min_accuracy: number;
    /**
     * verify.min_agreement
     */
    min_agreement: number;
    /**
     * verify.min_gain
     */
    min_gain: number;
  };
  /**
   * Each threshold against its measured value.
   */
  checks: {
    /**
     * The threshold's field, e.g. verify.min_accuracy.
     */
    name: string;
    /**
     * The measured value (null when not measured).
     */
    value: number | null;
    /**
     * The required minimum.
     */
    threshold: number;
    /**
     * Whether the value meets the threshold.
     */
    passed: boolean;
  }[];
  /**
   * Whether every check passed.
   */
  passed: boolean;
  /**
   * When a check failed: the causes the numbers point at (position bias, no gain, too few test pairs, endpoint failures) and what to do about each.
   */
  diagnosis?: {
    /**
     * The cause, as a stable name.
     */
    cause: "position-bias" | "no-gain" | "too-few-pairs" | "endpoint-failures";
    /**
     * What the numbers show.
     */
    finding: string;
    /**
     * What to try, most useful first.
     */
    actions: string[];
  }[];
  usage: JudgeUsage;
  /**
   * Start time.
   */
  started: string;
  /**
   * End time.
   */
  finished: string;
}
/**
 * One judging pass over the test pairs.
 */
export interface Evaluation {
  summary: JudgeSummary;
  /**
   * Every item, in dataset order.
   */
  items: JudgeItem[];
}
