/* Generated from schemas/experiment.schema.json by scripts/gen.ts (npm run gen). Do not edit by hand. */

/**
 * One experiment: how to build a rubric from labelled image preference pairs with a VLM judge, verify it, freeze it and train with it. Paths resolve relative to the file that declares them. Secrets appear only as ${VAR} references.
 */
export interface ExperimentManifest {
  /**
   * What the experiment rewards: `t2i` (text to image, trains FLUX.1-dev LoRAs with train-flux) or `edit` (image editing with a source image, trains Qwen-Image-Edit LoRAs with train-edit). Required.
   */
  task: "t2i" | "edit";
  /**
   * Base manifest(s) to inherit from, relative to this file or absolute. Mappings merge key by key, scalars and lists replace, `key: null` deletes an inherited key. A list is applied left to right, then this file on top.
   */
  extends?: string | string[];
  /**
   * A sweep: field path → list of values. The manifest becomes one experiment per combination, named <name>--<slug> (the values in key order, lower-cased, joined by --). Read from the leaf manifest only, never from a base.
   */
  matrix?: {
    /**
     * @minItems 1
     */
    [k: string]: [string | number | boolean, ...(string | number | boolean)[]];
  };
  /**
   * Where data may come from.
   */
  data?: {
    /**
     * Folders outside the workspace root that datasets, images and models may live in. Anything else outside the workspace is refused.
     */
    allowed_roots?: string[];
  };
  /**
   * The frozen vision-language model that writes and applies rubrics: an OpenAI-compatible endpoint, or a GGUF model run in-process (judge.backend).
   */
  judge?: {
    /**
     * Model id sent to the API (part of every rubric and verify key). With the local backend the model files' sha256 stand for it in every key.
     */
    model?: string;
    /**
     * Endpoint family whose capabilities apply (temperature, response_format, vLLM structured_outputs, Qwen3 thinking switch); `auto` picks by the endpoint's host: api.openai.com → openai, generativelanguage.googleapis.com → gemini, dashscope → dashscope, anything else → vllm.
     */
    provider?: "auto" | "vllm" | "openai" | "gemini" | "dashscope" | "generic";
    /**
     * Where the judge runs: http (an OpenAI-compatible endpoint at judge.base_url), local (in-process on llama.cpp with the GGUF files of judge.local), or auto: http when ARR_JUDGE_URL is set or judge.base_url is set, local otherwise. The environment variable ARR_JUDGE_BACKEND overrides it. Not part of any key (the model identity is).
     */
    backend?: "auto" | "http" | "local";
    /**
     * OpenAI-compatible endpoint (ending in /v1), or a list of replicas to load-balance across; null or empty when there is none. Setting it makes judge.backend auto pick http. Never part of an artifact key.
     */
    base_url?: null | string | [string, ...string[]];
    /**
     * API key, only as an environment reference such as ${ARR_JUDGE_API_KEY} (or the literal EMPTY for local servers that need none). Its value is never written anywhere.
     */
    api_key?: string;
    /**
     * Sampling temperature for every judge call.
     */
    temperature?: number;
    /**
     * Upper bound on tokens per judge reply.
     */
    max_tokens?: number;
    /**
     * Per-call timeout in seconds. Not part of any key.
     */
    timeout_s?: number;
    /**
     * Retries per call after a transient failure (429, 5xx, timeout), with exponential backoff honouring Retry-After. Not part of any key.
     */
    retries?: number;
    /**
     * Times a malformed or invalid answer is asked again, with the validation error, before the judgement counts as failed. Not part of any artifact key.
     */
    reasks?: number;
    /**
     * Judge calls in flight at once, shared by the whole process. Not part of any key.
     */
    concurrency?: number;
    /**
     * Images are resized so their longer side is at most this many pixels before they are sent.
     */
    image_max_side?: number;
    /**
     * Stop cleanly after this many judge calls in one run; null for no limit.
     */
    max_calls?: number | null;
    /**
     * Stop cleanly once the counted cost (in the currency of the configured prices) reaches this; null for no limit.
     */
    max_cost?: number | null;
    /**
     * Prices per million tokens, for cost accounting and judge.max_cost; null when unknown.
     */
    prices?: {
      /**
       * Price of one million prompt tokens.
       */
      input_per_mtok?: number | null;
      /**
       * Price of one million completion tokens.
       */
      output_per_mtok?: number | null;
    };
    /**
     * The in-process judge (judge.backend local): llama.cpp through @fugood/llama.node.
     */
    local?: {
      /**
       * The language model GGUF: a file path, hf://<owner>/<repo>[@<revision>]/<file>, or hf://<owner>/<repo>[@<revision>] (the file is picked by judge.local.quant from the repository's listing). Downloaded into ARR_MODELS_DIR on first use.
       */
      model?: string;
      /**
       * The multimodal projector GGUF: a file path or hf:// reference; null takes the repository's mmproj*.gguf (F16 preferred) from the model's repository.
       */
      mmproj?: string | null;
      /**
       * Quantisation picked from a repository reference: the file whose name ends in <quant>.gguf.
       */
      quant?: string;
      /**
       * Layers offloaded to a GPU; null offloads all of them when a CUDA or Vulkan device loads, else none. Not part of any key.
       */
      gpu_layers?: number | null;
      /**
       * CPU threads; null uses the physical cores. Not part of any key.
       */
      threads?: number | null;
      /**
       * Parallel sequences the runtime decodes together (judge.concurrency requests beyond it wait). Not part of any key.
       */
      parallel?: number;
      /**
       * Context tokens of each parallel sequence (the KV cache holds context × parallel tokens). Not part of any key.
       */
      context?: number;
    };
  };
  /**
   * How the rubric is made: generated from labelled seed pairs, or reused from a frozen file.
   */
  rubric?: {
    /**
     * Labelled seed pairs (.jsonl, .json array or .yaml) the rubric is generated from.
     */
    seed?: string | null;
    /**
     * A frozen rubric file (rubrics/<name>.v<N>.txt) to reuse instead of generating one; when set, rubric-generate does no generation.
     */
    from?: string | null;
    /**
     * Use rubric.from (or the frozen rubric) even when it has no lock beside it. Off by default: every rubric a run reads is checked against its lock (`freeze` and `arr import` write one), and a rubric whose lock does not match is refused whatever this says. Never part of a cache key.
     */
    allow_unlocked?: boolean;
    /**
     * Free text describing what is being compared; shown to the judge in every prompt.
     */
    task_description?: string;
    /**
     * Prompt language.
     */
    language?: "en" | "zh";
    /**
     * How the judge answers: `pairwise` (rank two candidates), `listwise` (rank N) or `pointwise` (score one).
     */
    mode?: "pairwise" | "listwise" | "pointwise";
    /**
     * Lowest score in pointwise mode.
     */
    min_score?: number;
    /**
     * Highest score in pointwise mode.
     */
    max_score?: number;
    /**
     * Criteria requested from the judge for each seed pair.
     */
    per_pair?: number;
    /**
     * Verify/revise rounds per seed pair before it is dropped.
     */
    max_epochs?: number;
    /**
     * Judge calls that may fail for good (transport errors, timeouts, refusals, answers that never parse) before rubric-generate refuses to store its rubric. A rubric built with more failures than this is built again, asking only the failed calls. Not part of any key.
     */
    max_failures?: number;
    /**
     * How verified criteria are aggregated across seed pairs.
     */
    select?: {
      /**
       * `auto` keeps all verified criteria for small seed sets and uses coding-rate (MCR²) selection for large ones; `all` always keeps all; `mcr2` always selects.
       */
      method?: "auto" | "all" | "mcr2";
      /**
       * Text embedder for MCR² selection: `lexical` (built in, offline), `endpoint` (the judge endpoint's /v1/embeddings) or `onnx` (the preprocess encoders).
       */
      embedder?: "lexical" | "endpoint" | "onnx";
    };
    /**
     * Merging the verified criteria into Theme/Tips rubrics.
     */
    categorize?: {
      /**
       * Merge into Theme/Tips rubrics; when false the final rubric is a numbered list.
       */
      enabled?: boolean;
      /**
       * Most Theme/Tips rubrics to produce.
       */
      max_categories?: number;
    };
  };
  /**
   * Judging held-out labelled pairs with the rubric to measure it.
   */
  verify?: {
    /**
     * Held-out labelled pairs (.jsonl, .json array or .yaml).
     */
    test?: string | null;
    /**
     * Judge every pair in both candidate orders; a disagreement counts as not correct and agreement is reported.
     */
    both_orders?: boolean;
    /**
     * Also judge without the rubric (the direct-judge baseline) and report the gain.
     */
    baseline?: boolean;
    /**
     * verify fails (the report is kept) when accuracy is below this. Not part of any key.
     */
    min_accuracy?: number;
    /**
     * verify fails when order agreement is below this. Not part of any key.
     */
    min_agreement?: number;
    /**
     * verify fails when accuracy minus baseline accuracy is below this. Not part of any key.
     */
    min_gain?: number;
    /**
     * Judge calls that may fail for good (transport errors, timeouts, refusals, answers that never parse) before verify refuses to store its report. A report built with more failures than this is made again, asking only the failed calls. Not part of any key.
     */
    max_failures?: number;
  };
  /**
   * Where the verified rubric is frozen: rubrics/<name>.v<version>.txt and its .lock.json.
   */
  freeze?: {
    /**
     * Frozen rubric name; null means the experiment's name.
     */
    name?: string | null;
    /**
     * Frozen rubric version; a different text under an existing version is refused.
     */
    version?: number;
  };
  /**
   * Precomputing the embeddings training reads.
   */
  preprocess?: {
    /**
     * Text-to-image training prompts, one per line (t2i).
     */
    prompts?: string | null;
    /**
     * Edit training items, JSON lines of {source_image, instruction} (edit).
     */
    edits?: string | null;
    /**
     * Skip blank lines of the prompt list (the reference keeps them and encodes empty prompts). Counted in the summary.
     */
    skip_blank?: boolean;
    /**
     * Drop prompts that contain CJK characters (U+4E00–U+9FFF), as the reference does silently. Counted in the summary.
     */
    drop_cjk?: boolean;
    /**
     * Encode at most this many prompts or edits (the reference caps FLUX prompts at 50,000); null for all. Counted in the summary.
     */
    max_items?: number | null;
    /**
     * A preset name (`flux`, `qwen-image-edit`: files in presets/encoders/ you can copy and change) or a list of encoder specs (schemas/encoder-spec.schema.json); null means the task's preset.
     */
    encoders?: null | string | {}[];
    /**
     * Folder holding the ONNX encoder files the preset lists.
     */
    models?: string | null;
    /**
     * Embedding file format: `pt` (default) writes the torch files the reference trainers open with torch.load(weights_only=True); `safetensors` writes only .safetensors files, which the reference trainers cannot read (train-* refuses such a set unless train.command replaces the trainer).
     */
    format?: "safetensors" | "pt";
    /**
     * Items per encoder run.
     */
    batch_size?: number;
  };
  /**
   * Launching ARR-RPO LoRA training (train-flux / train-edit). Never cached: each launch is a new run.
   */
  train?: {
    /**
     * The trainer command as a list of strings; null means torchrun with the reference script under trainer_dir.
     */
    command?: string[] | null;
    /**
     * Checkout of the reference trainers; null means $ARR_TRAINER_DIR.
     */
    trainer_dir?: string | null;
    /**
     * Base model folder (FLUX.1-dev or Qwen-Image-Edit weights).
     */
    base_model?: string | null;
    /**
     * A metadata.json of embeddings made elsewhere; when set, training does not depend on preprocess.
     */
    embeddings?: string | null;
    /**
     * Number of nodes.
     */
    nnodes?: number;
    /**
     * This node's rank.
     */
    node_rank?: number;
    /**
     * torchrun rendezvous host:port for multi-node runs.
     */
    rdzv_endpoint?: string | null;
    /**
     * GPUs per node.
     */
    gpus_per_node?: number;
    /**
     * Learning rate; null means the paper's value for the task (t2i 5e-5, edit 1e-5).
     */
    learning_rate?: number | null;
    /**
     * Sampling steps per rollout; null means the paper's value (t2i 8, edit 10).
     */
    sampling_steps?: number | null;
    /**
     * Policy ratio clip range.
     */
    clip_range?: number;
    /**
     * KL penalty weight; null means the paper's value (t2i 0.01, edit 0.02).
     */
    kl_beta?: number | null;
    /**
     * LoRA adapter shape; null fields mean the paper's values (t2i 16/32, edit 32/64).
     */
    lora?: {
      /**
       * LoRA rank.
       */
      rank?: number | null;
      /**
       * LoRA alpha.
       */
      alpha?: number | null;
    };
    /**
     * Training steps.
     */
    max_train_steps?: number;
    /**
     * Gradient accumulation; null means the samples per step (one optimizer step per training step).
     */
    gradient_accumulation_steps?: number | null;
    /**
     * Random seed passed to the trainer.
     */
    seed?: number;
    /**
     * Further reference-trainer flags passed as --name value (true → bare flag, false/null → omitted).
     */
    flags?: {
      [k: string]: string | number | boolean | null;
    };
  };
  /**
   * The reward service trainers ask for rubric rewards.
   */
  reward?: {
    /**
     * Judge each pair in both orders (doubles judge calls).
     */
    both_orders?: boolean;
    /**
     * When the two orders disagree: `zero` (both rewards 0.0), `first` (keep the first order's verdict) or `error`.
     */
    on_disagreement?: "zero" | "first" | "error";
    /**
     * Folders, besides the workspace and the run directory, that image paths in reward requests may come from.
     */
    allowed_roots?: string[];
    /**
     * Address the service listens on.
     */
    bind?: string;
    /**
     * Port the service listens on; 0 picks a free one.
     */
    port?: number;
  };
}

/** The manifest after `extends`, env references and schema defaults: every defaulted field is present. */
/**
 * One experiment: how to build a rubric from labelled image preference pairs with a VLM judge, verify it, freeze it and train with it. Paths resolve relative to the file that declares them. Secrets appear only as ${VAR} references.
 */
export interface Experiment {
  /**
   * What the experiment rewards: `t2i` (text to image, trains FLUX.1-dev LoRAs with train-flux) or `edit` (image editing with a source image, trains Qwen-Image-Edit LoRAs with train-edit). Required.
   */
  task: "t2i" | "edit";
  /**
   * A sweep: field path → list of values. The manifest becomes one experiment per combination, named <name>--<slug> (the values in key order, lower-cased, joined by --). Read from the leaf manifest only, never from a base.
   */
  matrix?: {
    /**
     * @minItems 1
     */
    [k: string]: [string | number | boolean, ...(string | number | boolean)[]];
  };
  /**
   * Where data may come from.
   */
  data: {
    /**
     * Folders outside the workspace root that datasets, images and models may live in. Anything else outside the workspace is refused.
     */
    allowed_roots: string[];
  };
  /**
   * The frozen vision-language model that writes and applies rubrics: an OpenAI-compatible endpoint, or a GGUF model run in-process (judge.backend).
   */
  judge: {
    /**
     * Model id sent to the API (part of every rubric and verify key). With the local backend the model files' sha256 stand for it in every key.
     */
    model: string;
    /**
     * Endpoint family whose capabilities apply (temperature, response_format, vLLM structured_outputs, Qwen3 thinking switch); `auto` picks by the endpoint's host: api.openai.com → openai, generativelanguage.googleapis.com → gemini, dashscope → dashscope, anything else → vllm.
     */
    provider: "auto" | "vllm" | "openai" | "gemini" | "dashscope" | "generic";
    /**
     * Where the judge runs: http (an OpenAI-compatible endpoint at judge.base_url), local (in-process on llama.cpp with the GGUF files of judge.local), or auto: http when ARR_JUDGE_URL is set or judge.base_url is set, local otherwise. The environment variable ARR_JUDGE_BACKEND overrides it. Not part of any key (the model identity is).
     */
    backend: "auto" | "http" | "local";
    /**
     * OpenAI-compatible endpoint (ending in /v1), or a list of replicas to load-balance across; null or empty when there is none. Setting it makes judge.backend auto pick http. Never part of an artifact key.
     */
    base_url: null | string | [string, ...string[]];
    /**
     * API key, only as an environment reference such as ${ARR_JUDGE_API_KEY} (or the literal EMPTY for local servers that need none). Its value is never written anywhere.
     */
    api_key: string;
    /**
     * Sampling temperature for every judge call.
     */
    temperature: number;
    /**
     * Upper bound on tokens per judge reply.
     */
    max_tokens: number;
    /**
     * Per-call timeout in seconds. Not part of any key.
     */
    timeout_s: number;
    /**
     * Retries per call after a transient failure (429, 5xx, timeout), with exponential backoff honouring Retry-After. Not part of any key.
     */
    retries: number;
    /**
     * Times a malformed or invalid answer is asked again, with the validation error, before the judgement counts as failed. Not part of any artifact key.
     */
    reasks: number;
    /**
     * Judge calls in flight at once, shared by the whole process. Not part of any key.
     */
    concurrency: number;
    /**
     * Images are resized so their longer side is at most this many pixels before they are sent.
     */
    image_max_side: number;
    /**
     * Stop cleanly after this many judge calls in one run; null for no limit.
     */
    max_calls: number | null;
    /**
     * Stop cleanly once the counted cost (in the currency of the configured prices) reaches this; null for no limit.
     */
    max_cost: number | null;
    /**
     * Prices per million tokens, for cost accounting and judge.max_cost; null when unknown.
     */
    prices: {
      /**
       * Price of one million prompt tokens.
       */
      input_per_mtok: number | null;
      /**
       * Price of one million completion tokens.
       */
      output_per_mtok: number | null;
    };
    /**
     * The in-process judge (judge.backend local): llama.cpp through @fugood/llama.node.
     */
    local: {
      /**
       * The language model GGUF: a file path, hf://<owner>/<repo>[@<revision>]/<file>, or hf://<owner>/<repo>[@<revision>] (the file is picked by judge.local.quant from the repository's listing). Downloaded into ARR_MODELS_DIR on first use.
       */
      model: string;
      /**
       * The multimodal projector GGUF: a file path or hf:// reference; null takes the repository's mmproj*.gguf (F16 preferred) from the model's repository.
       */
      mmproj: string | null;
      /**
       * Quantisation picked from a repository reference: the file whose name ends in <quant>.gguf.
       */
      quant: string;
      /**
       * Layers offloaded to a GPU; null offloads all of them when a CUDA or Vulkan device loads, else none. Not part of any key.
       */
      gpu_layers: number | null;
      /**
       * CPU threads; null uses the physical cores. Not part of any key.
       */
      threads: number | null;
      /**
       * Parallel sequences the runtime decodes together (judge.concurrency requests beyond it wait). Not part of any key.
       */
      parallel: number;
      /**
       * Context tokens of each parallel sequence (the KV cache holds context × parallel tokens). Not part of any key.
       */
      context: number;
    };
  };
  /**
   * How the rubric is made: generated from labelled seed pairs, or reused from a frozen file.
   */
  rubric: {
    /**
     * Labelled seed pairs (.jsonl, .json array or .yaml) the rubric is generated from.
     */
    seed: string | null;
    /**
     * A frozen rubric file (rubrics/<name>.v<N>.txt) to reuse instead of generating one; when set, rubric-generate does no generation.
     */
    from: string | null;
    /**
     * Use rubric.from (or the frozen rubric) even when it has no lock beside it. Off by default: every rubric a run reads is checked against its lock (`freeze` and `arr import` write one), and a rubric whose lock does not match is refused whatever this says. Never part of a cache key.
     */
    allow_unlocked: boolean;
    /**
     * Free text describing what is being compared; shown to the judge in every prompt.
     */
    task_description: string;
    /**
     * Prompt language.
     */
    language: "en" | "zh";
    /**
     * How the judge answers: `pairwise` (rank two candidates), `listwise` (rank N) or `pointwise` (score one).
     */
    mode: "pairwise" | "listwise" | "pointwise";
    /**
     * Lowest score in pointwise mode.
     */
    min_score: number;
    /**
     * Highest score in pointwise mode.
     */
    max_score: number;
    /**
     * Criteria requested from the judge for each seed pair.
     */
    per_pair: number;
    /**
     * Verify/revise rounds per seed pair before it is dropped.
     */
    max_epochs: number;
    /**
     * Judge calls that may fail for good (transport errors, timeouts, refusals, answers that never parse) before rubric-generate refuses to store its rubric. A rubric built with more failures than this is built again, asking only the failed calls. Not part of any key.
     */
    max_failures: number;
    /**
     * How verified criteria are aggregated across seed pairs.
     */
    select: {
      /**
       * `auto` keeps all verified criteria for small seed sets and uses coding-rate (MCR²) selection for large ones; `all` always keeps all; `mcr2` always selects.
       */
      method: "auto" | "all" | "mcr2";
      /**
       * Text embedder for MCR² selection: `lexical` (built in, offline), `endpoint` (the judge endpoint's /v1/embeddings) or `onnx` (the preprocess encoders).
       */
      embedder: "lexical" | "endpoint" | "onnx";
    };
    /**
     * Merging the verified criteria into Theme/Tips rubrics.
     */
    categorize: {
      /**
       * Merge into Theme/Tips rubrics; when false the final rubric is a numbered list.
       */
      enabled: boolean;
      /**
       * Most Theme/Tips rubrics to produce.
       */
      max_categories: number;
    };
  };
  /**
   * Judging held-out labelled pairs with the rubric to measure it.
   */
  verify: {
    /**
     * Held-out labelled pairs (.jsonl, .json array or .yaml).
     */
    test: string | null;
    /**
     * Judge every pair in both candidate orders; a disagreement counts as not correct and agreement is reported.
     */
    both_orders: boolean;
    /**
     * Also judge without the rubric (the direct-judge baseline) and report the gain.
     */
    baseline: boolean;
    /**
     * verify fails (the report is kept) when accuracy is below this. Not part of any key.
     */
    min_accuracy: number;
    /**
     * verify fails when order agreement is below this. Not part of any key.
     */
    min_agreement: number;
    /**
     * verify fails when accuracy minus baseline accuracy is below this. Not part of any key.
     */
    min_gain: number;
    /**
     * Judge calls that may fail for good (transport errors, timeouts, refusals, answers that never parse) before verify refuses to store its report. A report built with more failures than this is made again, asking only the failed calls. Not part of any key.
     */
    max_failures: number;
  };
  /**
   * Where the verified rubric is frozen: rubrics/<name>.v<version>.txt and its .lock.json.
   */
  freeze: {
    /**
     * Frozen rubric name; null means the experiment's name.
     */
    name: string | null;
    /**
     * Frozen rubric version; a different text under an existing version is refused.
     */
    version: number;
  };
  /**
   * Precomputing the embeddings training reads.
   */
  preprocess: {
    /**
     * Text-to-image training prompts, one per line (t2i).
     */
    prompts: string | null;
    /**
     * Edit training items, JSON lines of {source_image, instruction} (edit).
     */
    edits: string | null;
    /**
     * Skip blank lines of the prompt list (the reference keeps them and encodes empty prompts). Counted in the summary.
     */
    skip_blank: boolean;
    /**
     * Drop prompts that contain CJK characters (U+4E00–U+9FFF), as the reference does silently. Counted in the summary.
     */
    drop_cjk: boolean;
    /**
     * Encode at most this many prompts or edits (the reference caps FLUX prompts at 50,000); null for all. Counted in the summary.
     */
    max_items: number | null;
    /**
     * A preset name (`flux`, `qwen-image-edit`: files in presets/encoders/ you can copy and change) or a list of encoder specs (schemas/encoder-spec.schema.json); null means the task's preset.
     */
    encoders: null | string | {}[];
    /**
     * Folder holding the ONNX encoder files the preset lists.
     */
    models: string | null;
    /**
     * Embedding file format: `pt` (default) writes the torch files the reference trainers open with torch.load(weights_only=True); `safetensors` writes only .safetensors files, which the reference trainers cannot read (train-* refuses such a set unless train.command replaces the trainer).
     */
    format: "safetensors" | "pt";
    /**
     * Items per encoder run.
     */
    batch_size: number;
  };
  /**
   * Launching ARR-RPO LoRA training (train-flux / train-edit). Never cached: each launch is a new run.
   */
  train: {
    /**
     * The trainer command as a list of strings; null means torchrun with the reference script under trainer_dir.
     */
    command: string[] | null;
    /**
     * Checkout of the reference trainers; null means $ARR_TRAINER_DIR.
     */
    trainer_dir: string | null;
    /**
     * Base model folder (FLUX.1-dev or Qwen-Image-Edit weights).
     */
    base_model: string | null;
    /**
     * A metadata.json of embeddings made elsewhere; when set, training does not depend on preprocess.
     */
    embeddings: string | null;
    /**
     * Number of nodes.
     */
    nnodes: number;
    /**
     * This node's rank.
     */
    node_rank: number;
    /**
     * torchrun rendezvous host:port for multi-node runs.
     */
    rdzv_endpoint: string | null;
    /**
     * GPUs per node.
     */
    gpus_per_node: number;
    /**
     * Learning rate; null means the paper's value for the task (t2i 5e-5, edit 1e-5).
     */
    learning_rate: number | null;
    /**
     * Sampling steps per rollout; null means the paper's value (t2i 8, edit 10).
     */
    sampling_steps: number | null;
    /**
     * Policy ratio clip range.
     */
    clip_range: number;
    /**
     * KL penalty weight; null means the paper's value (t2i 0.01, edit 0.02).
     */
    kl_beta: number | null;
    /**
     * LoRA adapter shape; null fields mean the paper's values (t2i 16/32, edit 32/64).
     */
    lora: {
      /**
       * LoRA rank.
       */
      rank: number | null;
      /**
       * LoRA alpha.
       */
      alpha: number | null;
    };
    /**
     * Training steps.
     */
    max_train_steps: number;
    /**
     * Gradient accumulation; null means the samples per step (one optimizer step per training step).
     */
    gradient_accumulation_steps: number | null;
    /**
     * Random seed passed to the trainer.
     */
    seed: number;
    /**
     * Further reference-trainer flags passed as --name value (true → bare flag, false/null → omitted).
     */
    flags: {
      [k: string]: string | number | boolean | null;
    };
  };
  /**
   * The reward service trainers ask for rubric rewards.
   */
  reward: {
    /**
     * Judge each pair in both orders (doubles judge calls).
     */
    both_orders: boolean;
    /**
     * When the two orders disagree: `zero` (both rewards 0.0), `first` (keep the first order's verdict) or `error`.
     */
    on_disagreement: "zero" | "first" | "error";
    /**
     * Folders, besides the workspace and the run directory, that image paths in reward requests may come from.
     */
    allowed_roots: string[];
    /**
     * Address the service listens on.
     */
    bind: string;
    /**
     * Port the service listens on; 0 picks a free one.
     */
    port: number;
  };
}
