/* Generated from schemas/judge-report.schema.json by scripts/gen.ts (npm run gen). Do not edit by hand. */

/**
 * What `arr judge --out` writes: the run's settings, a summary, token usage and every item's verdicts. Never holds an API key, only whether one was set.
 */
export interface JudgeReport {
  /**
   * Report format version.
   */
  schema: 1;
  /**
   * Always judge-report.
   */
  kind: "judge-report";
  /**
   * Experiment name.
   */
  experiment: string;
  /**
   * The judged dataset, workspace-relative when inside it.
   */
  dataset: string;
  /**
   * Task of the experiment.
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
   * Judge endpoints used.
   */
  endpoints: string[];
  /**
   * Whether an API key was sent (its value is never recorded).
   */
  api_key_set: boolean;
  /**
   * Whether every item was judged in both candidate orders.
   */
  both_orders: boolean;
  /**
   * Which rubric conditioned the judge.
   */
  rubric: {
    /**
     * Where the rubric came from; none means direct judging.
     */
    source: "flag" | "rubric.from" | "frozen" | "none";
    /**
     * Rubric file.
     */
    path: string | null;
    /**
     * sha256 of the rubric text.
     */
    sha256: string | null;
  };
  /**
   * Start time.
   */
  started: string;
  /**
   * End time.
   */
  finished: string;
  summary: JudgeSummary;
  usage: JudgeUsage;
  /**
   * Every item, in dataset order.
   */
  items: JudgeItem[];
}
/**
 * Accuracy over the judged items; failures and disagreements count as not correct.
 */
export interface JudgeSummary {
  /**
   * Items in the dataset.
   */
  total: number;
  /**
   * Items judged (fewer when a budget stopped the run).
   */
  judged: number;
  /**
   * Items whose verdict matches the label.
   */
  correct: number;
  /**
   * correct / judged.
   */
  accuracy: number;
  /**
   * Wilson 95% interval of the accuracy.
   *
   * @minItems 2
   * @maxItems 2
   */
  ci95: [number, number];
  /**
   * Share of two-order items whose orders agreed; null with one order.
   */
  agreement: number | null;
  /**
   * Items whose two orders disagreed.
   */
  disagreements: number;
  /**
   * Items whose judgement failed (errors, invalid answers after re-asks).
   */
  failures: number;
  /**
   * The budget that stopped the run early, if any.
   */
  stoppedBy: string | null;
}
/**
 * Judge traffic of the run.
 */
export interface JudgeUsage {
  /**
   * HTTP requests sent.
   */
  calls: number;
  /**
   * Answers served from the response cache.
   */
  cached: number;
  /**
   * Requests retried after 429, 5xx, timeouts or connection errors.
   */
  retries: number;
  /**
   * Malformed answers asked again.
   */
  reasks: number;
  /**
   * Judgements that failed for good.
   */
  failures: number;
  /**
   * Prompt tokens counted.
   */
  promptTokens: number;
  /**
   * Completion tokens counted.
   */
  completionTokens: number;
  /**
   * Cost from judge.prices; null without prices.
   */
  cost: number | null;
}
export interface JudgeItem {
  /**
   * Record index in the dataset.
   */
  index: number;
  /**
   * Caption or instruction.
   */
  query: string;
  /**
   * The human label (rank or score).
   */
  label: {};
  /**
   * The standing verdict; null when failed or the orders disagreed.
   */
  predicted: {} | null;
  /**
   * Whether the verdict matches the label.
   */
  correct: boolean;
  /**
   * How the verdict stands.
   */
  verdict: "single" | "agree" | "disagree" | "failed" | "skipped";
  /**
   * One entry per order judged.
   */
  orders: {
    /**
     * Candidate indices in the order shown.
     */
    order: number[];
    /**
     * Ranks aligned with the original candidate order.
     */
    rank?: number[];
    /**
     * Pointwise score.
     */
    score?: number;
    /**
     * The judge's reason.
     */
    reason?: string;
    /**
     * Answered from the response cache.
     */
    cached?: boolean;
    /**
     * Why the judgement failed.
     */
    error?: string;
    /**
     * Every raw reply of a failed judgement.
     */
    replies?: string[];
  }[];
}
