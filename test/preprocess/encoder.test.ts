// The preprocess encoder side: tokenizer.json loading (WordLevel, BPE, Unigram), padding/truncation,
// the ONNX runner on tiny hand-checkable models (./helpers/onnx-models.ts), image preparation with
// sharp, and the errors a bad spec or model gives.
//
// The expected token ids below were worked out by hand and agree with the Rust `tokenizers` 0.23.2
// (the reference implementation) on the same files.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncoderRunner, preprocessImages, type EncoderSpec } from '../../src/preprocess/encoder.js';
import { loadTokenizer } from '../../src/preprocess/tokenizer.js';
import { makeImageEncoder, makeTextEncoder, referenceConv } from '../helpers/onnx-models.js';
import { makeSpecialToken, makeTemplateProcessing } from '../helpers/tokenizers.js';

// ---------------------------------------------------------------------------------------------------
// tokenizer.json fixtures
// ---------------------------------------------------------------------------------------------------

/** BERT-like word-level: NFD + lowercase + strip accents, split on whitespace/punctuation, [CLS] … [SEP]. */
const wordLevel = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [
    makeSpecialToken(0, '[PAD]'),
    makeSpecialToken(1, '[UNK]'),
    makeSpecialToken(2, '[CLS]'),
    makeSpecialToken(3, '[SEP]'),
  ],
  normalizer: { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'Lowercase' }, { type: 'StripAccents' }] },
  pre_tokenizer: { type: 'Whitespace' },
  post_processor: makeTemplateProcessing(['[CLS]', '$A', '[SEP]'], { '[CLS]': 2, '[SEP]': 3 }),
  decoder: null,
  model: {
    type: 'WordLevel',
    vocab: {
      '[PAD]': 0,
      '[UNK]': 1,
      '[CLS]': 2,
      '[SEP]': 3,
      a: 4,
      red: 5,
      cat: 6,
      sits: 7,
      on: 8,
      the: 9,
      mat: 10,
      '.': 11,
      cafe: 12,
      '!': 13,
    },
    unk_token: '[UNK]',
  },
};

/** CLIP-like BPE: letters/punctuation split, byte-level alphabet, `</w>` word ends, start/end tokens. */
const bpeVocab = [
  '<|startoftext|>',
  '<|endoftext|>',
  '!',
  'd',
  'e',
  'i',
  'l',
  'n',
  'o',
  'r',
  's',
  't',
  'w',
  '!</w>',
  'd</w>',
  'e</w>',
  'r</w>',
  's</w>',
  't</w>',
  'w</w>',
  'lo',
  'low</w>',
  'low',
  'er</w>',
  'lower</w>',
  'es',
  'est</w>',
  'ne',
  'new',
  'newest</w>',
];
const bpe = {
  version: '1.0',
  truncation: null,
  padding: {
    strategy: 'BatchLongest',
    direction: 'Right',
    pad_to_multiple_of: null,
    pad_id: 1,
    pad_type_id: 0,
    pad_token: '<|endoftext|>',
  },
  added_tokens: [makeSpecialToken(0, '<|startoftext|>'), makeSpecialToken(1, '<|endoftext|>')],
  normalizer: {
    type: 'Sequence',
    normalizers: [
      { type: 'NFC' },
      { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
      { type: 'Lowercase' },
    ],
  },
  pre_tokenizer: {
    type: 'Sequence',
    pretokenizers: [
      {
        type: 'Split',
        pattern: { Regex: "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" },
        behavior: 'Removed',
        invert: true,
      },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    ],
  },
  post_processor: makeTemplateProcessing(['<|startoftext|>', '$A', '<|endoftext|>'], {
    '<|startoftext|>': 0,
    '<|endoftext|>': 1,
  }),
  decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  model: {
    type: 'BPE',
    dropout: null,
    unk_token: '<|endoftext|>',
    continuing_subword_prefix: '',
    end_of_word_suffix: '</w>',
    fuse_unk: false,
    byte_fallback: false,
    ignore_merges: false,
    vocab: Object.fromEntries(bpeVocab.map((t, i) => [t, i])),
    merges: ['l o', 'lo w</w>', 'lo w', 'e r</w>', 'low er</w>', 'e s', 'es t</w>', 'n e', 'ne w', 'new est</w>'],
  },
};

/** T5-like Unigram: NFKC, runs of spaces folded, ▁ metaspace, `… </s>`. */
const unigram = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [makeSpecialToken(0, '<pad>'), makeSpecialToken(1, '</s>'), makeSpecialToken(2, '<unk>')],
  normalizer: {
    type: 'Sequence',
    normalizers: [{ type: 'NFKC' }, { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }],
  },
  pre_tokenizer: {
    type: 'Sequence',
    pretokenizers: [
      { type: 'WhitespaceSplit' },
      { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    ],
  },
  post_processor: makeTemplateProcessing(['$A', '</s>'], { '</s>': 1 }),
  decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
  model: {
    type: 'Unigram',
    unk_id: 2,
    byte_fallback: false,
    vocab: [
      ['<pad>', 0],
      ['</s>', 0],
      ['<unk>', 0],
      ['▁', -2],
      ['▁the', -1.5],
      ['▁cat', -2.5],
      ['▁ca', -3],
      ['t', -3],
      ['▁sat', -2.5],
      ['s', -3.5],
      ['a', -3.5],
      ['▁a', -2.0],
      ['o', -4],
    ],
  },
};

let dir: string;
let files: { wordLevel: string; bpe: string; unigram: string };
const models = () => join(dir, 'models');
const writeModel = (rel: string, bytes: Uint8Array | string) => {
  const file = join(models(), rel);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, bytes);
  return file;
};

// The text encoder shared by several tests: the word-level vocabulary (14 ids), d = 4, 8 tokens.
const VOCAB = 14;
const DIM = 4;
const SEQ = 8;
const text = makeTextEncoder({ vocab: VOCAB, dim: DIM, seqLen: SEQ, seed: 3 });
const masked = makeTextEncoder({ vocab: VOCAB, dim: DIM, withMask: true, seed: 5 });
const half = makeTextEncoder({ vocab: VOCAB, dim: DIM, seqLen: SEQ, seed: 3, hiddenDtype: 'float16' });
const conv = makeImageEncoder({ channels: 4, kernel: 2, height: 8, width: 8, seed: 11 });
const convNhwc = makeImageEncoder({ channels: 4, kernel: 2, height: 8, width: 8, seed: 11, layout: 'nhwc' });
const vae = makeImageEncoder({ channels: 4, kernel: 2, seed: 11, inputTimeAxis: true, outputTimeAxis: true });
const tinyVocab = makeTextEncoder({ vocab: 5, dim: DIM, seqLen: SEQ });

/** Known pixels for an 8×8 RGB image: channel c of pixel p is (p * 7 + c * 50) mod 256. */
const PIX = (p: number, c: number) => (p * 7 + c * 50) % 256;
let img8: string;
let img8b: string;
let wide: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'arr-encoder-'));
  files = {
    wordLevel: writeModel('tok/wordlevel.json', JSON.stringify(wordLevel)),
    bpe: writeModel('tok/bpe.json', JSON.stringify(bpe)),
    unigram: writeModel('tok/unigram.json', JSON.stringify(unigram)),
  };
  writeModel('clip.onnx', text.bytes);
  writeModel('masked.onnx', masked.bytes);
  writeModel('half.onnx', half.bytes);
  writeModel('conv.onnx', conv.bytes);
  writeModel('conv-nhwc.onnx', convNhwc.bytes);
  writeModel('vae.onnx', vae.bytes);
  writeModel('tiny-vocab.onnx', tinyVocab.bytes);
  writeModel('corrupt/clip.onnx', text.bytes.subarray(0, Math.floor(text.bytes.length / 3)));
  const raw = Buffer.alloc(8 * 8 * 3);
  for (let p = 0; p < 64; p++) for (let c = 0; c < 3; c++) raw[p * 3 + c] = PIX(p, c);
  img8 = join(dir, 'img8.png');
  await sharp(raw, { raw: { width: 8, height: 8, channels: 3 } })
    .png()
    .toFile(img8);
  img8b = join(dir, 'img8b.png');
  await sharp(
    raw.map((v) => 255 - v),
    { raw: { width: 8, height: 8, channels: 3 } },
  )
    .png()
    .toFile(img8b);
  wide = join(dir, 'wide.png');
  await sharp({ create: { width: 16, height: 8, channels: 3, background: { r: 200, g: 100, b: 50 } } })
    .png()
    .toFile(wide);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ids = (a: BigInt64Array | Int32Array) => Array.from(a, Number);

// ---------------------------------------------------------------------------------------------------
// Tokenizer
// ---------------------------------------------------------------------------------------------------

describe('loadTokenizer', () => {
  it('WordLevel: normalizer, pre-tokenizer, [UNK], [CLS] … [SEP]', async () => {
    const tok = await loadTokenizer(files.wordLevel);
    expect(tok.modelType).toBe('WordLevel');
    expect(tok.ids('A red cat sits on the mat.')).toEqual([2, 4, 5, 6, 7, 8, 9, 10, 11, 3]);
    expect(tok.ids('Café!')).toEqual([2, 12, 13, 3]);
    expect(tok.ids('the dog')).toEqual([2, 9, 1, 3]);
    expect(tok.ids('  THE   cat  ')).toEqual([2, 9, 6, 3]);
    expect(tok.ids('')).toEqual([2, 3]);
  });

  it('BPE: merges by rank, </w> word ends, unknown characters, start/end tokens', async () => {
    const tok = await loadTokenizer(files.bpe);
    expect(tok.modelType).toBe('BPE');
    // low</w> lower</w> newest</w> w i d est</w> !</w>
    expect(tok.ids('Low lower newest widest!')).toEqual([0, 21, 24, 29, 12, 5, 3, 26, 13, 1]);
    // low + x</w> (not in the vocabulary: the unk token)
    expect(tok.ids('lowx')).toEqual([0, 22, 1, 1]);
    // ne w</w> ! !</w>
    expect(tok.ids('new!!')).toEqual([0, 27, 19, 2, 13, 1]);
    expect(tok.ids('LOW\tlow  lower')).toEqual([0, 21, 21, 24, 1]);
  });

  it('Unigram: Viterbi segmentation, ▁ prefix, NFKC, unknown pieces, … </s>', async () => {
    const tok = await loadTokenizer(files.unigram);
    expect(tok.modelType).toBe('Unigram');
    expect(tok.ids('the cat sat')).toEqual([4, 5, 8, 1]);
    // ▁cat s (-6.0) beats ▁ca t s (-9.5)
    expect(tok.ids('the  cats')).toEqual([4, 5, 9, 1]);
    expect(tok.ids('a cat')).toEqual([11, 5, 1]);
    expect(tok.ids('dog')).toEqual([3, 2, 12, 2, 1]);
    expect(tok.ids('ｔｈｅ cat')).toEqual([4, 5, 1]);
  });

  it('pads to max_length on the right, with masks and unpadded lengths', async () => {
    const tok = await loadTokenizer(files.wordLevel);
    const out = tok.encode(['the cat', 'a red cat sits'], { maxLength: 8, padding: 'max_length', truncation: true });
    expect(out.shape).toEqual([2, 8]);
    expect(out.inputIds).toBeInstanceOf(BigInt64Array);
    expect(ids(out.inputIds)).toEqual([2, 9, 6, 3, 0, 0, 0, 0, 2, 4, 5, 6, 7, 3, 0, 0]);
    expect(ids(out.attentionMask)).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0]);
    expect(out.lengths).toEqual([4, 6]);
  });

  it('pads to the longest text of the batch, with int32 arrays and an explicit pad id', async () => {
    const tok = await loadTokenizer(files.unigram);
    const out = tok.encode(['the cat', 'a', 'the cat sat'], {
      maxLength: 50,
      padding: 'longest',
      truncation: true,
      padId: 7,
      dtype: 'int32',
    });
    expect(out.shape).toEqual([3, 4]);
    expect(out.inputIds).toBeInstanceOf(Int32Array);
    expect(ids(out.inputIds)).toEqual([4, 5, 1, 7, 11, 1, 7, 7, 4, 5, 8, 1]);
    expect(ids(out.attentionMask)).toEqual([1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1]);
    expect(out.lengths).toEqual([3, 2, 4]);
  });

  it('truncates the content and keeps the special tokens', async () => {
    const wl = await loadTokenizer(files.wordLevel);
    const a = wl.encode(['A red cat sits on the mat.'], { maxLength: 5, padding: 'max_length', truncation: true });
    expect(ids(a.inputIds)).toEqual([2, 4, 5, 6, 3]);
    expect(a.lengths).toEqual([5]);
    const bp = await loadTokenizer(files.bpe);
    expect(
      ids(bp.encode(['Low lower newest widest!'], { maxLength: 4, padding: 'longest', truncation: true }).inputIds),
    ).toEqual([0, 21, 24, 1]);
    const ug = await loadTokenizer(files.unigram);
    expect(ids(ug.encode(['the cat sat'], { maxLength: 3, padding: 'max_length', truncation: true }).inputIds)).toEqual(
      [4, 5, 1],
    );
  });

  it('takes the default pad id from tokenizer.json padding, else the [PAD]/<pad> token', async () => {
    const bp = await loadTokenizer(files.bpe);
    expect(bp.padId).toBe(1); // padding.pad_id (CLIP pads with <|endoftext|>)
    expect(ids(bp.encode(['low'], { maxLength: 5, padding: 'max_length', truncation: true }).inputIds)).toEqual([
      0, 21, 1, 1, 1,
    ]);
    expect((await loadTokenizer(files.wordLevel)).padId).toBe(0);
    expect((await loadTokenizer(files.unigram)).padId).toBe(0);
  });

  it('names the file when it cannot be read or parsed', async () => {
    const missing = join(dir, 'nope/tokenizer.json');
    await expect(loadTokenizer(missing)).rejects.toThrow(`tokenizer ${missing} not found`);
    const bad = writeModel('tok/bad.json', '{"model": ');
    await expect(loadTokenizer(bad)).rejects.toThrow(new RegExp(`^tokenizer ${bad} is not valid JSON`));
    const notTok = writeModel('tok/not.json', '{"hello": 1}');
    await expect(loadTokenizer(notTok)).rejects.toThrow(
      `tokenizer ${notTok} is not a Hugging Face tokenizer.json (no "model" object)`,
    );
    const unknown = writeModel('tok/unknown.json', JSON.stringify({ ...wordLevel, model: { type: 'Mystery' } }));
    await expect(loadTokenizer(unknown)).rejects.toThrow(
      `tokenizer ${unknown} could not be loaded: Unknown TokenizerModel type: Mystery`,
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// Text encoders
// ---------------------------------------------------------------------------------------------------

const clipSpec = (over: Partial<EncoderSpec> = {}): EncoderSpec => ({
  name: 'clip-test',
  model: 'clip.onnx',
  tokenizer: { file: 'tok/wordlevel.json', max_length: SEQ, padding: 'max_length' },
  inputs: [{ name: 'input_ids', source: 'input_ids', dtype: 'int64' }],
  outputs: [
    { name: 'last_hidden_state', save_as: 'prompt_embed', dtype: 'bfloat16' },
    { name: 'pooler_output', save_as: 'pooled_prompt_embeds', dtype: 'bfloat16' },
  ],
  ...over,
});

/** Embedding rows of the ids, and their mean over the first `count` positions (all, without a mask). */
function reference(emb: Float32Array, tokenIds: number[], count = tokenIds.length) {
  const hidden = tokenIds.flatMap((id) => Array.from(emb.subarray(id * DIM, (id + 1) * DIM)));
  const pooled = Array.from({ length: DIM }, (_, d) => {
    let s = 0;
    for (let p = 0; p < count; p++) s += hidden[p * DIM + d];
    return s / count;
  });
  return { hidden, pooled };
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-6) {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst).toBeLessThanOrEqual(tol);
}

describe('EncoderRunner: text', () => {
  it('gives hidden states and the pooled output equal to the reference computation', async () => {
    const runner = await EncoderRunner.open(
      clipSpec({ constants: [{ save_as: 'text_ids', shape: [3], dtype: 'bfloat16', fill: 0 }] }),
      { modelsDir: models(), threads: 1 },
    );
    try {
      const [item] = await runner.run([{ text: 'A red cat sits' }]);
      const ref = reference(text.embedding, [2, 4, 5, 6, 7, 3, 0, 0]);
      expect(item.originalLength).toBe(6);
      expect(item.tensors.prompt_embed.shape).toEqual([SEQ, DIM]);
      expect(item.tensors.prompt_embed.dtype).toBe('bfloat16');
      expectClose(item.tensors.prompt_embed.data, ref.hidden);
      expect(item.tensors.pooled_prompt_embeds.shape).toEqual([DIM]);
      expectClose(item.tensors.pooled_prompt_embeds.data, ref.pooled);
      expect(item.tensors.text_ids).toEqual({ dtype: 'bfloat16', shape: [3], data: new Float32Array(3) });
    } finally {
      await runner.close();
    }
  });

  it('a batch of 3 equals 3 single runs', async () => {
    const runner = await EncoderRunner.open(clipSpec(), { modelsDir: models() });
    try {
      const texts = ['A red cat sits on the mat.', 'Café!', 'the dog'];
      const batch = await runner.run(texts.map((t) => ({ text: t })));
      expect(batch).toHaveLength(3);
      for (let i = 0; i < 3; i++) {
        const [single] = await runner.run([{ text: texts[i] }]);
        expect(batch[i]).toEqual(single);
      }
      // Truncation at 8 keeps [SEP].
      const ref = reference(text.embedding, [2, 4, 5, 6, 7, 8, 9, 3]);
      expectClose(batch[0].tensors.prompt_embed.data, ref.hidden);
      expect(batch[0].originalLength).toBe(8);
    } finally {
      await runner.close();
    }
  });

  it('runBatches pipelines batches and gives what run gives, in order; a bad batch fails after the one before it', async () => {
    const runner = await EncoderRunner.open(clipSpec(), { modelsDir: models() });
    try {
      const batches = [
        [{ text: 'a red cat' }, { text: 'the mat' }],
        [],
        [{ text: 'Café!' }],
        [{ text: 'sits on the mat.' }, { text: '' }, { text: 'cat' }],
      ];
      const got: unknown[] = [];
      for await (const out of runner.runBatches(batches)) got.push(out);
      const want: unknown[] = [];
      for (const b of batches) want.push(await runner.run(b));
      expect(got).toEqual(want);
      expect(got.map((g) => (g as unknown[]).length)).toEqual([2, 0, 1, 3]);

      async function* stream() {
        yield [{ text: 'cat' }];
        yield [{ text: 'mat' }, {}];
        yield [{ text: 'never read' }];
      }
      const seen: number[] = [];
      await expect(
        (async () => {
          for await (const out of runner.runBatches(stream())) seen.push(out.length);
        })(),
      ).rejects.toThrow('item 1 of the batch has no text');
      expect(seen).toEqual([1]);
    } finally {
      await runner.close();
    }
  });

  it('keeps the batch dimension when squeeze_batch is false', async () => {
    const runner = await EncoderRunner.open(
      clipSpec({ outputs: [{ name: 'pooler_output', save_as: 'pooled', dtype: 'float32', squeeze_batch: false }] }),
      { modelsDir: models() },
    );
    const [item] = await runner.run([{ text: 'cat' }]);
    expect(item.tensors.pooled.shape).toEqual([1, DIM]);
    await runner.close();
  });

  it('longest padding + mask + pad_to: rows past the text are zeros, mask and original_length recorded, batch = singles', async () => {
    const spec: EncoderSpec = {
      name: 'qwen-like',
      model: 'masked.onnx',
      tokenizer: { file: 'tok/wordlevel.json', max_length: 64, padding: 'longest' },
      inputs: [
        { name: 'input_ids', source: 'input_ids', dtype: 'int64' },
        { name: 'attention_mask', source: 'attention_mask', dtype: 'int64' },
      ],
      outputs: [
        { name: 'last_hidden_state', save_as: 'prompt_embed', dtype: 'bfloat16', pad_to: 12 },
        { name: 'pooler_output', save_as: 'pooled', dtype: 'float32' },
      ],
      save_mask_as: 'prompt_attention_mask',
    };
    const runner = await EncoderRunner.open(spec, { modelsDir: models() });
    try {
      const texts = ['a red cat', 'the mat', 'cat'];
      const tokenIds = [
        [2, 4, 5, 6, 3],
        [2, 9, 10, 3],
        [2, 6, 3],
      ];
      const batch = await runner.run(texts.map((t) => ({ text: t })));
      for (let i = 0; i < 3; i++) {
        const item = batch[i];
        const len = tokenIds[i].length;
        const ref = reference(masked.embedding, tokenIds[i]);
        expect(item.originalLength).toBe(len);
        expect(item.tensors.prompt_embed.shape).toEqual([12, DIM]);
        expectClose(item.tensors.prompt_embed.data, [...ref.hidden, ...new Array((12 - len) * DIM).fill(0)]);
        expectClose(item.tensors.pooled.data, ref.pooled);
        expect(item.tensors.prompt_attention_mask.dtype).toBe('int64');
        expect(Array.from(item.tensors.prompt_attention_mask.data)).toEqual([
          ...new Array(len).fill(1),
          ...new Array(12 - len).fill(0),
        ]);
        const [single] = await runner.run([{ text: texts[i] }]);
        expect(item).toEqual(single);
      }
    } finally {
      await runner.close();
    }
  });

  it('reads float16 outputs as float32', async () => {
    const runner = await EncoderRunner.open(clipSpec({ model: 'half.onnx' }), { modelsDir: models() });
    const [item] = await runner.run([{ text: 'the mat' }]);
    // The weights are multiples of 1/1024 below 1: exact in float16 too.
    expect(Array.from(item.tensors.prompt_embed.data)).toEqual(
      reference(half.embedding, [2, 9, 10, 3, 0, 0, 0, 0]).hidden,
    );
    await runner.close();
  });
});

// ---------------------------------------------------------------------------------------------------
// Images
// ---------------------------------------------------------------------------------------------------

const MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
const STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];

describe('image preprocessing', () => {
  it('scales, subtracts the mean and divides by the std per channel, NCHW', async () => {
    const { data, shape } = await preprocessImages([img8], {
      size: [8, 8],
      resize: 'fill',
      mean: MEAN,
      std: STD,
      layout: 'nchw',
    });
    expect(shape).toEqual([1, 3, 8, 8]);
    const expected = new Float32Array(3 * 64);
    for (let c = 0; c < 3; c++)
      for (let p = 0; p < 64; p++) expected[c * 64 + p] = (PIX(p, c) / 255 - MEAN[c]) / STD[c];
    expectClose(data, expected);
  });

  it('NHWC holds the same values interleaved; scale is applied first', async () => {
    const nchw = await preprocessImages([img8, img8b], {
      size: [8, 8],
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
      scale: 255,
    });
    const nhwc = await preprocessImages([img8, img8b], {
      size: [8, 8],
      mean: [0.5, 0.5, 0.5],
      std: [0.5, 0.5, 0.5],
      layout: 'nhwc',
    });
    expect(nhwc.shape).toEqual([2, 8, 8, 3]);
    for (let b = 0; b < 2; b++)
      for (let c = 0; c < 3; c++)
        for (let p = 0; p < 64; p++) {
          expect(nhwc.data[(b * 64 + p) * 3 + c]).toBe(nchw.data[(b * 3 + c) * 64 + p]);
        }
    // The second image is the negative of the first: (255 - v)/255 mapped to [-1, 1] flips the sign.
    expect(nchw.data[3 * 64 + 5]).toBeCloseTo(-nchw.data[5], 6);
    const raw = await preprocessImages([img8], { size: [8, 8], mean: [0, 0, 0], std: [1, 1, 1], scale: 1 });
    expect(raw.data[64 + 9]).toBe(PIX(9, 1));
  });

  it('resizes by fill / contain (black letterbox) / cover to [width, height]', async () => {
    const red = (200 / 255 - 0) / 1;
    const fill = await preprocessImages([wide], { size: [4, 6], resize: 'fill', mean: [0, 0, 0], std: [1, 1, 1] });
    expect(fill.shape).toEqual([1, 3, 6, 4]);
    expect(Array.from(fill.data.subarray(0, 24)).every((v) => Math.abs(v - red) < 1e-6)).toBe(true);
    const contain = await preprocessImages([wide], {
      size: [8, 8],
      resize: 'contain',
      mean: [0, 0, 0],
      std: [1, 1, 1],
    });
    // 16×8 fits as 8×4 in the middle of 8×8: rows 0-1 and 6-7 are black.
    const rowsOfRed = Array.from({ length: 8 }, (_, y) => contain.data[y * 8 + 3]);
    expect(rowsOfRed.map((v) => (Math.abs(v - red) < 1e-6 ? 'r' : v === 0 ? '0' : '?')).join('')).toBe('00rrrr00');
    const cover = await preprocessImages([wide], { size: [8, 8], resize: 'cover', mean: [0, 0, 0], std: [1, 1, 1] });
    expect(Array.from(cover.data.subarray(0, 64)).every((v) => Math.abs(v - red) < 1e-6)).toBe(true);
  });
});

describe('EncoderRunner: images', () => {
  const convSpec = (over: Partial<EncoderSpec> = {}): EncoderSpec => ({
    name: 'vae-test',
    model: 'conv.onnx',
    image: { size: [8, 8], resize: 'fill', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], layout: 'nchw' },
    inputs: [{ name: 'pixel_values', source: 'pixel_values', dtype: 'float32' }],
    outputs: [{ name: 'latents', save_as: 'image_latents', dtype: 'bfloat16' }],
    ...over,
  });

  it('conv latents equal the reference, per item of a batch', async () => {
    const runner = await EncoderRunner.open(convSpec(), { modelsDir: models() });
    try {
      const out = await runner.run([{ image: img8 }, { image: { kind: 'file', path: img8b } }]);
      const x = new Float32Array(2 * 3 * 64);
      for (let b = 0; b < 2; b++)
        for (let c = 0; c < 3; c++)
          for (let p = 0; p < 64; p++) x[(b * 3 + c) * 64 + p] = ((b ? 255 - PIX(p, c) : PIX(p, c)) / 255 - 0.5) / 0.5;
      const ref = referenceConv(conv, x, 2, 8, 8, 4, 2);
      expect(out[0].originalLength).toBeNull();
      expect(out[0].tensors.image_latents.shape).toEqual([4, 4, 4]);
      expectClose(out[0].tensors.image_latents.data, ref.subarray(0, 64));
      expectClose(out[1].tensors.image_latents.data, ref.subarray(64));
    } finally {
      await runner.close();
    }
  });

  it('an NHWC model fed NHWC pixels gives the same latents', async () => {
    const a = await EncoderRunner.open(convSpec(), { modelsDir: models() });
    const b = await EncoderRunner.open(
      convSpec({
        model: 'conv-nhwc.onnx',
        image: { size: [8, 8], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], layout: 'nhwc' },
      }),
      { modelsDir: models() },
    );
    const [ra] = await a.run([{ image: img8 }]);
    const [rb] = await b.run([{ image: img8 }]);
    expectClose(rb.tensors.image_latents.data, ra.tensors.image_latents.data);
    await Promise.all([a.close(), b.close()]);
  });

  it('feeds [B, 3, H, W] to a model that takes [B, 3, 1, H, W] and keeps [c, 1, h, w] latents', async () => {
    const runner = await EncoderRunner.open(convSpec({ model: 'vae.onnx' }), { modelsDir: models() });
    const conv4 = await EncoderRunner.open(convSpec(), { modelsDir: models() });
    const [v] = await runner.run([{ image: img8 }]);
    const [c] = await conv4.run([{ image: img8 }]);
    expect(v.tensors.image_latents.shape).toEqual([4, 1, 4, 4]);
    expect(v.tensors.image_latents.data).toEqual(c.tensors.image_latents.data);
    await Promise.all([runner.close(), conv4.close()]);
  });
});

// ---------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------

describe('EncoderRunner: errors', () => {
  const open = (spec: EncoderSpec) => EncoderRunner.open(spec, { modelsDir: models() });

  it('a missing model file', async () => {
    await expect(open(clipSpec({ model: 'nope/clip.onnx' }))).rejects.toThrow(
      `encoder "clip-test": ${join(models(), 'nope/clip.onnx')} not found`,
    );
  });

  it('a corrupt (truncated) model: ORT error with the file name', async () => {
    await expect(open(clipSpec({ model: 'corrupt/clip.onnx' }))).rejects.toThrow(
      new RegExp(
        `^encoder "clip-test": cannot load model ${join(models(), 'corrupt/clip.onnx')}: Protobuf parsing failed`,
        'i',
      ),
    );
  });

  it('an input name the model does not have lists its inputs', async () => {
    await expect(open(clipSpec({ inputs: [{ name: 'ids', source: 'input_ids', dtype: 'int64' }] }))).rejects.toThrow(
      'encoder "clip-test": model clip.onnx has no input "ids"; its inputs: input_ids int64 [batch, 8]',
    );
  });

  it('an output name the model does not produce lists its outputs', async () => {
    await expect(
      open(clipSpec({ outputs: [{ name: 'pooled', save_as: 'pooled', dtype: 'bfloat16' }] })),
    ).rejects.toThrow(
      'encoder "clip-test": model clip.onnx has no output "pooled"; its outputs: last_hidden_state float32 [batch, 8, 4], pooler_output float32 [batch, 4]',
    );
  });

  it('a dtype the model does not take', async () => {
    await expect(
      open(clipSpec({ inputs: [{ name: 'input_ids', source: 'input_ids', dtype: 'int32' }] })),
    ).rejects.toThrow(
      'encoder "clip-test": model clip.onnx input "input_ids" expects int64 [batch, 8] but the spec feeds int32',
    );
  });

  it('a sequence length or padding that does not fit the model', async () => {
    await expect(
      open(clipSpec({ tokenizer: { file: 'tok/wordlevel.json', max_length: 6, padding: 'max_length' } })),
    ).rejects.toThrow(
      'encoder "clip-test": model clip.onnx input "input_ids" expects int64 [batch, 8] but the spec feeds int64 [batch, 6] (tokenizer.max_length 6, padding max_length)',
    );
    await expect(
      open(clipSpec({ tokenizer: { file: 'tok/wordlevel.json', max_length: 8, padding: 'longest' } })),
    ).rejects.toThrow('expects int64 [batch, 8] but the spec feeds int64 [batch, longest]');
  });

  it('an image size that does not fit the model', async () => {
    const spec: EncoderSpec = {
      name: 'vae-test',
      model: 'conv.onnx',
      image: { size: [16, 8], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
      inputs: [{ name: 'pixel_values', source: 'pixel_values', dtype: 'float32' }],
      outputs: [{ name: 'latents', save_as: 'image_latents', dtype: 'bfloat16' }],
    };
    await expect(open(spec)).rejects.toThrow(
      'model conv.onnx input "pixel_values" expects float32 [batch, 3, 8, 8] but the spec feeds float32 [batch, 3, 8, 16] (image.size [16, 8], layout nchw)',
    );
  });

  it('a model input the spec does not feed', async () => {
    await expect(open(clipSpec({ model: 'masked.onnx' }))).rejects.toThrow(
      'encoder "clip-test": model masked.onnx input "attention_mask" (int64 [batch, seq]) is not fed: add it to the spec\'s inputs',
    );
  });

  it('spec fields that do not fit together, and a missing tokenizer file', async () => {
    await expect(open(clipSpec({ tokenizer: undefined }))).rejects.toThrow(
      'encoder "clip-test": input "input_ids" is fed from input_ids, but the spec has no tokenizer',
    );
    const missing = join(models(), 'tok/missing.json');
    await expect(open(clipSpec({ tokenizer: { file: 'tok/missing.json', max_length: 8 } }))).rejects.toThrow(
      `encoder "clip-test": tokenizer ${missing} not found`,
    );
    await expect(
      open(
        clipSpec({
          outputs: [
            { name: 'pooler_output', save_as: 'x', dtype: 'float32' },
            { name: 'last_hidden_state', save_as: 'x', dtype: 'float32' },
          ],
        }),
      ),
    ).rejects.toThrow('save_as "x" is used twice');
  });

  it('at run time: an item without text, an unreadable image, ORT failing on the batch', async () => {
    const runner = await open(clipSpec());
    await expect(runner.run([{ text: 'cat' }, {}])).rejects.toThrow(
      'encoder "clip-test": item 1 of the batch has no text, and the model reads tokens',
    );
    await runner.close();
    const image = await open({
      name: 'vae-test',
      model: 'conv.onnx',
      image: { size: [8, 8], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
      inputs: [{ name: 'pixel_values', source: 'pixel_values', dtype: 'float32' }],
      outputs: [{ name: 'latents', save_as: 'image_latents', dtype: 'bfloat16' }],
    });
    const notImage = writeModel('not-an-image.png', 'hello');
    await expect(image.run([{ image: notImage }])).rejects.toThrow(
      new RegExp(`^encoder "vae-test": cannot read image ${notImage}: `),
    );
    await image.close();
    // The tokenizer's ids go up to 13; this model's table has 5 rows.
    const small = await open(clipSpec({ model: 'tiny-vocab.onnx' }));
    await expect(small.run([{ text: 'the mat' }])).rejects.toThrow(
      /^encoder "clip-test": model tiny-vocab\.onnx failed on a batch of 1: .*indices/,
    );
    await small.close();
  });
});
