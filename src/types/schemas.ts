/* Generated from schemas/*.schema.json by scripts/gen.ts (npm run gen). Do not edit by hand. */
export const schemas = {
  "experiment": {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://arr.dev/schemas/experiment.schema.json",
    "title": "ARR experiment manifest",
    "description": "One experiment: how to build a rubric from labelled image preference pairs with a VLM judge, verify it, freeze it and train with it. Paths resolve relative to the file that declares them. Secrets appear only as ${VAR} references.",
    "type": "object",
    "additionalProperties": false,
    "required": [
      "task"
    ],
    "properties": {
      "task": {
        "description": "What the experiment rewards: `t2i` (text to image, trains FLUX.1-dev LoRAs with train-flux) or `edit` (image editing with a source image, trains Qwen-Image-Edit LoRAs with train-edit). Required.",
        "type": "string",
        "enum": [
          "t2i",
          "edit"
        ]
      },
      "extends": {
        "description": "Base manifest(s) to inherit from, relative to this file or absolute. Mappings merge key by key, scalars and lists replace, `key: null` deletes an inherited key. A list is applied left to right, then this file on top.",
        "default": [],
        "oneOf": [
          {
            "type": "string",
            "minLength": 1
          },
          {
            "type": "array",
            "items": {
              "type": "string",
              "minLength": 1
            }
          }
        ],
        "x-arr-path": true
      },
      "matrix": {
        "description": "A sweep: field path → list of values. The manifest becomes one experiment per combination, named <name>--<slug> (the values in key order, lower-cased, joined by --). Read from the leaf manifest only, never from a base.",
        "type": "object",
        "minProperties": 1,
        "propertyNames": {
          "pattern": "^[a-z_][a-z0-9_]*(\\.[a-z_][a-z0-9_]*)*$"
        },
        "additionalProperties": {
          "type": "array",
          "minItems": 1,
          "items": {
            "type": [
              "string",
              "number",
              "boolean"
            ]
          }
        }
      },
      "data": {
        "description": "Where data may come from.",
        "type": "object",
        "additionalProperties": false,
        "default": {},
        "properties": {
          "allowed_roots": {
            "description": "Folders outside the workspace root that datasets, images and models may live in. Anything else outside the workspace is refused.",
            "type": "array",
            "items": {
              "type": "string",
              "minLength": 1
            },
            "default": [],
            "x-arr-path": true
          }
        }
      },
      "judge": {
        "description": "The frozen vision-language model that writes and applies rubrics: an OpenAI-compatible endpoint, or a GGUF model run in-process (judge.backend).",
        "type": "object",
        "additionalProperties": false,
        "default": {},
        "properties": {
          "model": {
            "description": "Model id sent to the API (part of every rubric and verify key). With the local backend the model files' sha256 stand for it in every key.",
            "type": "string",
            "minLength": 1,
            "default": "Qwen/Qwen3-VL-8B-Instruct"
          },
          "provider": {
            "description": "Endpoint family whose capabilities apply (temperature, response_format, vLLM structured_outputs, Qwen3 thinking switch); `auto` picks by the endpoint's host: api.openai.com → openai, generativelanguage.googleapis.com → gemini, dashscope → dashscope, anything else → vllm.",
            "type": "string",
            "enum": [
              "auto",
              "vllm",
              "openai",
              "gemini",
              "dashscope",
              "generic"
            ],
            "default": "auto"
          },
          "backend": {
            "description": "Where the judge runs: http (an OpenAI-compatible endpoint at judge.base_url), local (in-process on llama.cpp with the GGUF files of judge.local), or auto: http when ARR_JUDGE_URL is set or judge.base_url is set, local otherwise. The environment variable ARR_JUDGE_BACKEND overrides it. Not part of any key (the model identity is).",
            "type": "string",
            "enum": [
              "auto",
              "http",
              "local"
            ],
            "default": "auto"
          },
          "base_url": {
            "description": "OpenAI-compatible endpoint (ending in /v1), or a list of replicas to load-balance across; null or empty when there is none. Setting it makes judge.backend auto pick http. Never part of an artifact key.",
            "default": null,
            "oneOf": [
              {
                "type": "null"
              },
              {
                "type": "string",
                "minLength": 1
              },
              {
                "type": "array",
                "minItems": 1,
                "items": {
                  "type": "string",
                  "minLength": 1
                }
              }
            ]
          },
          "api_key": {
            "description": "API key, only as an environment reference such as ${ARR_JUDGE_API_KEY} (or the literal EMPTY for local servers that need none). Its value is never written anywhere.",
            "type": "string",
            "default": "EMPTY",
            "x-arr-secret": true
          },
          "temperature": {
            "description": "Sampling temperature for every judge call.",
            "type": "number",
            "minimum": 0,
            "maximum": 2,
            "default": 0
          },
          "max_tokens": {
            "description": "Upper bound on tokens per judge reply.",
            "type": "integer",
            "minimum": 1,
            "default": 2048
          },
          "timeout_s": {
            "description": "Per-call timeout in seconds. Not part of any key.",
            "type": "number",
            "exclusiveMinimum": 0,
            "default": 120
          },
          "retries": {
            "description": "Retries per call after a transient failure (429, 5xx, timeout), with exponential backoff honouring Retry-After. Not part of any key.",
            "type": "integer",
            "minimum": 0,
            "default": 4
          },
          "reasks": {
            "description": "Times a malformed or invalid answer is asked again, with the validation error, before the judgement counts as failed. Not part of any artifact key.",
            "type": "integer",
            "minimum": 0,
            "maximum": 10,
            "default": 2
          },
          "concurrency": {
            "description": "Judge calls in flight at once, shared by the whole process. Not part of any key.",
            "type": "integer",
            "minimum": 1,
            "maximum": 1024,
            "default": 8
          },
          "image_max_side": {
            "description": "Images are resized so their longer side is at most this many pixels before they are sent.",
            "type": "integer",
            "minimum": 32,
            "maximum": 8192,
            "default": 768
          },
          "max_calls": {
            "description": "Stop cleanly after this many judge calls in one run; null for no limit.",
            "type": [
              "integer",
              "null"
            ],
            "minimum": 1,
            "default": null
          },
          "max_cost": {
            "description": "Stop cleanly once the counted cost (in the currency of the configured prices) reaches this; null for no limit.",
            "type": [
              "number",
              "null"
            ],
            "minimum": 0,
            "default": null
          },
          "prices": {
            "description": "Prices per million tokens, for cost accounting and judge.max_cost; null when unknown.",
            "type": "object",
            "additionalProperties": false,
            "default": {},
            "properties": {
              "input_per_mtok": {
                "description": "Price of one million prompt tokens.",
                "type": [
                  "number",
                  "null"
                ],
                "minimum": 0,
                "default": null
              },
              "output_per_mtok": {
                "description": "Price of one million completion tokens.",
                "type": [
                  "number",
                  "null"
                ],
                "minimum": 0,
                "default": null
              }
            }
          },
          "local": {
            "description": "The in-process judge (judge.backend local): llama.cpp through @fugood/llama.node.",
            "type": "object",
            "additionalProperties": false,
            "default": {},
            "properties": {
              "model": {
                "description": "The language model GGUF: a file path, hf://<owner>/<repo>[@<revision>]/<file>, or hf://<owner>/<repo>[@<revision>] (the file is picked by judge.local.quant from the repository's listing). Downloaded into ARR_MODELS_DIR on first use.",
                "type": "string",
                "minLength": 1,
                "default": "hf://Qwen/Qwen3-VL-2B-Instruct-GGUF"
              },
              "mmproj": {
                "description": "The multimodal projector GGUF: a file path or hf:// reference; null takes the repository's mmproj*.gguf (F16 preferred) from the model's repository.",
                "type": [
                  "string",
                  "null"
                ],
                "minLength": 1,
                "default": null
              },
              "quant": {
                "description": "Quantisation picked from a repository reference: the file whose name ends in <quant>.gguf.",
                "type": "string",
                "minLength": 1,
                "default": "Q4_K_M"
              },
              "gpu_layers": {
                "description": "Layers offloaded to a GPU; null offloads all of them when a CUDA or Vulkan device loads, else none. Not part of any key.",
                "type": [
                  "integer",
                  "null"
                ],
                "minimum": 0,
                "default": null
              },
              "threads": {
                "description": "CPU threads; null uses the physical cores. Not part of any key.",
                "type": [
                  "integer",
                  "null"
                ],
                "minimum": 1,
                "default": null
              },
              "parallel": {
                "description": "Parallel sequences the runtime decodes together (judge.concurrency requests beyond it wait). Not part of any key.",
                "type": "integer",
                "minimum": 1,
                "maximum": 64,
                "default": 4
              },
              "context": {
                "description": "Context tokens of each parallel sequence (the KV cache holds context × parallel tokens). Not part of any key.",
                "type": "integer",
                "minimum": 512,
                "default": 8192
              }
            }
          }
        }
      },
      "rubric": {
        "description": "How the rubric is made: generated from labelled seed pairs, or reused from a frozen file.",
        "type": "object",
        "additionalProperties": false,
        "default": {},
        "properties": {
          "seed": {
            "description": "Labelled seed pairs (.jsonl, .json array or .yaml) the rubric is generated from.",
            "type": [
              "string",
              "null"
            ],
            "default": null,
            "x-arr-path": true
          },
          "from": {
            "description": "A frozen rubric file (rubrics/<name>.v<N>.txt) to reuse instead of generating one; when set, rubric-generate does no generation.",
            "type": [
              "string",
              "null"
            ],
            "default": null,
            "x-arr-path": true
          },
          "allow_unlocked": {
            "description": "Use rubric.from (or the frozen rubric) even when it has no lock beside it. Off by default: every rubric a run reads is checked against its lock (`freeze` and `arr import` write one), and a rubric whose lock does not match is refused whatever this says. Never part of a cache key.",
            "type": "boolean",
            "default": false
          },
          "task_description": {
            "description": "Free text describing what is being compared; shown to the judge in every prompt.",
            "type": "string",
            "default": ""
          },
          "language": {
            "description": "Prompt language.",
            "type": "string",
            "enum": [
              "en",
              "zh"
            ],
            "default": "en"
          },
          "mode": {
            "description": "How the judge answers: `pairwise` (rank two candidates), `listwise` (rank N) or `pointwise` (score one).",
            "type": "string",
            "enum": [
              "pairwise",
              "listwise",
              "pointwise"
            ],
            "default": "pairwise"
          },
          "min_score": {
            "description": "Lowest score in pointwise mode.",
            "type": "integer",
            "default": 1
          },
          "max_score": {
            "description": "Highest score in pointwise mode.",
            "type": "integer",
            "default": 5
          },
          "per_pair": {
            "description": "Criteria requested from the judge for each seed pair.",
            "type": "integer",
            "minimum": 1,
            "maximum": 50,
            "default": 5
          },
          "max_epochs": {
            "description": "Verify/revise rounds per seed pair before it is dropped.",
            "type": "integer",
            "minimum": 1,
            "maximum": 50,
            "default": 5
          },
          "max_failures": {
            "description": "Judge calls that may fail for good (transport errors, timeouts, refusals, answers that never parse) before rubric-generate refuses to store its rubric. A rubric built with more failures than this is built again, asking only the failed calls. Not part of any key.",
            "type": "integer",
            "minimum": 0,
            "default": 0
          },
          "select": {
            "description": "How verified criteria are aggregated across seed pairs.",
            "type": "object",
            "additionalProperties": false,
            "default": {},
            "properties": {
              "method": {
                "description": "`auto` keeps all verified criteria for small seed sets and uses coding-rate (MCR²) selection for large ones; `all` always keeps all; `mcr2` always selects.",
                "type": "string",
                "enum": [
                  "auto",
                  "all",
                  "mcr2"
                ],
                "default": "auto"
              },
              "embedder": {
                "description": "Text embedder for MCR² selection: `lexical` (built in, offline), `endpoint` (the judge endpoint's /v1/embeddings) or `onnx` (the preprocess encoders).",
                "type": "string",
                "enum": [
                  "lexical",
                  "endpoint",
                  "onnx"
                ],
                "default": "lexical"
              }
            }
          },
          "categorize": {
            "description": "Merging the verified criteria into Theme/Tips rubrics.",
            "type": "object",
            "additionalProperties": false,
            "default": {},
            "properties": {
              "enabled": {
                "description": "Merge into Theme/Tips rubrics; when false the final rubric is a numbered list.",
                "type": "boolean",
                "default": true
              },
              "max_categories": {
                "description": "Most Theme/Tips rubrics to produce.",
                "type": "integer",
                "minimum": 1,
                "maximum": 50,
                "default": 5
              }
            }
          }
        }
      },
      "verify": {
        "description": "Judging held-out labelled pairs with the rubric to measure it.",
        "type": "object",
        "additionalProperties": false,
        "default": {},
        "properties": {
          "test": {
            "description": "Held-out labelled pairs (.jsonl, .json array or .yaml).",
            "type": [
              "string",
              "null"
            ],
            "default": null,
            "x-arr-path": true
          },
          "both_orders": {
            "description": "Judge every pair in both candidate orders; a disagreement counts as not correct and agreement is reported.",
            "type": "boolean",
            "default": true
          },
          "baseline": {
            "description": "Also judge without the rubric (the direct-judge baseline) and report the gain.",
            "type": "boolean",
            "default": true
          },
          "min_accuracy": {
            "description": "verify fails (the report is kept) when accuracy is below this. Not part of any key.",
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "default": 0
          },
          "min_agreement": {
            "description": "verify fails when order agreement is below this. Not part of any key.",
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "default": 0
          },
          "min_gain": {
            "description": "verify fails when accuracy minus baseline accuracy is below this. Not part of any key.",
            "type": "number",
            "minimum": -1,
            "maximum": 1,
            "default": 0
          },
          "max_failures": {
            "description": "Judge calls that may fail for good (transport errors, timeouts, refusals, answers that never parse) before verify refuses to store its report. A report built with more failures than this is made again, asking only the failed calls. Not part of any key.",
            "type": "integer",
            "minimum": 0,
            "default": 0
          }
        }
      },
      "freeze": {
        "description": "Where the verified rubric is frozen: rubrics/<name>.v<version>.txt and its .lock.json.",
        "type": "object",
        "additionalProperties": false,
        "default": {},
        "properties": {
          "name": {
            "description": "Frozen rubric name; null means the experiment's name.",
            "type": [
              "string",
              "null"
            ],
            "pattern": "^[a-z0-9][a-z0-9._-]*$",
            "default": null
          },
          "version": {
            "description": "Frozen rubric version; a different text under an existing version is refused.",
            "type": "integer",
            "minimum": 1,
            "default": 1
          }
        }
      },
      "preprocess": {
        "description": "Precomputing the embeddings training reads.",
        "type": "object",
        "additionalProperties": false,
        "default": {},
        "properties": {
          "prompts": {
            "description": "Text-to-image training prompts, one per line (t2i).",
            "type": [
              "string",
              "null"
            ],
            "default": null,
            "x-arr-path": true
          },
          "edits": {
            "description": "Edit training items, JSON lines of {source_image, instruction} (edit).",
            "type": [
              "string",
              "null"
            ],
            "default": null,
            "x-arr-path": true
          },
          "skip_blank": {
            "description": "Skip blank lines of the prompt list (the reference keeps them and encodes empty prompts). Counted in the summary.",
            "type": "boolean",
            "default": true
          },
          "drop_cjk": {
            "description": "Drop prompts that contain CJK characters (U+4E00–U+9FFF), as the reference does silently. Counted in the summary.",
            "type": "boolean",
            "default": false
          },
          "max_items": {
            "description": "Encode at most this many prompts or edits (the reference caps FLUX prompts at 50,000); null for all. Counted in the summary.",
            "type": [
              "integer",
              "null"
            ],
            "minimum": 1,
            "default": null
          },
          "encoders": {
            "description": "A preset name (`flux`, `qwen-image-edit`: files in presets/encoders/ you can copy and change) or a list of encoder specs (schemas/encoder-spec.schema.json); null means the task's preset.",
            "default": null,
            "oneOf": [
              {
                "type": "null"
              },
              {
                "type": "string",
                "minLength": 1
              },
              {
                "type": "array",
                "items": {
                  "type": "object"
                }
              }
            ]
          },
          "models": {
            "description": "Folder holding the ONNX encoder files the preset lists.",
            "type": [
              "string",
              "null"
            ],
            "default": null,
            "x-arr-path": true
          },
          "format": {
            "description": "Embedding file format: `pt` (default) writes the torch files the reference trainers open with torch.load(weights_only=True); `safetensors` writes only .safetensors files, which the reference trainers cannot read (train-* refuses such a set unless train.command replaces the trainer).",
            "type": "string",
            "enum": [
              "safetensors",
              "pt"
            ],
            "default": "pt"
          },
          "batch_size": {
            "description": "Items per encoder run.",
            "type": "integer",
            "minimum": 1,
            "maximum": 4096,
            "default": 8
          }
        }
      },
      "train": {
        "description": "Launching ARR-RPO LoRA training (train-flux / train-edit). Never cached: each launch is a new run.",
        "type": "object",
        "additionalProperties": false,
        "default": {},
        "properties": {
          "command": {
            "description": "The trainer command as a list of strings; null means torchrun with the reference script under trainer_dir.",
            "type": [
              "array",
              "null"
            ],
            "items": {
              "type": "string"
            },
            "default": null
          },
          "trainer_dir": {
            "description": "Checkout of the reference trainers; null means $ARR_TRAINER_DIR.",
            "type": [
              "string",
              "null"
            ],
            "default": null,
            "x-arr-path": true
          },
          "base_model": {
            "description": "Base model folder (FLUX.1-dev or Qwen-Image-Edit weights).",
            "type": [
              "string",
              "null"
            ],
            "default": null,
            "x-arr-path": true
          },
          "embeddings": {
            "description": "A metadata.json of embeddings made elsewhere; when set, training does not depend on preprocess.",
            "type": [
              "string",
              "null"
            ],
            "default": null,
            "x-arr-path": true
          },
          "nnodes": {
            "description": "Number of nodes.",
            "type": "integer",
            "minimum": 1,
            "default": 1
          },
          "node_rank": {
            "description": "This node's rank.",
            "type": "integer",
            "minimum": 0,
            "default": 0
          },
          "rdzv_endpoint": {
            "description": "torchrun rendezvous host:port for multi-node runs.",
            "type": [
              "string",
              "null"
            ],
            "default": null
          },
          "gpus_per_node": {
            "description": "GPUs per node.",
            "type": "integer",
            "minimum": 1,
            "default": 8
          },
          "learning_rate": {
            "description": "Learning rate; null means the paper's value for the task (t2i 5e-5, edit 1e-5).",
            "type": [
              "number",
              "null"
            ],
            "exclusiveMinimum": 0,
            "default": null
          },
          "sampling_steps": {
            "description": "Sampling steps per rollout; null means the paper's value (t2i 8, edit 10).",
            "type": [
              "integer",
              "null"
            ],
            "minimum": 1,
            "default": null
          },
          "clip_range": {
            "description": "Policy ratio clip range.",
            "type": "number",
            "exclusiveMinimum": 0,
            "default": 0.2
          },
          "kl_beta": {
            "description": "KL penalty weight; null means the paper's value (t2i 0.01, edit 0.02).",
            "type": [
              "number",
              "null"
            ],
            "minimum": 0,
            "default": null
          },
          "lora": {
            "description": "LoRA adapter shape; null fields mean the paper's values (t2i 16/32, edit 32/64).",
            "type": "object",
            "additionalProperties": false,
            "default": {},
            "properties": {
              "rank": {
                "description": "LoRA rank.",
                "type": [
                  "integer",
                  "null"
                ],
                "minimum": 1,
                "default": null
              },
              "alpha": {
                "description": "LoRA alpha.",
                "type": [
                  "number",
                  "null"
                ],
                "exclusiveMinimum": 0,
                "default": null
              }
            }
          },
          "max_train_steps": {
            "description": "Training steps.",
            "type": "integer",
            "minimum": 1,
            "default": 300
          },
          "gradient_accumulation_steps": {
            "description": "Gradient accumulation; null means the samples per step (one optimizer step per training step).",
            "type": [
              "integer",
              "null"
            ],
            "minimum": 1,
            "default": null
          },
          "seed": {
            "description": "Random seed passed to the trainer.",
            "type": "integer",
            "default": 42
          },
          "flags": {
            "description": "Further reference-trainer flags passed as --name value (true → bare flag, false/null → omitted).",
            "type": "object",
            "additionalProperties": {
              "type": [
                "string",
                "number",
                "boolean",
                "null"
              ]
            },
            "default": {}
          }
        }
      },
      "reward": {
        "description": "The reward service trainers ask for rubric rewards.",
        "type": "object",
        "additionalProperties": false,
        "default": {},
        "properties": {
          "both_orders": {
            "description": "Judge each pair in both orders (doubles judge calls).",
            "type": "boolean",
            "default": false
          },
          "on_disagreement": {
            "description": "When the two orders disagree: `zero` (both rewards 0.0), `first` (keep the first order's verdict) or `error`.",
            "type": "string",
            "enum": [
              "zero",
              "first",
              "error"
            ],
            "default": "zero"
          },
          "allowed_roots": {
            "description": "Folders, besides the workspace and the run directory, that image paths in reward requests may come from.",
            "type": "array",
            "items": {
              "type": "string",
              "minLength": 1
            },
            "default": [],
            "x-arr-path": true
          },
          "bind": {
            "description": "Address the service listens on.",
            "type": "string",
            "default": "127.0.0.1"
          },
          "port": {
            "description": "Port the service listens on; 0 picks a free one.",
            "type": "integer",
            "minimum": 0,
            "maximum": 65535,
            "default": 0
          }
        }
      }
    }
  },
  "datasetRecord": {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://arr.dev/schemas/dataset-record.schema.json",
    "title": "DatasetRecord",
    "description": "One record of a seed or test dataset (.jsonl line, element of a .json array, or item of a YAML sequence), as the ARR reference accepts it: a query, candidate images (plus a base image for edit) under one of several alias keys, and a rank or score label. Keys not listed here are kept as metadata. `$defs/DatasetItem` is the normalized form the engine works with.",
    "type": "object",
    "additionalProperties": true,
    "properties": {
      "query": {
        "title": "Query",
        "description": "The text prompt (t2i) or editing instruction (edit). The first non-empty of `query`, `prompt`, `instruction` is used; null counts as absent.",
        "anyOf": [
          {
            "type": "string"
          },
          {
            "type": "null"
          }
        ]
      },
      "prompt": {
        "title": "Prompt",
        "description": "Alias of `query`, used when `query` is absent or empty.",
        "anyOf": [
          {
            "type": "string"
          },
          {
            "type": "null"
          }
        ]
      },
      "instruction": {
        "title": "Instruction",
        "description": "Alias of `query`, used when `query` and `prompt` are absent or empty (the usual key for edit instructions).",
        "anyOf": [
          {
            "type": "string"
          },
          {
            "type": "null"
          }
        ]
      },
      "image_paths": {
        "title": "ImagePaths",
        "description": "t2i candidates (checked first). For edit, a fallback for the edited images, checked after `response`, `responses`, `images`. t2i uses the first non-empty key among `image_paths`, `response`, `responses`, `images`, `image`, `generated_image`, `generated_images`. A string is one image; null entries are dropped. Paths are absolute or relative to the dataset file; http(s) and data: URLs pass through.",
        "$ref": "#/$defs/ImageList"
      },
      "response": {
        "title": "Response",
        "description": "Candidate images. t2i: checked after `image_paths`. Edit: the first fallback for the edited images when no explicit edited-image key is set; without a source key, it may start with the base image (see `response_includes_base`). t2i uses the first non-empty key among `image_paths`, `response`, `responses`, `images`, `image`, `generated_image`, `generated_images`. A string is one image; null entries are dropped. Paths are absolute or relative to the dataset file; http(s) and data: URLs pass through.",
        "$ref": "#/$defs/ImageList"
      },
      "responses": {
        "title": "Responses",
        "description": "Alias of `response`. t2i uses the first non-empty key among `image_paths`, `response`, `responses`, `images`, `image`, `generated_image`, `generated_images`. A string is one image; null entries are dropped. Paths are absolute or relative to the dataset file; http(s) and data: URLs pass through.",
        "$ref": "#/$defs/ImageList"
      },
      "images": {
        "title": "Images",
        "description": "Alias of `response` (t2i and edit fallback). t2i uses the first non-empty key among `image_paths`, `response`, `responses`, `images`, `image`, `generated_image`, `generated_images`. A string is one image; null entries are dropped. Paths are absolute or relative to the dataset file; http(s) and data: URLs pass through.",
        "$ref": "#/$defs/ImageList"
      },
      "image": {
        "title": "Image",
        "description": "Alias of `response` (t2i and the last edit fallback). t2i uses the first non-empty key among `image_paths`, `response`, `responses`, `images`, `image`, `generated_image`, `generated_images`. A string is one image; null entries are dropped. Paths are absolute or relative to the dataset file; http(s) and data: URLs pass through.",
        "$ref": "#/$defs/ImageList"
      },
      "generated_image": {
        "title": "GeneratedImage",
        "description": "t2i only: candidate images. Ignored for edit records. t2i uses the first non-empty key among `image_paths`, `response`, `responses`, `images`, `image`, `generated_image`, `generated_images`. A string is one image; null entries are dropped. Paths are absolute or relative to the dataset file; http(s) and data: URLs pass through.",
        "$ref": "#/$defs/ImageList"
      },
      "generated_images": {
        "title": "GeneratedImages",
        "description": "t2i only: candidate images (checked last). Ignored for edit records. t2i uses the first non-empty key among `image_paths`, `response`, `responses`, `images`, `image`, `generated_image`, `generated_images`. A string is one image; null entries are dropped. Paths are absolute or relative to the dataset file; http(s) and data: URLs pass through.",
        "$ref": "#/$defs/ImageList"
      },
      "source_image": {
        "title": "SourceImage",
        "description": "Edit only: the source (base) image the edits start from. The first non-empty key among `source_image`, `base_image`, `original_image`, `input_image`, `reference_image`, `ref_image` is used; of a list, only the first image. Ignored for t2i records.",
        "$ref": "#/$defs/ImageList"
      },
      "base_image": {
        "title": "BaseImage",
        "description": "Edit only: the source (base) image the edits start from. The first non-empty key among `source_image`, `base_image`, `original_image`, `input_image`, `reference_image`, `ref_image` is used; of a list, only the first image. Ignored for t2i records.",
        "$ref": "#/$defs/ImageList"
      },
      "original_image": {
        "title": "OriginalImage",
        "description": "Edit only: the source (base) image the edits start from. The first non-empty key among `source_image`, `base_image`, `original_image`, `input_image`, `reference_image`, `ref_image` is used; of a list, only the first image. Ignored for t2i records.",
        "$ref": "#/$defs/ImageList"
      },
      "input_image": {
        "title": "InputImage",
        "description": "Edit only: the source (base) image the edits start from. The first non-empty key among `source_image`, `base_image`, `original_image`, `input_image`, `reference_image`, `ref_image` is used; of a list, only the first image. Ignored for t2i records.",
        "$ref": "#/$defs/ImageList"
      },
      "reference_image": {
        "title": "ReferenceImage",
        "description": "Edit only: the source (base) image the edits start from. The first non-empty key among `source_image`, `base_image`, `original_image`, `input_image`, `reference_image`, `ref_image` is used; of a list, only the first image. Ignored for t2i records.",
        "$ref": "#/$defs/ImageList"
      },
      "ref_image": {
        "title": "RefImage",
        "description": "Edit only: the source (base) image the edits start from. The first non-empty key among `source_image`, `base_image`, `original_image`, `input_image`, `reference_image`, `ref_image` is used; of a list, only the first image. Ignored for t2i records.",
        "$ref": "#/$defs/ImageList"
      },
      "edited_image": {
        "title": "EditedImage",
        "description": "Edit only: the edited candidate images. The first non-empty key among `edited_image`, `edited_images`, `target_image`, `target_images`, `output_image`, `output_images`, `result_image`, `result_images` is used; it never holds the base image. Ignored for t2i records.",
        "$ref": "#/$defs/ImageList"
      },
      "edited_images": {
        "title": "EditedImages",
        "description": "Edit only: the edited candidate images. The first non-empty key among `edited_image`, `edited_images`, `target_image`, `target_images`, `output_image`, `output_images`, `result_image`, `result_images` is used; it never holds the base image. Ignored for t2i records.",
        "$ref": "#/$defs/ImageList"
      },
      "target_image": {
        "title": "TargetImage",
        "description": "Edit only: the edited candidate images. The first non-empty key among `edited_image`, `edited_images`, `target_image`, `target_images`, `output_image`, `output_images`, `result_image`, `result_images` is used; it never holds the base image. Ignored for t2i records.",
        "$ref": "#/$defs/ImageList"
      },
      "target_images": {
        "title": "TargetImages",
        "description": "Edit only: the edited candidate images. The first non-empty key among `edited_image`, `edited_images`, `target_image`, `target_images`, `output_image`, `output_images`, `result_image`, `result_images` is used; it never holds the base image. Ignored for t2i records.",
        "$ref": "#/$defs/ImageList"
      },
      "output_image": {
        "title": "OutputImage",
        "description": "Edit only: the edited candidate images. The first non-empty key among `edited_image`, `edited_images`, `target_image`, `target_images`, `output_image`, `output_images`, `result_image`, `result_images` is used; it never holds the base image. Ignored for t2i records.",
        "$ref": "#/$defs/ImageList"
      },
      "output_images": {
        "title": "OutputImages",
        "description": "Edit only: the edited candidate images. The first non-empty key among `edited_image`, `edited_images`, `target_image`, `target_images`, `output_image`, `output_images`, `result_image`, `result_images` is used; it never holds the base image. Ignored for t2i records.",
        "$ref": "#/$defs/ImageList"
      },
      "result_image": {
        "title": "ResultImage",
        "description": "Edit only: the edited candidate images. The first non-empty key among `edited_image`, `edited_images`, `target_image`, `target_images`, `output_image`, `output_images`, `result_image`, `result_images` is used; it never holds the base image. Ignored for t2i records.",
        "$ref": "#/$defs/ImageList"
      },
      "result_images": {
        "title": "ResultImages",
        "description": "Edit only: the edited candidate images. The first non-empty key among `edited_image`, `edited_images`, `target_image`, `target_images`, `output_image`, `output_images`, `result_image`, `result_images` is used; it never holds the base image. Ignored for t2i records.",
        "$ref": "#/$defs/ImageList"
      },
      "label_rank": {
        "title": "LabelRank",
        "description": "Pairwise/listwise label: one rank per candidate image, in candidate order (never the base image); 1 is best. Must be a permutation of 1..N where N is the number of candidates: `[2, 1]` prefers the second image. For edit records without a source key its length also decides whether `response` starts with the base image.",
        "anyOf": [
          {
            "type": "array",
            "items": {
              "type": "integer",
              "minimum": 1
            }
          },
          {
            "type": "null"
          }
        ]
      },
      "label_score": {
        "title": "LabelScore",
        "description": "Pointwise label: an integer score between the experiment's `rubric.min_score` and `rubric.max_score` (default 1..5). For edit records without a source key, its presence with exactly two `response` images means the first is the base.",
        "anyOf": [
          {
            "type": "integer"
          },
          {
            "type": "null"
          }
        ]
      },
      "task_type": {
        "title": "TaskType",
        "description": "Free-form edit operation tags for this record (shown to the rubric generator as \"Edit operation tags\"). Unrelated to the experiment's `task`.",
        "anyOf": [
          {
            "type": "string"
          },
          {
            "type": "null"
          }
        ]
      },
      "response_includes_base": {
        "title": "ResponseIncludesBase",
        "description": "Edit only, when no source or edited-image key is set: true means the first `response` image is the base image (needs at least two images).",
        "anyOf": [
          {
            "type": "boolean"
          },
          {
            "type": "null"
          }
        ]
      }
    },
    "$defs": {
      "ImageList": {
        "title": "ImageList",
        "description": "One image (a string) or a list of them; null and null entries count as absent. Each is a local path (absolute, `~/…`, or relative to the dataset file), an http(s) URL or a data: URL.",
        "oneOf": [
          {
            "type": "string"
          },
          {
            "type": "null"
          },
          {
            "type": "array",
            "items": {
              "anyOf": [
                {
                  "type": "string"
                },
                {
                  "type": "null"
                }
              ]
            }
          }
        ]
      },
      "ImageRef": {
        "title": "ImageRef",
        "description": "A normalized image reference.",
        "oneOf": [
          {
            "title": "FileImageRef",
            "description": "A local image file.",
            "type": "object",
            "additionalProperties": false,
            "required": [
              "kind",
              "path"
            ],
            "properties": {
              "kind": {
                "title": "FileKind",
                "description": "Discriminator: a local file.",
                "const": "file"
              },
              "path": {
                "title": "FilePath",
                "description": "Absolute path, resolved against the dataset file's folder when the record gave a relative one (not realpath'd).",
                "type": "string",
                "minLength": 1
              }
            }
          },
          {
            "title": "UrlImageRef",
            "description": "An http(s) URL, passed to the judge unchanged and never fetched by the loader.",
            "type": "object",
            "additionalProperties": false,
            "required": [
              "kind",
              "url"
            ],
            "properties": {
              "kind": {
                "title": "UrlKind",
                "description": "Discriminator: a remote URL.",
                "const": "url"
              },
              "url": {
                "title": "Url",
                "description": "The http:// or https:// URL as written.",
                "type": "string",
                "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"
              }
            }
          },
          {
            "title": "DataImageRef",
            "description": "An inline data: URL, kept as the string.",
            "type": "object",
            "additionalProperties": false,
            "required": [
              "kind",
              "url",
              "mime"
            ],
            "properties": {
              "kind": {
                "title": "DataKind",
                "description": "Discriminator: an inline data URL.",
                "const": "data"
              },
              "url": {
                "title": "DataUrl",
                "description": "The whole data: URL as written.",
                "type": "string",
                "pattern": "^[Dd][Aa][Tt][Aa]:"
              },
              "mime": {
                "title": "DataMime",
                "description": "The media type declared by the data URL (`text/plain` when it declares none).",
                "type": "string"
              }
            }
          }
        ]
      },
      "Label": {
        "title": "Label",
        "description": "A rank label (pairwise/listwise) or a score label (pointwise).",
        "oneOf": [
          {
            "title": "RankLabel",
            "description": "Ranks aligned with the candidates; 1 is best; a permutation of 1..N.",
            "type": "object",
            "additionalProperties": false,
            "required": [
              "rank"
            ],
            "properties": {
              "rank": {
                "title": "Rank",
                "description": "One rank per candidate, a permutation of 1..N.",
                "type": "array",
                "items": {
                  "type": "integer",
                  "minimum": 1
                }
              }
            }
          },
          {
            "title": "ScoreLabel",
            "description": "An integer score for a single candidate (pointwise).",
            "type": "object",
            "additionalProperties": false,
            "required": [
              "score"
            ],
            "properties": {
              "score": {
                "title": "Score",
                "description": "The score, within [min_score, max_score].",
                "type": "integer"
              }
            }
          }
        ]
      },
      "DatasetItem": {
        "title": "DatasetItem",
        "description": "One record after normalization: the query, the optional base image, the candidates in order and the label, with every image path resolved.",
        "type": "object",
        "additionalProperties": false,
        "required": [
          "index",
          "query",
          "candidates",
          "meta"
        ],
        "properties": {
          "index": {
            "title": "ItemIndex",
            "description": "0-based index of the record in the dataset (for .jsonl, counting non-blank lines).",
            "type": "integer",
            "minimum": 0
          },
          "line": {
            "title": "ItemLine",
            "description": "1-based line where the record starts in the dataset file, when known.",
            "type": "integer",
            "minimum": 1
          },
          "query": {
            "title": "ItemQuery",
            "description": "The caption (t2i) or editing instruction (edit): the first non-empty of query, prompt, instruction.",
            "type": "string",
            "minLength": 1
          },
          "source": {
            "title": "ItemSource",
            "description": "Edit only: the base image the candidates were edited from; absent for t2i and for edit records without one.",
            "$ref": "#/$defs/ImageRef"
          },
          "candidates": {
            "title": "ItemCandidates",
            "description": "The candidate images in record order (Image 1..N); never includes the base. Never empty.",
            "type": "array",
            "items": {
              "$ref": "#/$defs/ImageRef"
            }
          },
          "label": {
            "title": "ItemLabel",
            "description": "The preference label, when the record has one.",
            "$ref": "#/$defs/Label"
          },
          "taskType": {
            "title": "ItemTaskType",
            "description": "The record's own `task_type` tags (edit operation tags), unrelated to the experiment task.",
            "type": "string"
          },
          "meta": {
            "title": "ItemMeta",
            "description": "Every key of the record this format does not define (ids, sources, notes), as written.",
            "type": "object",
            "additionalProperties": true
          }
        }
      }
    }
  },
  "rubricLock": {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://arr.dev/schemas/rubric-lock.schema.json",
    "title": "RubricLock",
    "description": "The lock written beside a frozen rubric (rubrics/<name>.v<version>.lock.json): which text was frozen (its sha256), what it was built and verified from, the metrics it earned and the thresholds it was held to. `arr import` writes one, with `source: imported`, for a reference rubric it copies. Reviewed in pull requests and checked in CI by `arr rubric check`.",
    "type": "object",
    "additionalProperties": false,
    "required": [
      "schema",
      "name",
      "version",
      "rubric_sha256",
      "source_artifact",
      "verify_key",
      "prompt_version",
      "judge_model",
      "datasets",
      "metrics",
      "thresholds",
      "frozen_at"
    ],
    "$defs": {
      "sha256": {
        "description": "A sha256 as 64 lowercase hex characters.",
        "type": "string",
        "pattern": "^[0-9a-f]{64}$"
      },
      "dataset": {
        "description": "A dataset the rubric was built or verified from, or null when none was used.",
        "oneOf": [
          {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "path",
              "sha256"
            ],
            "properties": {
              "path": {
                "description": "The dataset file, workspace-relative (POSIX) or absolute when it lies outside the workspace.",
                "type": "string",
                "minLength": 1
              },
              "sha256": {
                "description": "sha256 of the dataset file's bytes when the rubric was frozen.",
                "$ref": "#/$defs/sha256"
              }
            }
          },
          {
            "type": "null"
          }
        ]
      },
      "optionalRatio": {
        "description": "A share between 0 and 1, or null when it was not measured.",
        "type": [
          "number",
          "null"
        ],
        "minimum": 0,
        "maximum": 1
      }
    },
    "properties": {
      "schema": {
        "description": "Lock format version.",
        "const": 1
      },
      "source": {
        "description": "Where the text came from: `verified` (frozen by the freeze target after verification; the default when absent) or `imported` (taken as is by `arr import` from a reference config, never verified here: its metrics, thresholds and verify key are null).",
        "type": "string",
        "enum": [
          "verified",
          "imported"
        ]
      },
      "name": {
        "description": "Frozen rubric name (freeze.name); the text is rubrics/<name>.v<version>.txt.",
        "type": "string",
        "pattern": "^[a-z0-9][a-z0-9._-]*$"
      },
      "version": {
        "description": "Frozen rubric version (freeze.version). A different text under an existing version is refused; bump the version instead.",
        "type": "integer",
        "minimum": 1
      },
      "rubric_sha256": {
        "description": "sha256 of the frozen text file's bytes; `arr rubric check` fails when the file no longer matches.",
        "$ref": "#/$defs/sha256"
      },
      "source_artifact": {
        "description": "Key of the rubric-generate artifact the text came from, or null when the text came from elsewhere (rubric.from, a hand-written file).",
        "oneOf": [
          {
            "$ref": "#/$defs/sha256"
          },
          {
            "type": "null"
          }
        ]
      },
      "verify_key": {
        "description": "Key of the verify artifact whose report supplied the metrics. Null for an imported rubric.",
        "oneOf": [
          {
            "$ref": "#/$defs/sha256"
          },
          {
            "type": "null"
          }
        ]
      },
      "prompt_version": {
        "description": "Version of the prompt templates the rubric was generated and verified with. Null for an imported rubric.",
        "type": [
          "string",
          "null"
        ],
        "minLength": 1
      },
      "judge_model": {
        "description": "Judge model id the rubric was generated and verified with. Null for an imported rubric.",
        "type": [
          "string",
          "null"
        ],
        "minLength": 1
      },
      "judge_backend": {
        "description": "Where the judge ran: an OpenAI-compatible endpoint, or in-process on llama.cpp.",
        "type": "string",
        "enum": [
          "http",
          "local"
        ]
      },
      "judge_files": {
        "description": "The local judge's GGUF files (model, then projector); absent for an endpoint.",
        "type": "array",
        "items": {
          "type": "object",
          "additionalProperties": false,
          "required": [
            "name",
            "sha256"
          ],
          "properties": {
            "name": {
              "description": "File name.",
              "type": "string"
            },
            "sha256": {
              "$ref": "#/$defs/sha256"
            }
          }
        }
      },
      "datasets": {
        "description": "The labelled datasets behind the rubric, with their hashes when frozen.",
        "type": "object",
        "additionalProperties": false,
        "required": [
          "seed",
          "test"
        ],
        "properties": {
          "seed": {
            "description": "The seed pairs the rubric was generated from (rubric.seed), or null when it was not generated here.",
            "$ref": "#/$defs/dataset"
          },
          "test": {
            "description": "The held-out pairs it was verified on (verify.test), or null.",
            "$ref": "#/$defs/dataset"
          }
        }
      },
      "metrics": {
        "description": "What verification measured, copied from the verify report. Null for an imported rubric.",
        "oneOf": [
          {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "accuracy",
              "ci95",
              "agreement",
              "baseline_accuracy",
              "gain",
              "seed_accuracy",
              "failures"
            ],
            "properties": {
              "accuracy": {
                "description": "Accuracy of the judge with this rubric on the test pairs (failures and order disagreements count as wrong).",
                "type": "number",
                "minimum": 0,
                "maximum": 1
              },
              "ci95": {
                "description": "Wilson 95% interval of the accuracy, [low, high].",
                "type": "array",
                "items": {
                  "type": "number",
                  "minimum": 0,
                  "maximum": 1
                },
                "minItems": 2,
                "maxItems": 2
              },
              "agreement": {
                "description": "Share of test pairs whose two candidate orders agreed; null when judged in one order only.",
                "$ref": "#/$defs/optionalRatio"
              },
              "baseline_accuracy": {
                "description": "Accuracy of the same judge without the rubric (the direct-judge baseline); null when no baseline ran.",
                "$ref": "#/$defs/optionalRatio"
              },
              "gain": {
                "description": "accuracy minus baseline_accuracy; null when no baseline ran.",
                "type": [
                  "number",
                  "null"
                ],
                "minimum": -1,
                "maximum": 1
              },
              "seed_accuracy": {
                "description": "Accuracy of the final rubric re-verified on the seed pairs; null when not measured.",
                "$ref": "#/$defs/optionalRatio"
              },
              "failures": {
                "description": "Test judgements that failed (errors, invalid answers after re-asks).",
                "type": "integer",
                "minimum": 0
              }
            }
          },
          {
            "type": "null"
          }
        ]
      },
      "thresholds": {
        "description": "The thresholds in force when the rubric was frozen (verify.min_*); the metrics must meet them. Null for an imported rubric.",
        "oneOf": [
          {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "min_accuracy",
              "min_agreement",
              "min_gain"
            ],
            "properties": {
              "min_accuracy": {
                "description": "Lowest acceptable accuracy (verify.min_accuracy).",
                "type": "number",
                "minimum": 0,
                "maximum": 1
              },
              "min_agreement": {
                "description": "Lowest acceptable order agreement (verify.min_agreement); checked when agreement is not null.",
                "type": "number",
                "minimum": 0,
                "maximum": 1
              },
              "min_gain": {
                "description": "Lowest acceptable gain over the baseline (verify.min_gain); checked when gain is not null.",
                "type": "number",
                "minimum": -1,
                "maximum": 1
              }
            }
          },
          {
            "type": "null"
          }
        ]
      },
      "frozen_at": {
        "description": "When the rubric was frozen (ISO 8601 date-time, UTC).",
        "type": "string",
        "format": "date-time"
      },
      "imported_from": {
        "description": "For an imported rubric: the reference config or rubric file it came from, as given to `arr import`.",
        "type": "string",
        "minLength": 1
      }
    },
    "if": {
      "not": {
        "required": [
          "source"
        ],
        "properties": {
          "source": {
            "const": "imported"
          }
        }
      }
    },
    "then": {
      "description": "A verified lock carries its verification.",
      "properties": {
        "verify_key": {
          "not": {
            "type": "null"
          }
        },
        "prompt_version": {
          "not": {
            "type": "null"
          }
        },
        "judge_model": {
          "not": {
            "type": "null"
          }
        },
        "metrics": {
          "not": {
            "type": "null"
          }
        },
        "thresholds": {
          "not": {
            "type": "null"
          }
        }
      }
    }
  },
  "encoderSpec": {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://arr.dev/schemas/encoder-spec.schema.json",
    "title": "EncoderSpecs",
    "description": "The encoders `preprocess` runs with onnxruntime-node: a list of specs, as `preprocess.encoders` or a preset file in presets/encoders/. File paths are relative to `preprocess.models`.",
    "type": "array",
    "minItems": 1,
    "items": {
      "$ref": "#/$defs/EncoderSpec"
    },
    "$defs": {
      "EncoderSpec": {
        "title": "EncoderSpec",
        "type": "object",
        "additionalProperties": false,
        "required": [
          "name",
          "model",
          "inputs",
          "outputs"
        ],
        "description": "One ONNX encoder: what it reads, how its inputs are prepared, and what of its outputs is stored.",
        "properties": {
          "name": {
            "type": "string",
            "minLength": 1,
            "description": "Name shown in progress and errors."
          },
          "model": {
            "type": "string",
            "minLength": 1,
            "description": "The .onnx file, relative to preprocess.models."
          },
          "tokenizer": {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "file",
              "max_length"
            ],
            "description": "Text preparation: a Hugging Face tokenizer.json.",
            "properties": {
              "file": {
                "type": "string",
                "minLength": 1,
                "description": "tokenizer.json, relative to preprocess.models."
              },
              "max_length": {
                "type": "integer",
                "minimum": 1,
                "description": "Tokens per text after truncation."
              },
              "padding": {
                "enum": [
                  "max_length",
                  "longest"
                ],
                "default": "max_length",
                "description": "Pad every text to max_length, or to the longest in the batch."
              },
              "pad_id": {
                "type": [
                  "integer",
                  "null"
                ],
                "default": null,
                "description": "Padding token id; null uses the tokenizer's."
              },
              "template": {
                "type": [
                  "object",
                  "null"
                ],
                "default": null,
                "additionalProperties": false,
                "required": [
                  "text"
                ],
                "description": "Wraps each text before tokenizing, as a pipeline's prompt template does (Qwen-Image-Edit's system template around the instruction). The tokenizer must know the template's special tokens.",
                "properties": {
                  "text": {
                    "type": "string",
                    "minLength": 1,
                    "description": "The template: `{prompt}` stands for the item's text, `{image}` for `image_token` repeated `image_tokens` times."
                  },
                  "image_token": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "default": null,
                    "description": "The vision placeholder token (Qwen2.5-VL: <|image_pad|>)."
                  },
                  "image_tokens": {
                    "type": "integer",
                    "minimum": 0,
                    "default": 0,
                    "description": "How many image_token the model's vision input fills: (height / 28) × (width / 28) for Qwen2.5-VL's 14-pixel patches merged 2×2."
                  }
                }
              }
            }
          },
          "image": {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "size",
              "mean",
              "std"
            ],
            "description": "Image preparation with sharp (the source image of an edit item).",
            "properties": {
              "size": {
                "type": "array",
                "items": {
                  "type": "integer",
                  "minimum": 1
                },
                "minItems": 2,
                "maxItems": 2,
                "description": "[width, height] fed to the model."
              },
              "resize": {
                "enum": [
                  "fill",
                  "contain",
                  "cover"
                ],
                "default": "fill",
                "description": "How the image is fitted to size (sharp's fit)."
              },
              "mean": {
                "type": "array",
                "items": {
                  "type": "number"
                },
                "minItems": 3,
                "maxItems": 3,
                "description": "Per-channel mean subtracted after scaling."
              },
              "std": {
                "type": "array",
                "items": {
                  "type": "number"
                },
                "minItems": 3,
                "maxItems": 3,
                "description": "Per-channel standard deviation divided by."
              },
              "layout": {
                "enum": [
                  "nchw",
                  "nhwc"
                ],
                "default": "nchw",
                "description": "Tensor layout."
              },
              "scale": {
                "type": "number",
                "default": 255,
                "description": "Pixel values are divided by this first."
              },
              "records_dimensions": {
                "type": "boolean",
                "default": false,
                "description": "Record this size as each entry's calculated_height / calculated_width (the source latents' size the edit trainer reads); without it, the first image spec's size is recorded."
              }
            }
          },
          "inputs": {
            "type": "array",
            "minItems": 1,
            "description": "Model inputs and what feeds them.",
            "items": {
              "type": "object",
              "additionalProperties": false,
              "required": [
                "name",
                "source",
                "dtype"
              ],
              "properties": {
                "name": {
                  "type": "string",
                  "description": "The model's input name."
                },
                "source": {
                  "enum": [
                    "input_ids",
                    "attention_mask",
                    "pixel_values"
                  ],
                  "description": "What feeds it."
                },
                "dtype": {
                  "enum": [
                    "int64",
                    "int32",
                    "float32"
                  ],
                  "description": "The tensor type the model expects."
                }
              }
            }
          },
          "outputs": {
            "type": "array",
            "minItems": 1,
            "description": "Model outputs to store.",
            "items": {
              "type": "object",
              "additionalProperties": false,
              "required": [
                "name",
                "save_as",
                "dtype"
              ],
              "properties": {
                "name": {
                  "type": "string",
                  "description": "The model's output name."
                },
                "save_as": {
                  "type": "string",
                  "pattern": "^[A-Za-z0-9_]+$",
                  "description": "Folder and tensor name in the output (e.g. prompt_embed)."
                },
                "dtype": {
                  "enum": [
                    "float32",
                    "float16",
                    "bfloat16"
                  ],
                  "description": "Storage type."
                },
                "squeeze_batch": {
                  "type": "boolean",
                  "default": true,
                  "description": "Store each item without the batch dimension."
                },
                "pad_to": {
                  "type": [
                    "integer",
                    "null"
                  ],
                  "minimum": 1,
                  "default": null,
                  "description": "Zero-pad the first (sequence) dimension to this length; the unpadded length is recorded as original_length."
                },
                "drop_prefix": {
                  "type": "integer",
                  "minimum": 0,
                  "default": 0,
                  "description": "Leading sequence positions dropped from each item before pad_to (the pipeline's template prefix: 64 for Qwen-Image-Edit); original_length and the saved mask count what remains. Needs pad_to."
                },
                "normalize": {
                  "type": [
                    "object",
                    "null"
                  ],
                  "default": null,
                  "additionalProperties": false,
                  "description": "Per-channel normalisation along the first dimension after the batch: (x - mean[c]) / std[c]. For VAE latents, from the checkpoint's vae/config.json (latents_mean, latents_std).",
                  "properties": {
                    "config": {
                      "type": [
                        "string",
                        "null"
                      ],
                      "default": null,
                      "description": "A JSON file, relative to preprocess.models, holding `latents_mean` and `latents_std` arrays."
                    },
                    "mean": {
                      "type": [
                        "array",
                        "null"
                      ],
                      "items": {
                        "type": "number"
                      },
                      "default": null,
                      "description": "Per-channel means, when not read from config."
                    },
                    "std": {
                      "type": [
                        "array",
                        "null"
                      ],
                      "items": {
                        "type": "number"
                      },
                      "default": null,
                      "description": "Per-channel standard deviations, when not read from config."
                    }
                  }
                }
              }
            }
          },
          "save_mask_as": {
            "type": [
              "string",
              "null"
            ],
            "pattern": "^[A-Za-z0-9_]+$",
            "default": null,
            "description": "Also store the attention mask (padded like the outputs) under this name, e.g. prompt_attention_mask."
          },
          "constants": {
            "type": "array",
            "default": [],
            "description": "Tensors stored with every item that the model does not compute (FLUX's text_ids).",
            "items": {
              "type": "object",
              "additionalProperties": false,
              "required": [
                "save_as",
                "shape",
                "dtype"
              ],
              "properties": {
                "save_as": {
                  "type": "string",
                  "pattern": "^[A-Za-z0-9_]+$",
                  "description": "Folder and tensor name."
                },
                "shape": {
                  "type": "array",
                  "items": {
                    "type": "integer",
                    "minimum": 1
                  },
                  "description": "Shape."
                },
                "dtype": {
                  "enum": [
                    "float32",
                    "float16",
                    "bfloat16"
                  ],
                  "description": "Storage type."
                },
                "fill": {
                  "type": "number",
                  "default": 0,
                  "description": "Value of every element."
                }
              }
            }
          }
        }
      }
    }
  }
} as const;
