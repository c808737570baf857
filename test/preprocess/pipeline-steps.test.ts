// What the presets add to a bare encoder so preprocess reproduces the pipelines: FLUX's T5 fed without
// a mask (pad positions keep their embeddings), text_ids; Qwen-Image-Edit's prompt template with the
// vision placeholder tokens, the template prefix dropped before padding (mask and original_length
// counting what remains), and VAE latents normalised by latents_mean/std from vae/config.json.
// Tiny ONNX graphs (test/helpers/onnx-models.ts) stand in for the real encoders; real-architecture
// parity is test/preprocess/parity.test.ts.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncoderRunner, preprocessImages, type EncoderSpec } from '../../src/preprocess/encoder.js';
import { applyTemplate, normalizeChannels, readLatentStats } from '../../src/preprocess/pipeline-steps.js';
import { makeImageEncoder, makeTextEncoder, referenceConv } from '../helpers/onnx-models.js';
import { repoRoot, writePng } from '../helpers/workspace.js';
import { makeSpecialToken } from '../helpers/tokenizers.js';

const DIM = 4;
let dir: string;
const text = makeTextEncoder({ vocab: 32, dim: DIM, seed: 5 });
const image = makeImageEncoder({ channels: 4, kernel: 4, seed: 9 });

/** Word-level vocabulary with chat-template special tokens (split out before the pre-tokenizer). */
const SPECIALS = [
  '<pad>',
  '<unk>',
  '<|im_start|>',
  '<|im_end|>',
  '<|vision_start|>',
  '<|vision_end|>',
  '<|image_pad|>',
];
const WORDS = ['system', 'describe', 'the', 'picture', 'user', 'assistant', 'make', 'it', 'blue', 'a', 'red', 'cat'];
const vocab = Object.fromEntries([...SPECIALS, ...WORDS].map((t, i) => [t, i]));
const tokenizerJson = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: SPECIALS.map((t, i) => makeSpecialToken(i, t)),
  normalizer: null,
  pre_tokenizer: { type: 'Whitespace' },
  post_processor: null,
  decoder: null,
  model: { type: 'WordLevel', vocab, unk_token: '<unk>' },
};
const ids = (s: string) => s.split(' ').map((t) => vocab[t]);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'arr-pipe-'));
  mkdirSync(join(dir, 'tok'));
  writeFileSync(join(dir, 'tok/tokenizer.json'), JSON.stringify(tokenizerJson));
  writeFileSync(join(dir, 'text.onnx'), text.bytes);
  writeFileSync(join(dir, 'vae.onnx'), image.bytes);
  await writePng(join(dir, 'src.png'), 5, 16);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rows = (tokenIds: number[]) =>
  tokenIds.flatMap((id) => Array.from(text.embedding.subarray(id * DIM, (id + 1) * DIM)));
function maxError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('applyTemplate', () => {
  it('fills {prompt} and {image} (the placeholder token repeated), leaving the prompt as written', () => {
    const t = { text: 'A {image} B {prompt} C', image_token: '<i>', image_tokens: 3 };
    expect(applyTemplate('make it $& {image}', t)).toBe('A <i><i><i> B make it $& {image} C');
    expect(applyTemplate('plain', null)).toBe('plain');
  });
});

describe('Qwen-Image-Edit text: template, prefix drop, mask, original_length', () => {
  // system prefix of 4 tokens (the preset's 64), then user turn with 2 image placeholders, then the prompt.
  const template = {
    text: '<|im_start|> system describe the <|im_end|> <|im_start|> user <|vision_start|> {image} <|vision_end|> {prompt} <|im_end|> <|im_start|> assistant',
    image_token: '<|image_pad|> ',
    image_tokens: 2,
  };
  const spec = (): EncoderSpec => ({
    name: 'vl-test',
    model: 'text.onnx',
    tokenizer: { file: 'tok/tokenizer.json', max_length: 64, padding: 'longest', template },
    inputs: [{ name: 'input_ids', source: 'input_ids', dtype: 'int64' }],
    outputs: [{ name: 'last_hidden_state', save_as: 'prompt_embed', dtype: 'float32', pad_to: 24, drop_prefix: 5 }],
    save_mask_as: 'prompt_attention_mask',
  });

  it("drops the prefix from each item's own rows, pads, and records what remains", async () => {
    const runner = await EncoderRunner.open(spec(), { modelsDir: dir, threads: 1 });
    try {
      const [long, short] = await runner.run([{ text: 'make it blue' }, { text: 'a cat' }]);
      const full = (p: string) =>
        ids(
          `<|im_start|> system describe the <|im_end|> <|im_start|> user <|vision_start|> <|image_pad|> <|image_pad|> <|vision_end|> ${p} <|im_end|> <|im_start|> assistant`,
        );
      for (const [item, prompt] of [
        [long, 'make it blue'],
        [short, 'a cat'],
      ] as const) {
        const kept = full(prompt).slice(5);
        expect(item.originalLength).toBe(kept.length);
        const expected = new Float32Array(24 * DIM);
        expected.set(rows(kept));
        expect(maxError(item.tensors.prompt_embed.data, expected)).toBe(0);
        expect(Array.from(item.tensors.prompt_attention_mask.data)).toEqual([
          ...new Array(kept.length).fill(1),
          ...new Array(24 - kept.length).fill(0),
        ]);
      }
      // The short item was batch-padded: its pad rows are cut before the drop, never kept as content.
      expect(short.originalLength).toBe(long.originalLength! - 1);
    } finally {
      await runner.close();
    }
  });

  it('refuses a drop_prefix without pad_to, and a template without {prompt}', async () => {
    const noPad = spec();
    noPad.outputs[0].pad_to = null;
    await expect(EncoderRunner.open(noPad, { modelsDir: dir })).rejects.toThrow(
      'output "last_hidden_state" has drop_prefix but no pad_to',
    );
    const noPrompt = spec();
    noPrompt.tokenizer!.template = { text: 'no slot', image_token: null, image_tokens: 0 };
    await expect(EncoderRunner.open(noPrompt, { modelsDir: dir })).rejects.toThrow(
      'tokenizer.template.text has no {prompt}',
    );
  });

  it("the shipped preset carries the pipeline's template, 324 vision tokens for 504×504, a 64-token prefix drop and 5000 padding", () => {
    const preset = JSON.parse(
      readFileSync(join(repoRoot, 'presets/encoders/qwen-image-edit.json'), 'utf8'),
    ) as EncoderSpec[];
    const [vl, vae] = preset;
    const t = vl.tokenizer!.template!;
    expect(t.text.startsWith('<|im_start|>system\n')).toBe(true);
    expect(t.text).toContain(
      '<|im_start|>user\n<|vision_start|>{image}<|vision_end|>{prompt}<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(t.image_token).toBe('<|image_pad|>');
    expect(vl.image!.size).toEqual([504, 504]);
    expect(t.image_tokens).toBe((504 / 28) * (504 / 28));
    expect(vl.outputs[0]).toMatchObject({ save_as: 'prompt_embed', drop_prefix: 64, pad_to: 5000 });
    expect(vl.save_mask_as).toBe('prompt_attention_mask');
    // The reference's explicit 512×512 wins over the area rule: the VAE sees 512×512 and records it.
    expect(vae.image).toMatchObject({
      size: [512, 512],
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
      records_dimensions: true,
    });
    expect(vae.outputs[0]).toMatchObject({
      save_as: 'image_latents',
      normalize: { config: 'vae_encoder/config.json' },
    });
  });
});

describe('FLUX text: T5 without a mask, text_ids', () => {
  it('the preset feeds T5 input_ids only, up to 512 tokens; CLIP gives its pooled output; text_ids are a zero row', () => {
    const [clip, t5] = JSON.parse(readFileSync(join(repoRoot, 'presets/encoders/flux.json'), 'utf8')) as EncoderSpec[];
    expect(t5.inputs).toEqual([{ name: 'input_ids', source: 'input_ids', dtype: 'int64' }]);
    expect(t5.tokenizer).toMatchObject({ max_length: 512, padding: 'max_length' });
    expect(t5.constants).toEqual([{ save_as: 'text_ids', shape: [3], dtype: 'bfloat16', fill: 0 }]);
    expect(clip.outputs).toEqual([{ name: 'pooler_output', save_as: 'pooled_prompt_embeds', dtype: 'bfloat16' }]);
  });

  it("without a mask, pad positions carry the pad token's hidden state, as FluxPipeline's T5 call gives", async () => {
    const spec: EncoderSpec = {
      name: 't5-test',
      model: 'text.onnx',
      tokenizer: { file: 'tok/tokenizer.json', max_length: 6, padding: 'max_length' },
      inputs: [{ name: 'input_ids', source: 'input_ids', dtype: 'int64' }],
      outputs: [{ name: 'last_hidden_state', save_as: 'prompt_embed', dtype: 'bfloat16' }],
      constants: [{ save_as: 'text_ids', shape: [3], dtype: 'bfloat16', fill: 0 }],
    };
    const runner = await EncoderRunner.open(spec, { modelsDir: dir, threads: 1 });
    try {
      const [item] = await runner.run([{ text: 'a red cat' }]);
      expect(maxError(item.tensors.prompt_embed.data, rows([...ids('a red cat'), 0, 0, 0]))).toBe(0);
      // Not zeros: the padded rows are the encoder's output for <pad>.
      expect(Array.from(item.tensors.prompt_embed.data.subarray(3 * DIM)).some((v) => v !== 0)).toBe(true);
      expect(item.tensors.text_ids).toEqual({ dtype: 'bfloat16', shape: [3], data: new Float32Array(3) });
    } finally {
      await runner.close();
    }
  });
});

describe('Qwen-Image VAE latents: normalised by latents_mean / latents_std', () => {
  const stats = { latents_mean: [0.5, -0.25, 0.125, 1], latents_std: [2, 0.5, 4, 1.5] };

  it('reads the statistics from config.json and refuses one without them', () => {
    writeFileSync(join(dir, 'vae_config.json'), JSON.stringify({ z_dim: 4, ...stats }));
    expect(readLatentStats(join(dir, 'vae_config.json'))).toEqual({ mean: stats.latents_mean, std: stats.latents_std });
    writeFileSync(join(dir, 'bad_config.json'), JSON.stringify({ z_dim: 4 }));
    expect(() => readLatentStats(join(dir, 'bad_config.json'))).toThrow('needs latents_mean and latents_std');
  });

  it('(x - mean[c]) / std[c] per channel', () => {
    const x = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]); // 4 channels × 2
    normalizeChannels(x, [4, 1, 2], { mean: stats.latents_mean, std: stats.latents_std });
    expect(Array.from(x)).toEqual([0.25, 0.75, 6.5, 8.5, 1.21875, 1.46875, 4, 4.666666507720947]);
  });

  it('the runner applies it to the VAE output, per channel, equal to the reference math', async () => {
    writeFileSync(join(dir, 'vae_config.json'), JSON.stringify({ z_dim: 4, ...stats }));
    const spec: EncoderSpec = {
      name: 'vae-test',
      model: 'vae.onnx',
      image: { size: [16, 16], resize: 'fill', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], layout: 'nchw' },
      inputs: [{ name: 'pixel_values', source: 'pixel_values', dtype: 'float32' }],
      outputs: [
        {
          name: 'latents',
          save_as: 'image_latents',
          dtype: 'float32',
          normalize: { config: 'vae_config.json', mean: null, std: null },
        },
      ],
    };
    const runner = await EncoderRunner.open(spec, { modelsDir: dir, threads: 1 });
    try {
      const [item] = await runner.run([{ image: join(dir, 'src.png') }]);
      const pixels = await preprocessImages([join(dir, 'src.png')], spec.image!);
      const raw = referenceConv(image, pixels.data, 1, 16, 16, 4, 4);
      const per = raw.length / 4;
      const expected = Array.from(
        raw,
        (v, k) => (v - stats.latents_mean[Math.floor(k / per)]) / stats.latents_std[Math.floor(k / per)],
      );
      expect(item.tensors.image_latents.shape).toEqual([4, 4, 4]);
      expect(maxError(item.tensors.image_latents.data, expected)).toBeLessThan(1e-5);
    } finally {
      await runner.close();
    }
  });

  it('a missing config.json fails at open, naming the output', async () => {
    const spec: EncoderSpec = {
      name: 'vae-test',
      model: 'vae.onnx',
      image: { size: [16, 16], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
      inputs: [{ name: 'pixel_values', source: 'pixel_values', dtype: 'float32' }],
      outputs: [
        {
          name: 'latents',
          save_as: 'image_latents',
          dtype: 'float32',
          normalize: { config: 'nope.json', mean: null, std: null },
        },
      ],
    };
    await expect(EncoderRunner.open(spec, { modelsDir: dir })).rejects.toThrow(
      `encoder "vae-test": output "latents" normalize: cannot read ${join(dir, 'nope.json')}`,
    );
  });
});
