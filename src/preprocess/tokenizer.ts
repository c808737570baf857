// Text preparation for the preprocess encoders: a Hugging Face `tokenizer.json` (WordLevel, WordPiece,
// BPE or Unigram, with its normalizer, pre-tokenizer and post-processor) run by @huggingface/tokenizers
// (pure JS, no dependencies), then truncated, padded and packed into the typed arrays ORT takes.
//
// Truncation keeps the special tokens the post-processor adds, as `tokenizers` (Rust) and
// transformers do: the content is cut to `max_length - added`, then `[CLS] … [SEP]` / `… </s>` /
// `<|startoftext|> … <|endoftext|>` are put back. Padding is on the right.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

export type TokenDtype = 'int64' | 'int32';

export interface EncodeOptions {
  /** Tokens per text, special tokens included. */
  maxLength: number;
  /** `max_length`: every row is maxLength long; `longest`: rows are as long as the batch's longest text. */
  padding: 'max_length' | 'longest';
  /** Texts longer than maxLength are cut (keeping the special tokens). Only `true` is supported. */
  truncation: true;
  /** Padding token id; defaults to the tokenizer's (`TextTokenizer.padId`). */
  padId?: number | null;
  /** Element type of inputIds and attentionMask (default int64, what most exported encoders take). */
  dtype?: TokenDtype;
}

export interface EncodedBatch {
  inputIds: BigInt64Array | Int32Array;
  attentionMask: BigInt64Array | Int32Array;
  /** Tokens per text before padding (special tokens included): the reference's `original_length`. */
  lengths: number[];
  /** `[batch, len]`. */
  shape: [number, number];
}

export interface TextTokenizer {
  /** The tokenizer.json path, as given. */
  readonly file: string;
  /** The model type in the file (`WordLevel`, `BPE`, `Unigram`, `WordPiece`). */
  readonly modelType: string;
  /**
   * The padding id used when the caller gives none: tokenizer.json's `padding.pad_id`, else the id of
   * the `pad_token` in a tokenizer_config.json next to it, else an added `<pad>`/`[PAD]`/`<|pad|>`
   * token, else 0.
   */
  readonly padId: number;
  /** Token ids of one text, with special tokens, before truncation. */
  ids(text: string): number[];
  encode(texts: string[], opts: EncodeOptions): EncodedBatch;
}

interface TokenizerJson {
  model?: { type?: string; unk_token?: string | null; unk_id?: number | null; vocab?: unknown };
  padding?: { pad_id?: number } | null;
  added_tokens?: { id: number; content: string }[];
}

const PAD_NAMES = ['<pad>', '[PAD]', '<|pad|>'];

/** Loads a tokenizer.json. Errors name the file: unreadable, not JSON, or a tokenizer the library cannot build. */
export async function loadTokenizer(file: string): Promise<TextTokenizer> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(
      e.code === 'ENOENT' ? `tokenizer ${file} not found` : `cannot read tokenizer ${file}: ${e.message}`,
    );
  }
  let json: TokenizerJson;
  try {
    json = JSON.parse(text) as TokenizerJson;
  } catch (err) {
    throw new Error(`tokenizer ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (!json || typeof json !== 'object' || !json.model || typeof json.model !== 'object') {
    throw new Error(`tokenizer ${file} is not a Hugging Face tokenizer.json (no "model" object)`);
  }
  const sideConfig = await readSideConfig(file);
  return fromJson(json, file, sideConfig);
}

async function readSideConfig(file: string): Promise<{ pad_token?: unknown } | undefined> {
  const side = join(dirname(file), 'tokenizer_config.json');
  if (!existsSync(side)) return undefined;
  try {
    return JSON.parse(await readFile(side, 'utf8')) as { pad_token?: unknown };
  } catch (err) {
    throw new Error(`tokenizer config ${side} (next to ${file}) is not valid JSON: ${(err as Error).message}`);
  }
}

function fromJson(json: TokenizerJson, file: string, sideConfig: { pad_token?: unknown } | undefined): TextTokenizer {
  // The library takes the unknown token of word-level models from the config (tokenizer_config.json),
  // not from tokenizer.json; without it an unknown word becomes `undefined` instead of [UNK]. The
  // tokenizer.json is the whole truth here (as for the Rust `tokenizers`), so the config is built from it.
  const model = json.model!;
  const config: Record<string, unknown> = {};
  if (typeof model.unk_token === 'string') config.unk_token = model.unk_token;
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(json, config);
  } catch (err) {
    throw new Error(`tokenizer ${file} could not be loaded: ${(err as Error).message}`);
  }
  const modelType = typeof model.type === 'string' ? model.type : 'unknown';
  if (modelType === 'Unigram') memoizeWords(tok);
  const tokenId = (content: string): number | undefined => tok.token_to_id(content);

  let padId = 0;
  const sidePad =
    typeof sideConfig?.pad_token === 'string'
      ? sideConfig.pad_token
      : (sideConfig?.pad_token as { content?: unknown } | undefined)?.content;
  if (typeof json.padding?.pad_id === 'number') padId = json.padding.pad_id;
  else if (typeof sidePad === 'string' && tokenId(sidePad) !== undefined) padId = tokenId(sidePad)!;
  else {
    const named = (json.added_tokens ?? []).find((t) => PAD_NAMES.includes(t.content));
    if (named) padId = named.id;
  }

  const ids = (text: string): number[] => checkIds(tok.encode(text).ids, text);
  const checkIds = (list: (number | undefined | null)[], text: string): number[] => {
    for (const id of list) {
      if (typeof id !== 'number')
        throw new Error(
          `tokenizer ${file}: a token of ${JSON.stringify(text.slice(0, 80))} has no id (the vocabulary has no unknown token)`,
        );
    }
    return list as number[];
  };

  const contentIds = (text: string): number[] => checkIds(tok.encode(text, { add_special_tokens: false }).ids, text);

  /** Where the content sits inside the post-processed ids: the special tokens before and after it. */
  const frame = (full: number[], content: number[]): { before: number[]; after: number[] } | undefined => {
    const added = full.length - content.length;
    for (let p = 0; p <= added; p++) {
      let same = true;
      for (let k = 0; k < content.length && same; k++) same = full[p + k] === content[k];
      if (same) return { before: full.slice(0, p), after: full.slice(p + content.length) };
    }
    return undefined;
  };

  // A single text's post-processor (TemplateProcessing, Bert, Roberta, ByteLevel, a Sequence of them)
  // puts the same special tokens around every text. When probes show that, texts are encoded once
  // without them and framed here: the library's post-processor is slow (40% of a short prompt's
  // encode), and a long text needs no second encode to truncate. Otherwise each text is encoded with
  // its special tokens, and again without them when it must be cut.
  let fixed: { before: number[]; after: number[] } | undefined;
  try {
    const frames = ['a', 'hello world', 'The 2 cats, 3 dogs!'].map((t) => frame(ids(t), contentIds(t)));
    if (frames.every((f) => f && JSON.stringify(f) === JSON.stringify(frames[0]))) fixed = frames[0];
  } catch {
    // A probe has no id (no unknown token in the vocabulary): keep the general path.
  }

  /** Ids of one text, at most maxLength long, special tokens kept. */
  const truncated = (text: string, maxLength: number): number[] => {
    if (fixed) {
      const content = contentIds(text);
      const added = fixed.before.length + fixed.after.length;
      if (added >= maxLength) return [...fixed.before, ...content, ...fixed.after].slice(0, maxLength);
      const kept = content.length + added > maxLength ? content.slice(0, maxLength - added) : content;
      return [...fixed.before, ...kept, ...fixed.after];
    }
    const full = ids(text);
    if (full.length <= maxLength) return full;
    const content = contentIds(text);
    const added = full.length - content.length;
    const f = added >= 0 && added < maxLength ? frame(full, content) : undefined;
    if (!f) return full.slice(0, maxLength);
    return [...f.before, ...content.slice(0, maxLength - added), ...f.after];
  };

  return {
    file,
    modelType,
    padId,
    ids,
    encode(texts: string[], opts: EncodeOptions): EncodedBatch {
      if (!Number.isInteger(opts.maxLength) || opts.maxLength < 1)
        throw new Error(`tokenizer ${file}: max_length must be a positive integer, got ${opts.maxLength}`);
      const rows = texts.map((t) => truncated(t, opts.maxLength));
      const lengths = rows.map((r) => r.length);
      const len = opts.padding === 'max_length' ? opts.maxLength : Math.max(1, ...lengths);
      const pad = opts.padId ?? padId;
      const n = texts.length * len;
      const wide = (opts.dtype ?? 'int64') === 'int64';
      const inputIds = wide ? new BigInt64Array(n) : new Int32Array(n);
      const attentionMask = wide ? new BigInt64Array(n) : new Int32Array(n);
      for (let b = 0; b < rows.length; b++) {
        const row = rows[b];
        const base = b * len;
        if (wide) {
          const idsOut = inputIds as BigInt64Array;
          const maskOut = attentionMask as BigInt64Array;
          const padBig = BigInt(pad);
          for (let i = 0; i < len; i++) {
            const real = i < row.length;
            idsOut[base + i] = real ? BigInt(row[i]) : padBig;
            maskOut[base + i] = real ? 1n : 0n;
          }
        } else {
          const idsOut = inputIds as Int32Array;
          const maskOut = attentionMask as Int32Array;
          for (let i = 0; i < len; i++) {
            const real = i < row.length;
            idsOut[base + i] = real ? row[i] : pad;
            maskOut[base + i] = real ? 1 : 0;
          }
        }
      }
      return { inputIds, attentionMask, lengths, shape: [texts.length, len] };
    },
  };
}

/** Distinct words remembered per Unigram tokenizer; the memo is emptied when it reaches this. */
const WORD_MEMO_LIMIT = 200_000;

/**
 * Remembers the Unigram segmentation of each pre-tokenized word. The library's Unigram builds a
 * Viterbi lattice per word every time (about 10 µs a word with a 32k vocabulary, most of the cost of a
 * T5 prompt), while prompts repeat words all the time. The model's `encode(words)` is the concatenation
 * of the words' segmentations, each a pure function of the word, so the memo changes no id; the
 * library's BPE keeps such a cache itself.
 */
function memoizeWords(tok: Tokenizer): void {
  const model = (tok as unknown as { model?: { encode?: (words: string[]) => string[] } }).model;
  if (!model || typeof model.encode !== 'function') return;
  const inner = model.encode.bind(model);
  const memo = new Map<string, string[]>();
  model.encode = (words: string[]): string[] => {
    const out: string[] = [];
    for (const word of words) {
      let pieces = memo.get(word);
      if (pieces === undefined) {
        pieces = inner([word]);
        if (memo.size >= WORD_MEMO_LIMIT) memo.clear();
        memo.set(word, pieces);
      }
      for (const p of pieces) out.push(p);
    }
    return out;
  };
}
