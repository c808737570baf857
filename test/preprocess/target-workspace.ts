// The workspace the preprocess target tests share (target.test.ts, target.e2e.test.ts): a tiny ONNX text
// encoder with a WordLevel tokenizer, a rubric and a prompt list. `ws` and `text` are live bindings, fresh
// in each test once setUpPreprocessWorkspace() has registered its hooks.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach } from 'vitest';
import { runPreprocessTarget } from '../../src/targets/preprocess.js';
import { makeTextEncoder } from '../helpers/onnx-models.js';
import { makeSpecialToken, makeTemplateProcessing } from '../helpers/tokenizers.js';
import { makeWorkspace, type TestWorkspace } from '../helpers/workspace.js';

export const VOCAB = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  'red',
  'blue',
  'green',
  'circle',
  'square',
  'two',
  'three',
  'a',
];
export const DIM = 8;
export let ws: TestWorkspace;
export let text: ReturnType<typeof makeTextEncoder>;

function tokenizerJson() {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      makeSpecialToken(0, '[PAD]'),
      makeSpecialToken(1, '[UNK]'),
      makeSpecialToken(2, '[CLS]'),
      makeSpecialToken(3, '[SEP]'),
    ],
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: makeTemplateProcessing(['[CLS]', '$A', '[SEP]'], { '[CLS]': 2, '[SEP]': 3 }),
    decoder: null,
    model: { type: 'WordLevel', vocab: Object.fromEntries(VOCAB.map((w, i) => [w, i])), unk_token: '[UNK]' },
  };
}

export const textSpec = (extra: Record<string, unknown> = {}) => ({
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

export function manifest(name: string, prompts: string, extra = '') {
  ws.write(
    `experiments/${name}.yaml`,
    `task: t2i\nrubric: { from: ../data/rubric.txt }\npreprocess:\n  prompts: ${prompts}\n  models: ../models\n  drop_cjk: true\n  batch_size: 2\n  encoders: ${JSON.stringify([textSpec()])}\n${extra}`,
  );
}

/** The pooled output by hand: the mean of the embedding rows of the (unpadded) tokens. */
export function expectedPooled(prompt: string): number[] {
  const ids = [
    2,
    ...prompt
      .toLowerCase()
      .split(/\s+/)
      .filter(Boolean)
      .map((w) => Math.max(1, VOCAB.indexOf(w))),
    3,
  ];
  const out = new Array(DIM).fill(0);
  for (const id of ids) for (let d = 0; d < DIM; d++) out[d] += text.embedding[id * DIM + d] / ids.length;
  return out;
}

export const build = (experiment: string) =>
  runPreprocessTarget({ experiment, workspaceRoot: ws.root }, { log: () => {} });
export const metadataOf = (experiment: string) => {
  const pointer = JSON.parse(
    readFileSync(ws.path(`cache/experiments/${experiment}/preprocess/embeddings.json`), 'utf8'),
  );
  return {
    file: ws.path(pointer.metadata),
    entries: JSON.parse(readFileSync(ws.path(pointer.metadata), 'utf8')) as Record<string, any>[],
  };
};

/** Gives each test a fresh workspace with a tiny text encoder, its tokenizer, a rubric and a prompt list (`ws`, `text`). */
export function setUpPreprocessWorkspace(): void {
  beforeEach(() => {
    ws = makeWorkspace();
    text = makeTextEncoder({ vocab: VOCAB.length, dim: DIM, withMask: true });
    ws.write('models/text/tokenizer.json', JSON.stringify(tokenizerJson()));
    writeFileSync(ws.path('models/text/model.onnx'), text.bytes);
    ws.write('data/rubric.txt', '1. Prefer the image that follows the prompt.\n');
    ws.write('data/prompts.txt', 'two red circle\n\na blue square\n三个红色圆圈\nthree green circle\nred square\n');
  });
  afterEach(() => ws.cleanup());
}
