/* Generated from schemas/encoder-spec.schema.json by scripts/gen.ts (npm run gen). Do not edit by hand. */

/**
 * The encoders `preprocess` runs with onnxruntime-node: a list of specs, as `preprocess.encoders` or a preset file in presets/encoders/. File paths are relative to `preprocess.models`.
 *
 * @minItems 1
 */
export type EncoderSpecs = [EncoderSpec, ...EncoderSpec[]];

/**
 * One ONNX encoder: what it reads, how its inputs are prepared, and what of its outputs is stored.
 */
export interface EncoderSpec {
  /**
   * Name shown in progress and errors.
   */
  name: string;
  /**
   * The .onnx file, relative to preprocess.models.
   */
  model: string;
  /**
   * Text preparation: a Hugging Face tokenizer.json.
   */
  tokenizer?: {
    /**
     * tokenizer.json, relative to preprocess.models.
     */
    file: string;
    /**
     * Tokens per text after truncation.
     */
    max_length: number;
    /**
     * Pad every text to max_length, or to the longest in the batch.
     */
    padding?: "max_length" | "longest";
    /**
     * Padding token id; null uses the tokenizer's.
     */
    pad_id?: number | null;
    /**
     * Wraps each text before tokenizing, as a pipeline's prompt template does (Qwen-Image-Edit's system template around the instruction). The tokenizer must know the template's special tokens.
     */
    template?: {
      /**
       * The template: `{prompt}` stands for the item's text, `{image}` for `image_token` repeated `image_tokens` times.
       */
      text: string;
      /**
       * The vision placeholder token (Qwen2.5-VL: <|image_pad|>).
       */
      image_token?: string | null;
      /**
       * How many image_token the model's vision input fills: (height / 28) × (width / 28) for Qwen2.5-VL's 14-pixel patches merged 2×2.
       */
      image_tokens?: number;
    } | null;
  };
  /**
   * Image preparation with sharp (the source image of an edit item).
   */
  image?: {
    /**
     * [width, height] fed to the model.
     *
     * @minItems 2
     * @maxItems 2
     */
    size: [number, number];
    /**
     * How the image is fitted to size (sharp's fit).
     */
    resize?: "fill" | "contain" | "cover";
    /**
     * Per-channel mean subtracted after scaling.
     *
     * @minItems 3
     * @maxItems 3
     */
    mean: [number, number, number];
    /**
     * Per-channel standard deviation divided by.
     *
     * @minItems 3
     * @maxItems 3
     */
    std: [number, number, number];
    /**
     * Tensor layout.
     */
    layout?: "nchw" | "nhwc";
    /**
     * Pixel values are divided by this first.
     */
    scale?: number;
    /**
     * Record this size as each entry's calculated_height / calculated_width (the source latents' size the edit trainer reads); without it, the first image spec's size is recorded.
     */
    records_dimensions?: boolean;
  };
  /**
   * Model inputs and what feeds them.
   *
   * @minItems 1
   */
  inputs: [
    {
      /**
       * The model's input name.
       */
      name: string;
      /**
       * What feeds it.
       */
      source: "input_ids" | "attention_mask" | "pixel_values";
      /**
       * The tensor type the model expects.
       */
      dtype: "int64" | "int32" | "float32";
    },
    ...{
      /**
       * The model's input name.
       */
      name: string;
      /**
       * What feeds it.
       */
      source: "input_ids" | "attention_mask" | "pixel_values";
      /**
       * The tensor type the model expects.
       */
      dtype: "int64" | "int32" | "float32";
    }[]
  ];
  /**
   * Model outputs to store.
   *
   * @minItems 1
   */
  outputs: [
    {
      /**
       * The model's output name.
       */
      name: string;
      /**
       * Folder and tensor name in the output (e.g. prompt_embed).
       */
      save_as: string;
      /**
       * Storage type.
       */
      dtype: "float32" | "float16" | "bfloat16";
      /**
       * Store each item without the batch dimension.
       */
      squeeze_batch?: boolean;
      /**
       * Zero-pad the first (sequence) dimension to this length; the unpadded length is recorded as original_length.
       */
      pad_to?: number | null;
      /**
       * Leading sequence positions dropped from each item before pad_to (the pipeline's template prefix: 64 for Qwen-Image-Edit); original_length and the saved mask count what remains. Needs pad_to.
       */
      drop_prefix?: number;
      /**
       * Per-channel normalisation along the first dimension after the batch: (x - mean[c]) / std[c]. For VAE latents, from the checkpoint's vae/config.json (latents_mean, latents_std).
       */
      normalize?: {
        /**
         * A JSON file, relative to preprocess.models, holding `latents_mean` and `latents_std` arrays.
         */
        config?: string | null;
        /**
         * Per-channel means, when not read from config.
         */
        mean?: number[] | null;
        /**
         * Per-channel standard deviations, when not read from config.
         */
        std?: number[] | null;
      } | null;
    },
    ...{
      /**
       * The model's output name.
       */
      name: string;
      /**
       * Folder and tensor name in the output (e.g. prompt_embed).
       */
      save_as: string;
      /**
       * Storage type.
       */
      dtype: "float32" | "float16" | "bfloat16";
      /**
       * Store each item without the batch dimension.
       */
      squeeze_batch?: boolean;
      /**
       * Zero-pad the first (sequence) dimension to this length; the unpadded length is recorded as original_length.
       */
      pad_to?: number | null;
      /**
       * Leading sequence positions dropped from each item before pad_to (the pipeline's template prefix: 64 for Qwen-Image-Edit); original_length and the saved mask count what remains. Needs pad_to.
       */
      drop_prefix?: number;
      /**
       * Per-channel normalisation along the first dimension after the batch: (x - mean[c]) / std[c]. For VAE latents, from the checkpoint's vae/config.json (latents_mean, latents_std).
       */
      normalize?: {
        /**
         * A JSON file, relative to preprocess.models, holding `latents_mean` and `latents_std` arrays.
         */
        config?: string | null;
        /**
         * Per-channel means, when not read from config.
         */
        mean?: number[] | null;
        /**
         * Per-channel standard deviations, when not read from config.
         */
        std?: number[] | null;
      } | null;
    }[]
  ];
  /**
   * Also store the attention mask (padded like the outputs) under this name, e.g. prompt_attention_mask.
   */
  save_mask_as?: string | null;
  /**
   * Tensors stored with every item that the model does not compute (FLUX's text_ids).
   */
  constants?: {
    /**
     * Folder and tensor name.
     */
    save_as: string;
    /**
     * Shape.
     */
    shape: number[];
    /**
     * Storage type.
     */
    dtype: "float32" | "float16" | "bfloat16";
    /**
     * Value of every element.
     */
    fill?: number;
  }[];
}
