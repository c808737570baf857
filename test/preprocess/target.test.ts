// The preprocess target end to end: tiny ONNX encoders built by the tests, a WordLevel tokenizer, the
// reference's layout, incremental and shared entries. The Python reader and torch.load: target.e2e.test.ts.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/preprocess/safetensors.js';
import { makeImageEncoder } from '../helpers/onnx-models.js';
import { repoRoot } from '../helpers/workspace.js';
import {
  build,
  DIM,
  expectedPooled,
  manifest,
  metadataOf,
  setUpPreprocessWorkspace,
  textSpec,
  ws,
} from './target-workspace.js';

setUpPreprocessWorkspace();

describe('preprocess', () => {
  it('encodes the prompt list into the reference layout, counting what the input rules removed', async () => {
    manifest('exp', '../data/prompts.txt');
    const summary = await build('exp');
    expect(summary).toContain('4 item(s)');
    expect(summary).toContain('(4 encoded, 0 reused; 6 read, 1 blank skipped, 1 CJK dropped, 0 over max_items)');
    const { file, entries } = metadataOf('exp');
    expect(entries.map((e) => e.caption)).toEqual([
      'two red circle',
      'a blue square',
      'three green circle',
      'red square',
    ]);
    expect(entries[1]).toMatchObject({
      prompt_embed_path: '1.pt',
      pooled_prompt_embeds_path: '1.pt',
      text_ids: '1.pt',
      original_length: 5,
    });
    expect(entries[1].sha256).toMatch(/^[0-9a-f]{64}$/);
    const dir = join(file, '..');
    const pooled = await readSafetensors(join(dir, 'pooled_prompt_embeds/1.safetensors'));
    const tensor = pooled.tensors.pooled_prompt_embeds;
    expect(tensor.shape).toEqual([DIM]);
    const values = Array.from(
      new Float32Array(
        tensor.data.buffer.slice(tensor.data.byteOffset, tensor.data.byteOffset + tensor.data.byteLength),
      ),
    );
    expectedPooled('a blue square').forEach((v, d) => expect(values[d]).toBeCloseTo(v, 6));
    const hidden = await readSafetensors(join(dir, 'prompt_embed/1.safetensors'));
    expect(hidden.tensors.prompt_embed).toMatchObject({ dtype: 'BF16', shape: [8, DIM] });
    expect((await readSafetensors(join(dir, 'text_ids/1.safetensors'))).tensors.text_ids.shape).toEqual([3]);
  }, 60_000);

  it('encodes only new prompts, and shares entries between experiments with the same encoders', async () => {
    manifest('exp', '../data/prompts.txt');
    await build('exp');
    writeFileSync(
      ws.path('data/prompts.txt'),
      readFileSync(ws.path('data/prompts.txt'), 'utf8') + 'two blue circle\nthree red square\n',
    );
    expect(await build('exp')).toContain('(2 encoded, 4 reused;');
    ws.write('data/other.txt', 'red square\nthree green circle\ngreen circle\n');
    manifest('other', '../data/other.txt');
    expect(await build('other')).toContain('(1 encoded, 2 reused;');
    expect(await build('other')).toContain('already built; nothing encoded');
  }, 60_000);

  it('pads to pad_to, stores the mask, and records original_length', async () => {
    ws.write(
      'experiments/pad.yaml',
      `task: t2i\nrubric: { from: ../data/rubric.txt }\npreprocess:\n  prompts: ../data/prompts.txt\n  models: ../models\n  encoders: ${JSON.stringify([textSpec({ tokenizer: { file: 'text/tokenizer.json', max_length: 8, padding: 'longest' }, outputs: [{ name: 'last_hidden_state', save_as: 'prompt_embed', dtype: 'float32', pad_to: 12 }], save_mask_as: 'prompt_attention_mask', constants: [] })])}\n`,
    );
    await build('pad');
    const { file, entries } = metadataOf('pad');
    const first = entries[0];
    expect(first).toMatchObject({ original_length: 5, prompt_attention_mask: '0.pt' });
    const dir = join(file, '..');
    expect((await readSafetensors(join(dir, 'prompt_embed/0.safetensors'))).tensors.prompt_embed.shape).toEqual([
      12,
      DIM,
    ]);
    const mask = (await readSafetensors(join(dir, 'prompt_attention_mask/0.safetensors'))).tensors
      .prompt_attention_mask;
    expect(mask.shape).toEqual([12]);
  }, 60_000);

  it('names the preset, the folder and the files a missing model leaves out', async () => {
    ws.write(
      'experiments/flux.yaml',
      'task: t2i\nrubric: { from: ../data/rubric.txt }\npreprocess: { prompts: ../data/prompts.txt, models: ../models, encoders: flux }\n',
    );
    const presets = join(repoRoot, 'presets');
    (await import('node:fs')).cpSync(presets, ws.path('presets'), { recursive: true });
    const error = await build('flux').catch((e) => e);
    expect(error.message).toContain(
      `preset flux (presets/encoders/flux.json) expects these files in ${ws.path('models')}, which are missing:`,
    );
    expect(error.message).toContain(`clip-l: ${ws.path('models/clip_l/model.onnx')}`);
    expect(error.message).toContain(`t5-xxl: ${ws.path('models/t5_xxl/tokenizer.json')}`);
    expect(existsSync(ws.path('cache/artifacts/preprocess'))).toBe(false);
  }, 60_000);

  it('encodes edit items: source image latents and the instruction, with the source path and size', async () => {
    const vae = makeImageEncoder({ channels: 4, kernel: 8, height: 32, width: 32, outputTimeAxis: true });
    mkdirSync(ws.path('models/vae'), { recursive: true });
    writeFileSync(ws.path('models/vae/model.onnx'), vae.bytes);
    for (const [i, color] of [
      [0, { r: 200, g: 10, b: 10 }],
      [1, { r: 10, g: 10, b: 200 }],
    ] as const) {
      await sharp({ create: { width: 48, height: 40, channels: 3, background: color } })
        .png()
        .toFile(ws.path(`data/src${i}.png`));
    }
    ws.write(
      'data/edits.jsonl',
      '{"source_image": "src0.png", "instruction": "make it blue"}\n{"source_image": "src1.png", "instruction": "make it red"}\n',
    );
    const vaeSpec = {
      name: 'tiny-vae',
      model: 'vae/model.onnx',
      image: { size: [32, 32], resize: 'fill', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
      inputs: [{ name: vae.names.input, source: 'pixel_values', dtype: 'float32' }],
      outputs: [{ name: vae.names.output, save_as: 'image_latents', dtype: 'bfloat16' }],
    };
    ws.write(
      'experiments/edit.yaml',
      `task: edit\nrubric: { from: ../data/rubric.txt }\npreprocess:\n  edits: ../data/edits.jsonl\n  models: ../models\n  encoders: ${JSON.stringify([textSpec({ constants: [] }), vaeSpec])}\n`,
    );
    await build('edit');
    const { file, entries } = metadataOf('edit');
    expect(entries[0]).toMatchObject({
      caption: 'make it blue',
      source_image: ws.path('data/src0.png'),
      calculated_height: 32,
      calculated_width: 32,
      image_latents: '0.pt',
    });
    expect(
      (await readSafetensors(join(file, '..', 'image_latents/0.safetensors'))).tensors.image_latents.shape,
    ).toEqual([4, 1, 4, 4]);
  }, 60_000);

  it('serves as the ONNX embedder of coding-rate selection', async () => {
    const { OnnxEmbedder } = await import('../../src/rubric/onnx-embedder.js');
    const spec = textSpec({
      outputs: [{ name: 'pooler_output', save_as: 'pooled', dtype: 'float32' }],
      constants: [],
    }) as never;
    const [v] = await new OnnxEmbedder(spec, ws.path('models')).embed(['a blue square']);
    const expected = expectedPooled('a blue square');
    const norm = Math.hypot(...expected);
    expected.forEach((x, d) => expect(v[d]).toBeCloseTo(x / norm, 5));
  }, 60_000);
});
