// The preprocess target end to end: tiny ONNX encoders built by the tests, a WordLevel tokenizer, the
// reference's layout, incremental and shared entries, the Python reader and torch.load of .pt files.
import { execa } from 'execa';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../src/preprocess/safetensors.js';
import { runPreprocessTarget } from '../../src/targets/preprocess.js';
import { makeImageEncoder, makeTextEncoder } from '../helpers/onnx-models.js';
import { makeSpecialToken, makeTemplateProcessing } from '../helpers/tokenizers.js';
import { makeWorkspace, repoRoot, type TestWorkspace } from '../helpers/workspace.js';

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'red', 'blue', 'green', 'circle', 'square', 'two', 'three', 'a'];
const DIM = 8;
let ws: TestWorkspace;
let text: ReturnType<typeof makeTextEncoder>;

function tokenizerJson() {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [makeSpecialToken(0, '[PAD]'), makeSpecialToken(1, '[UNK]'), makeSpecialToken(2, '[CLS]'), makeSpecialToken(3, '[SEP]')],
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: makeTemplateProcessing(['[CLS]', '$A', '[SEP]'], { '[CLS]': 2, '[SEP]': 3 }),
    decoder: null,
    model: { type: 'WordLevel', vocab: Object.fromEntries(VOCAB.map((w, i) => [w, i])), unk_token: '[UNK]' },
  };
}

const textSpec = (extra: Record<string, unknown> = {}) => ({
  name: 'tiny-text',
  model: 'text/model.onnx',
  tokenizer: { file: 'text/tokenizer.json', max_length: 8, padding: 'max_length' },
  inputs: [
    { name: 'input_ids', source: 'input_ids', dtype: 'int64' },
    { name: 'attention_mask', source: 'attention_mask', dtype: 'int64' },
  ],
  outputs: [
    { name: 'last_hidden_state', save_as: 'prompt_embed', dtype: 'bfloat16' },
    { name: 'pooler_output', save_as: 'pooled_prompt_embeds', dtype: 'float32' },
  ],
  constants: [{ save_as: 'text_ids', shape: [3], dtype: 'bfloat16', fill: 0 }],
  ...extra,
});

function manifest(name: string, prompts: string, extra = '') {
  ws.write(`experiments/${name}.yaml`, `task: t2i\nrubric: { from: ../data/rubric.txt }\npreprocess:\n  prompts: ${prompts}\n  models: ../models\n  drop_cjk: true\n  batch_size: 2\n  encoders: ${JSON.stringify([textSpec()])}\n${extra}`);
}

/** The pooled output by hand: the mean of the embedding rows of the (unpadded) tokens. */
function expectedPooled(prompt: string): number[] {
  const ids = [2, ...prompt.toLowerCase().split(/\s+/).filter(Boolean).map((w) => Math.max(1, VOCAB.indexOf(w))), 3];
  const out = new Array(DIM).fill(0);
  for (const id of ids) for (let d = 0; d < DIM; d++) out[d] += text.embedding[id * DIM + d] / ids.length;
  return out;
}

const build = (experiment: string) => runPreprocessTarget({ experiment, workspaceRoot: ws.root }, { log: () => {} });
const metadataOf = (experiment: string) => {
  const pointer = JSON.parse(readFileSync(ws.path(`cache/experiments/${experiment}/preprocess/embeddings.json`), 'utf8'));
  return { file: ws.path(pointer.metadata), entries: JSON.parse(readFileSync(ws.path(pointer.metadata), 'utf8')) as Record<string, any>[] };
};

beforeEach(() => {
  ws = makeWorkspace();
  text = makeTextEncoder({ vocab: VOCAB.length, dim: DIM, withMask: true });
  ws.write('models/text/tokenizer.json', JSON.stringify(tokenizerJson()));
  writeFileSync(ws.path('models/text/model.onnx'), text.bytes);
  ws.write('data/rubric.txt', '1. Prefer the image that follows the prompt.\n');
  ws.write('data/prompts.txt', 'two red circle\n\na blue square\n三个红色圆圈\nthree green circle\nred square\n');
});
afterEach(() => ws.cleanup());

describe('preprocess', () => {
  it('encodes the prompt list into the reference layout, counting what the input rules removed', async () => {
    manifest('exp', '../data/prompts.txt');
    const summary = await build('exp');
    expect(summary).toContain('4 item(s)');
    expect(summary).toContain('(4 encoded, 0 reused; 6 read, 1 blank skipped, 1 CJK dropped, 0 over max_items)');
    const { file, entries } = metadataOf('exp');
    expect(entries.map((e) => e.caption)).toEqual(['two red circle', 'a blue square', 'three green circle', 'red square']);
    expect(entries[1]).toMatchObject({ prompt_embed_path: '1.pt', pooled_prompt_embeds_path: '1.pt', text_ids: '1.pt', original_length: 5 });
    expect(entries[1].sha256).toMatch(/^[0-9a-f]{64}$/);
    const dir = join(file, '..');
    const pooled = await readSafetensors(join(dir, 'pooled_prompt_embeds/1.safetensors'));
    const tensor = pooled.tensors.pooled_prompt_embeds;
    expect(tensor.shape).toEqual([DIM]);
    const values = Array.from(new Float32Array(tensor.data.buffer.slice(tensor.data.byteOffset, tensor.data.byteOffset + tensor.data.byteLength)));
    expectedPooled('a blue square').forEach((v, d) => expect(values[d]).toBeCloseTo(v, 6));
    const hidden = await readSafetensors(join(dir, 'prompt_embed/1.safetensors'));
    expect(hidden.tensors.prompt_embed).toMatchObject({ dtype: 'BF16', shape: [8, DIM] });
    expect((await readSafetensors(join(dir, 'text_ids/1.safetensors'))).tensors.text_ids.shape).toEqual([3]);
  }, 60_000);

  it('encodes only new prompts, and shares entries between experiments with the same encoders', async () => {
    manifest('exp', '../data/prompts.txt');
    await build('exp');
    writeFileSync(ws.path('data/prompts.txt'), readFileSync(ws.path('data/prompts.txt'), 'utf8') + 'two blue circle\nthree red square\n');
    expect(await build('exp')).toContain('(2 encoded, 4 reused;');
    ws.write('data/other.txt', 'red square\nthree green circle\ngreen circle\n');
    manifest('other', '../data/other.txt');
    expect(await build('other')).toContain('(1 encoded, 2 reused;');
    expect(await build('other')).toContain('already built; nothing encoded');
  }, 60_000);

  it('pads to pad_to, stores the mask, and records original_length', async () => {
    ws.write('experiments/pad.yaml', `task: t2i\nrubric: { from: ../data/rubric.txt }\npreprocess:\n  prompts: ../data/prompts.txt\n  models: ../models\n  encoders: ${JSON.stringify([textSpec({ tokenizer: { file: 'text/tokenizer.json', max_length: 8, padding: 'longest' }, outputs: [{ name: 'last_hidden_state', save_as: 'prompt_embed', dtype: 'float32', pad_to: 12 }], save_mask_as: 'prompt_attention_mask', constants: [] })])}\n`);
    await build('pad');
    const { file, entries } = metadataOf('pad');
    const first = entries[0];
    expect(first).toMatchObject({ original_length: 5, prompt_attention_mask: '0.pt' });
    const dir = join(file, '..');
    expect((await readSafetensors(join(dir, 'prompt_embed/0.safetensors'))).tensors.prompt_embed.shape).toEqual([12, DIM]);
    const mask = (await readSafetensors(join(dir, 'prompt_attention_mask/0.safetensors'))).tensors.prompt_attention_mask;
    expect(mask.shape).toEqual([12]);
  }, 60_000);

  it('writes .pt files that torch.load reads, and the Python reader loads our safetensors', async () => {
    manifest('exp', '../data/prompts.txt', '  format: pt\n');
    await build('exp');
    const { file, entries } = metadataOf('exp');
    expect(entries[0].prompt_embed_path).toBe('0.pt');
    const reader = await execa('/usr/bin/python3', [join(repoRoot, 'python/arr_embeddings.py'), file], { reject: false });
    expect(reader.exitCode, reader.stderr).toBe(0);
    expect(reader.stdout).toContain('4 entries');
    const torchPresent = (await execa('/usr/bin/python3', ['-c', 'import torch'], { reject: false })).exitCode === 0;
    if (!torchPresent && process.env.ARR_SKIP_TORCH_TESTS !== '1') throw new Error('torch is missing for /usr/bin/python3: apt-get install -y python3-torch (or set ARR_SKIP_TORCH_TESTS=1)');
    if (!torchPresent) return;
    const script = `import torch, json, sys\nm = json.load(open(sys.argv[1]))\nimport os\nd = os.path.dirname(sys.argv[1])\nt = torch.load(os.path.join(d, 'pooled_prompt_embeds', m[2]['pooled_prompt_embeds_path']))\ne = torch.load(os.path.join(d, 'prompt_embed', m[2]['prompt_embed_path']))\nprint(json.dumps({'pooled': t.tolist(), 'embed_shape': list(e.shape), 'embed_dtype': str(e.dtype)}))`;
    const run = await execa('/usr/bin/python3', ['-c', script, file]);
    const out = JSON.parse(run.stdout);
    expect(out.embed_shape).toEqual([8, DIM]);
    expect(out.embed_dtype).toBe('torch.bfloat16');
    expectedPooled('three green circle').forEach((v, d) => expect(out.pooled[d]).toBeCloseTo(v, 6));
  }, 60_000);

  it('names the preset, the folder and the files a missing model leaves out', async () => {
    ws.write('experiments/flux.yaml', 'task: t2i\nrubric: { from: ../data/rubric.txt }\npreprocess: { prompts: ../data/prompts.txt, models: ../models, encoders: flux }\n');
    const presets = join(repoRoot, 'presets');
    (await import('node:fs')).cpSync(presets, ws.path('presets'), { recursive: true });
    const error = await build('flux').catch((e) => e);
    expect(error.message).toContain(`preset flux (presets/encoders/flux.json) expects these files in ${ws.path('models')}, which are missing:`);
    expect(error.message).toContain(`clip-l: ${ws.path('models/clip_l/model.onnx')}`);
    expect(error.message).toContain(`t5-xxl: ${ws.path('models/t5_xxl/tokenizer.json')}`);
    expect(existsSync(ws.path('cache/artifacts/preprocess'))).toBe(false);
  }, 60_000);

  it('encodes edit items: source image latents and the instruction, with the source path and size', async () => {
    const vae = makeImageEncoder({ channels: 4, kernel: 8, height: 32, width: 32, outputTimeAxis: true });
    mkdirSync(ws.path('models/vae'), { recursive: true });
    writeFileSync(ws.path('models/vae/model.onnx'), vae.bytes);
    for (const [i, color] of [[0, { r: 200, g: 10, b: 10 }], [1, { r: 10, g: 10, b: 200 }]] as const) {
      await sharp({ create: { width: 48, height: 40, channels: 3, background: color } }).png().toFile(ws.path(`data/src${i}.png`));
    }
    ws.write('data/edits.jsonl', '{"source_image": "src0.png", "instruction": "make it blue"}\n{"source_image": "src1.png", "instruction": "make it red"}\n');
    const vaeSpec = { name: 'tiny-vae', model: 'vae/model.onnx', image: { size: [32, 32], resize: 'fill', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }, inputs: [{ name: vae.names.input, source: 'pixel_values', dtype: 'float32' }], outputs: [{ name: vae.names.output, save_as: 'image_latents', dtype: 'bfloat16' }] };
    ws.write('experiments/edit.yaml', `task: edit\nrubric: { from: ../data/rubric.txt }\npreprocess:\n  edits: ../data/edits.jsonl\n  models: ../models\n  encoders: ${JSON.stringify([textSpec({ constants: [] }), vaeSpec])}\n`);
    await build('edit');
    const { file, entries } = metadataOf('edit');
    expect(entries[0]).toMatchObject({ caption: 'make it blue', source_image: ws.path('data/src0.png'), calculated_height: 32, calculated_width: 32, image_latents: '0.pt' });
    expect((await readSafetensors(join(file, '..', 'image_latents/0.safetensors'))).tensors.image_latents.shape).toEqual([4, 1, 4, 4]);
  }, 60_000);

  it('serves as the ONNX embedder of coding-rate selection', async () => {
    const { OnnxEmbedder } = await import('../../src/rubric/onnx-embedder.js');
    const spec = textSpec({ outputs: [{ name: 'pooler_output', save_as: 'pooled', dtype: 'float32' }], constants: [] }) as never;
    const [v] = await new OnnxEmbedder(spec, ws.path('models')).embed(['a blue square']);
    const expected = expectedPooled('a blue square');
    const norm = Math.hypot(...expected);
    expected.forEach((x, d) => expect(v[d]).toBeCloseTo(x / norm, 5));
  }, 60_000);
});
