/* Generated from schemas/verify-report.schema.json by scripts/gen.ts (npm run gen). Do not edit by hand. */

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
  /**
   * One judging pass over the test pairs.
   */
  with_rubric: {
    /**
     * Accuracy over the judged items; failures and disagreements count as not correct.
     */
    summary: {
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
    };
    /**
     * Every item, in dataset order.
     */
    items: {
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
    }[];
  };
  /**
   * The same pairs judged without the rubric (verify.baseline), or null.
   */
  baseline: null | {
    /**
     * Accuracy over the judged items; failures and disagreements count as not correct.
     */
    summary: {
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
    };
    /**
     * Every item, in dataset order.
     */
    items: {
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
    }[];
  };
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
   * Judge traffic of the run.
   */
  usage: {
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
  };
  /**
   * Start time.
   */
  started: string;
  /**
   * End time.
   */
  finished: string;
}
