// What a diffusion pipeline does around its encoders that a bare ONNX export does not: the prompt
// template (with the vision placeholder tokens an image fills), and the per-channel latent
// normalisation from the VAE's config. The prefix drop lives in the encoder runner, beside pad_to.
import { readFileSync } from 'node:fs';
import type { EncoderSpec } from '../types/encoder-spec.js';

export type PromptTemplate = NonNullable<NonNullable<EncoderSpec['tokenizer']>['template']>;

/** The text the tokenizer sees: the template with `{prompt}` and `{image}` filled in. */
export function applyTemplate(prompt: string, template: PromptTemplate | null | undefined): string {
  if (!template) return prompt;
  const image = template.image_token ? template.image_token.repeat(template.image_tokens ?? 0) : '';
  // split/join, not replace: a prompt holding "$&" or "{image}" must stay as written.
  return template.text.split('{image}').join(image).split('{prompt}').join(prompt);
}

export interface ChannelStats {
  mean: number[];
  std: number[];
}

/** latents_mean / latents_std from a VAE config.json (diffusers' AutoencoderKLQwenImage keeps them there). */
export function readLatentStats(file: string): ChannelStats {
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message}`);
  }
  const mean = config.latents_mean;
  const std = config.latents_std;
  const numbers = (v: unknown) =>
    Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!numbers(mean) || !numbers(std))
    throw new Error(`${file} needs latents_mean and latents_std as arrays of numbers (the VAE's config.json)`);
  if ((mean as number[]).length !== (std as number[]).length)
    throw new Error(
      `${file}: latents_mean has ${(mean as number[]).length} values, latents_std ${(std as number[]).length}`,
    );
  if ((std as number[]).some((x) => x === 0)) throw new Error(`${file}: latents_std has a zero`);
  return { mean: mean as number[], std: std as number[] };
}

/**
 * (x - mean[c]) / std[c] in place, channel c being the first dimension of `shape` (one item, no
 * batch): what the pipeline's `_encode_vae_image` does to the VAE's latents.
 */
export function normalizeChannels(data: Float32Array, shape: readonly number[], stats: ChannelStats): void {
  const channels = shape[0];
  if (stats.mean.length !== channels)
    throw new Error(`latents have ${channels} channels but the normalisation has ${stats.mean.length} means`);
  const per = data.length / channels;
  for (let c = 0; c < channels; c++) {
    const m = stats.mean[c];
    const inv = 1 / stats.std[c];
    for (let k = c * per; k < (c + 1) * per; k++) data[k] = (data[k] - m) * inv;
  }
}
