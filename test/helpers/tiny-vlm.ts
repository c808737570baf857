// Tiny random-weight vision-language models for llama.cpp (test support): a llama-architecture language
// model with a small SentencePiece byte-fallback vocabulary, and a LLaVA-style CLIP encoder with an `mlp`
// projector. A few hundred KB each, the same bytes for the same seed; their answers mean nothing, but
// image → projector → model → grammar-constrained JSON runs for real.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeGguf, type GgufTensor, type GgufValue } from './gguf-writer.js';

const LM = { embd: 64, heads: 4, ff: 128, layers: 2, context: 4096 };
const VISION = { embd: 32, heads: 2, ff: 64, layers: 2, imageSize: 32, patch: 8 };

/** Deterministic uniform numbers in [-1, 1) (mulberry32). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

function tensorMaker(seed: number) {
  const next = random(seed);
  return {
    weight: (name: string, dims: number[], scale = 0.08): GgufTensor => {
      const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
      for (let i = 0; i < data.length; i++) data[i] = next() * scale;
      return { name, dims, data };
    },
    filled: (name: string, dims: number[], value: number): GgufTensor => ({
      name,
      dims,
      data: new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(value),
    }),
  };
}

/** `<unk> <s> </s>`, the 256 byte tokens, chat markers, then one piece per printable ASCII character. */
function vocabulary(): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types = [2, 3, 3];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(6);
  }
  tokens.push('<|im_start|>', '<|im_end|>');
  types.push(3, 3);
  tokens.push('\u2581'); // SentencePiece's space
  types.push(1);
  for (let c = 0x21; c < 0x7f; c++) {
    tokens.push(String.fromCharCode(c));
    types.push(1);
  }
  return { tokens, scores: tokens.map((_, i) => -i), types };
}

const CHATML =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export function languageModel(path: string, seed = 1): void {
  const { tokens, scores, types } = vocabulary();
  const imEnd = tokens.indexOf('<|im_end|>');
  const meta: Record<string, GgufValue> = {
    'general.architecture': { type: 'string', value: 'llama' },
    'general.name': { type: 'string', value: 'arr-tiny-lm' },
    'general.alignment': { type: 'u32', value: 32 },
    'llama.context_length': { type: 'u32', value: LM.context },
    'llama.embedding_length': { type: 'u32', value: LM.embd },
    'llama.block_count': { type: 'u32', value: LM.layers },
    'llama.feed_forward_length': { type: 'u32', value: LM.ff },
    'llama.attention.head_count': { type: 'u32', value: LM.heads },
    'llama.attention.head_count_kv': { type: 'u32', value: LM.heads },
    'llama.attention.layer_norm_rms_epsilon': { type: 'f32', value: 1e-5 },
    'llama.rope.dimension_count': { type: 'u32', value: LM.embd / LM.heads },
    'llama.vocab_size': { type: 'u32', value: tokens.length },
    'tokenizer.ggml.model': { type: 'string', value: 'llama' },
    'tokenizer.ggml.tokens': { type: 'string[]', value: tokens },
    'tokenizer.ggml.scores': { type: 'f32[]', value: scores },
    'tokenizer.ggml.token_type': { type: 'i32[]', value: types },
    'tokenizer.ggml.unknown_token_id': { type: 'u32', value: 0 },
    'tokenizer.ggml.bos_token_id': { type: 'u32', value: 1 },
    'tokenizer.ggml.eos_token_id': { type: 'u32', value: imEnd },
    'tokenizer.ggml.add_bos_token': { type: 'bool', value: false },
    'tokenizer.chat_template': { type: 'string', value: CHATML },
  };
  const t = tensorMaker(seed);
  const { embd, ff } = LM;
  const tensors: GgufTensor[] = [
    t.weight('token_embd.weight', [embd, tokens.length], 0.5),
    t.filled('output_norm.weight', [embd], 1),
  ];
  for (let i = 0; i < LM.layers; i++) {
    tensors.push(
      t.filled(`blk.${i}.attn_norm.weight`, [embd], 1),
      t.weight(`blk.${i}.attn_q.weight`, [embd, embd]),
      t.weight(`blk.${i}.attn_k.weight`, [embd, embd]),
      t.weight(`blk.${i}.attn_v.weight`, [embd, embd]),
      t.weight(`blk.${i}.attn_output.weight`, [embd, embd]),
      t.filled(`blk.${i}.ffn_norm.weight`, [embd], 1),
      t.weight(`blk.${i}.ffn_gate.weight`, [embd, ff]),
      t.weight(`blk.${i}.ffn_up.weight`, [embd, ff]),
      t.weight(`blk.${i}.ffn_down.weight`, [ff, embd]),
    );
  }
  writeGguf(path, meta, tensors);
}

export function projector(path: string, seed = 2): void {
  const { embd, ff, patch, imageSize } = VISION;
  const positions = (imageSize / patch) ** 2 + 1; // patches plus the class embedding
  const meta: Record<string, GgufValue> = {
    'general.architecture': { type: 'string', value: 'clip' },
    'general.name': { type: 'string', value: 'arr-tiny-mmproj' },
    'general.alignment': { type: 'u32', value: 32 },
    'clip.projector_type': { type: 'string', value: 'mlp' },
    'clip.has_vision_encoder': { type: 'bool', value: true },
    'clip.has_text_encoder': { type: 'bool', value: false },
    'clip.has_llava_projector': { type: 'bool', value: true },
    'clip.use_gelu': { type: 'bool', value: true },
    'clip.vision.image_size': { type: 'u32', value: imageSize },
    'clip.vision.patch_size': { type: 'u32', value: patch },
    'clip.vision.embedding_length': { type: 'u32', value: embd },
    'clip.vision.feed_forward_length': { type: 'u32', value: ff },
    'clip.vision.projection_dim': { type: 'u32', value: LM.embd },
    'clip.vision.attention.head_count': { type: 'u32', value: VISION.heads },
    'clip.vision.attention.layer_norm_epsilon': { type: 'f32', value: 1e-5 },
    'clip.vision.block_count': { type: 'u32', value: VISION.layers },
    'clip.vision.image_mean': { type: 'f32[]', value: [0.5, 0.5, 0.5] },
    'clip.vision.image_std': { type: 'f32[]', value: [0.5, 0.5, 0.5] },
  };
  const t = tensorMaker(seed);
  const tensors: GgufTensor[] = [
    t.weight('v.patch_embd.weight', [patch, patch, 3, embd]),
    t.weight('v.class_embd', [embd]),
    t.weight('v.position_embd.weight', [embd, positions]),
    t.filled('v.pre_ln.weight', [embd], 1),
    t.filled('v.pre_ln.bias', [embd], 0),
  ];
  for (let i = 0; i < VISION.layers; i++) {
    const p = `v.blk.${i}`;
    tensors.push(
      t.filled(`${p}.ln1.weight`, [embd], 1),
      t.filled(`${p}.ln1.bias`, [embd], 0),
      t.weight(`${p}.attn_q.weight`, [embd, embd]),
      t.filled(`${p}.attn_q.bias`, [embd], 0),
      t.weight(`${p}.attn_k.weight`, [embd, embd]),
      t.filled(`${p}.attn_k.bias`, [embd], 0),
      t.weight(`${p}.attn_v.weight`, [embd, embd]),
      t.filled(`${p}.attn_v.bias`, [embd], 0),
      t.weight(`${p}.attn_out.weight`, [embd, embd]),
      t.filled(`${p}.attn_out.bias`, [embd], 0),
      t.filled(`${p}.ln2.weight`, [embd], 1),
      t.filled(`${p}.ln2.bias`, [embd], 0),
      t.weight(`${p}.ffn_up.weight`, [embd, ff]),
      t.filled(`${p}.ffn_up.bias`, [ff], 0),
      t.weight(`${p}.ffn_down.weight`, [ff, embd]),
      t.filled(`${p}.ffn_down.bias`, [embd], 0),
    );
  }
  tensors.push(
    t.weight('mm.0.weight', [embd, LM.embd]),
    t.filled('mm.0.bias', [LM.embd], 0),
    t.weight('mm.2.weight', [LM.embd, LM.embd]),
    t.filled('mm.2.bias', [LM.embd], 0),
  );
  writeGguf(path, meta, tensors);
}

export interface TinyVlm {
  model: string;
  mmproj: string;
}

/** Writes the tiny language model and projector into `dir` (file names ending as the Hub's do). */
export function writeTinyVlm(dir: string, seed = 1): TinyVlm {
  mkdirSync(dir, { recursive: true });
  const model = join(dir, 'Tiny-VL-Instruct-Q4_K_M.gguf');
  const mmproj = join(dir, 'mmproj-Tiny-VL-Instruct-F16.gguf');
  languageModel(model, seed);
  projector(mmproj, seed + 1);
  return { model, mmproj };
}
