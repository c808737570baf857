/* Generated from schemas/rubric-lock.schema.json by scripts/gen.ts (npm run gen). Do not edit by hand. */

/**
 * A sha256 as 64 lowercase hex characters.
 */
export type Sha256 = string;

/**
 * The lock written beside a frozen rubric (rubrics/<name>.v<version>.lock.json): which text was frozen (its sha256), what it was built and verified from, the metrics it earned and the thresholds it was held to. `arr import` writes one, with `source: imported`, for a reference rubric it copies. Reviewed in pull requests and checked in CI by `arr rubric check`.
 */
export interface RubricLock {
  /**
   * Lock format version.
   */
  schema: 1;
  /**
   * Where the text came from: `verified` (frozen by the freeze target after verification; the default when absent) or `imported` (taken as is by `arr import` from a reference config, never verified here: its metrics, thresholds and verify key are null).
   */
  source?: "verified" | "imported";
  /**
   * Frozen rubric name (freeze.name); the text is rubrics/<name>.v<version>.txt.
   */
  name: string;
  /**
   * Frozen rubric version (freeze.version). A different text under an existing version is refused; bump the version instead.
   */
  version: number;
  /**
   * sha256 of the frozen text file's bytes; `arr rubric check` fails when the file no longer matches.
   */
  rubric_sha256: string;
  /**
   * Key of the rubric-generate artifact the text came from, or null when the text came from elsewhere (rubric.from, a hand-written file).
   */
  source_artifact: Sha256 | null;
  /**
   * Key of the verify artifact whose report supplied the metrics. Null for an imported rubric.
   */
  verify_key: Sha256 | null;
  /**
   * Version of the prompt templates the rubric was generated and verified with. Null for an imported rubric.
   */
  prompt_version: string | null;
  /**
   * Judge model id the rubric was generated and verified with. Null for an imported rubric.
   */
  judge_model: string | null;
  /**
   * Where the judge ran: an OpenAI-compatible endpoint, or in-process on llama.cpp.
   */
  judge_backend?: "http" | "local";
  /**
   * The local judge's GGUF files (model, then projector); absent for an endpoint.
   */
  judge_files?: {
    /**
     * File name.
     */
    name: string;
    sha256: Sha256;
  }[];
  /**
   * The labelled datasets behind the rubric, with their hashes when frozen.
   */
  datasets: {
    /**
     * The seed pairs the rubric was generated from (rubric.seed), or null when it was not generated here.
     */
    seed: {
      /**
       * The dataset file, workspace-relative (POSIX) or absolute when it lies outside the workspace.
       */
      path: string;
      /**
       * sha256 of the dataset file's bytes when the rubric was frozen.
       */
      sha256: string;
    } | null;
    /**
     * The held-out pairs it was verified on (verify.test), or null.
     */
    test: {
      /**
       * The dataset file, workspace-relative (POSIX) or absolute when it lies outside the workspace.
       */
      path: string;
      /**
       * sha256 of the dataset file's bytes when the rubric was frozen.
       */
      sha256: string;
    } | null;
  };
  /**
   * What verification measured, copied from the verify report. Null for an imported rubric.
   */
  metrics: {
    /**
     * Accuracy of the judge with this rubric on the test pairs (failures and order disagreements count as wrong).
     */
    accuracy: number;
    /**
     * Wilson 95% interval of the accuracy, [low, high].
     *
     * @minItems 2
     * @maxItems 2
     */
    ci95: [number, number];
    /**
     * Share of test pairs whose two candidate orders agreed; null when judged in one order only.
     */
    agreement: number | null;
    /**
     * Accuracy of the same judge without the rubric (the direct-judge baseline); null when no baseline ran.
     */
    baseline_accuracy: number | null;
    /**
     * accuracy minus baseline_accuracy; null when no baseline ran.
     */
    gain: number | null;
    /**
     * Accuracy of the final rubric re-verified on the seed pairs; null when not measured.
     */
    seed_accuracy: number | null;
    /**
     * Test judgements that failed (errors, invalid answers after re-asks).
     */
    failures: number;
  } | null;
  /**
   * The thresholds in force when the rubric was frozen (verify.min_*); the metrics must meet them. Null for an imported rubric.
   */
  thresholds: {
    /**
     * Lowest acceptable accuracy (verify.min_accuracy).
     */
    min_accuracy: number;
    /**
     * Lowest acceptable order agreement (verify.min_agreement); checked when agreement is not null.
     */
    min_agreement: number;
    /**
     * Lowest acceptable gain over the baseline (verify.min_gain); checked when gain is not null.
     */
    min_gain: number;
  } | null;
  /**
   * When the rubric was frozen (ISO 8601 date-time, UTC).
   */
  frozen_at: string;
  /**
   * For an imported rubric: the reference config or rubric file it came from, as given to `arr import`.
   */
  imported_from?: string;
}
