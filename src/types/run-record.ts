/* Generated from schemas/run-record.schema.json by scripts/gen.ts (npm run gen). Do not edit by hand. */

/**
 * A file by path and sha256 (null when it could not be read), or null when the run has none.
 */
export type HashedFile = null | {
  path: string;
  sha256: string | null;
};

/**
 * What `train-flux` / `train-edit` / `arr train` write as cache/runs/<run id>/run.json: the inputs by hash, the trainer's command and public environment, the checks, and the outcome with the trainer's exit status. Written when the run starts (status `running`) and again when it ends. Never holds a secret.
 */
export interface RunRecord {
  /**
   * Format version of this record.
   */
  schema: 1;
  /**
   * `<UTC start>-<8 hex of the plan hash>`, with `-2`, `-3`… when two runs start in the same second.
   */
  run_id: string;
  experiment: string;
  target: "train-flux" | "train-edit";
  task?: "t2i" | "edit";
  /**
   * `running` while the trainer runs; `succeeded` (exit 0), `failed` (non-zero exit, killed, or never started) or `interrupted` (this process forwarded a signal).
   */
  status: "running" | "succeeded" | "failed" | "interrupted";
  /**
   * sha256 of the launch plan.
   */
  plan_hash: string;
  /**
   * HEAD of the workspace's git checkout, if any.
   */
  git_commit?: string | null;
  inputs?: {
    rubric: HashedFile;
    rubric_lock: HashedFile;
    embeddings_metadata: HashedFile;
    embeddings_from: "train.embeddings" | "preprocess";
    manifests: HashedFile[];
    trainer_script: HashedFile;
    base_model: string | null;
  };
  /**
   * The trainer's argv, as spawned.
   */
  command?: string[];
  /**
   * The trainer's working directory: the run directory (it holds `images/`, where the reference trainers save their samples).
   */
  cwd?: string;
  /**
   * The torch.distributed master port picked for a single-node run (free when picked); null for multi-node runs.
   */
  master_port?: number | null;
  /**
   * Trainer flags by the reference's names (turned-off flags left out).
   */
  flags?: {
    [k: string]: string | number | boolean;
  };
  /**
   * Variables added to the trainer's environment; the reward token and judge key appear only as whether they are set.
   */
  env?: {
    [k: string]: string;
  };
  reward_service?: {
    url: string;
    /**
     * The OpenAI-compatible base URL judge.yaml points the trainer at.
     */
    openai_base_url?: string;
    /**
     * The service's /v1/stats when the trainer ended (null when the service does not count).
     */
    stats?: {} | null;
  };
  /**
   * The judge config the trainer reads (`--arr_config_path`), relative to the run directory.
   */
  judge_config?: string;
  checks?: {
    name: string;
    ok: boolean;
    severity: "error" | "warning";
    message: string;
  }[];
  started: string;
  ended: string | null;
  duration_s?: number;
  /**
   * The trainer's exit status; null while running, when a signal ended it, or when it never started.
   */
  exit_code: number | null;
  /**
   * The signal that ended the trainer, if one did.
   */
  signal: string | null;
  /**
   * Signals this process received and forwarded to the trainer's process group.
   */
  received_signals?: string[];
  /**
   * Why the run failed before or outside the trainer (the service did not start, the trainer could not be spawned).
   */
  error?: string;
  /**
   * Folders the trainer left in output/.
   */
  checkpoints?: string[];
}
