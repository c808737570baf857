// Text embedders for the coding-rate (MCR²) selection of rubric criteria (src/rubric/select.ts).
//
// The reference (docs/architecture.md, "Criterion selection") hard-codes SentenceTransformer("Qwen/Qwen3-Embedding-4B"), a 4B-parameter model
// that needs a GPU and a download, and turns a failed chunk into zero vectors silently. Here the
// embedder is pluggable and named by `Embedder.id`, which is part of every cache key that depends on the
// vectors:
//   - `lexical` (the offline default): hashed word/bigram/character-trigram features, no dependencies,
//     the same vector for the same text on every machine;
//   - `endpoint`: any OpenAI-compatible `POST /v1/embeddings` (vLLM, TEI, OpenAI), errors never
//     become zero vectors;
//   - `onnx`: the experiment's preprocess text encoder (src/rubric/onnx-embedder.ts).
import OpenAI from 'openai';
import { ArrError } from '../util/errors.js';
import { isTransientHttpError, retryDelayMs, withRetries } from '../util/retry.js';

export interface Embedder {
  /** Names the embedding function; part of cache keys, e.g. `lexical/1` or `endpoint/<model>`. */
  readonly id: string;
  /** One L2-normalised vector per text, in input order, all of the same dimension. */
  embed(texts: string[]): Promise<Float32Array[]>;
}

// ---------------------------------------------------------------------------------------------------
// Lexical embedder
// ---------------------------------------------------------------------------------------------------

/** Buckets of the hashed feature space. */
export const LEXICAL_DIM = 512;

/**
 * Feature family weights. A feature's value is `weight × (1 + ln tf)` (sublinear term frequency),
 * added into its bucket with its sign. Character trigrams are numerous (one per letter of a word), so
 * each weighs half a word: they make inflections ("colour"/"colours", "render"/"rendered") overlap
 * without drowning the whole-word signal. (On 15 rubric criteria in 5 paraphrase clusters, 0.5 gave
 * mean cosine 0.64 within clusters and 0.03 between; 0.25 gave 0.56 and 0.02.)
 */
const WEIGHT = { word: 1, bigram: 0.5, char: 0.5 } as const;

/**
 * Function words dropped before features are made: rubric criteria share "the image should …" so
 * heavily that, kept, these words would make every criterion look alike. Part of `lexical/1`: changing
 * this list changes vectors, so it must bump the version in `LexicalEmbedder.id`.
 */
const STOP_WORDS = new Set(
  (
    'a an the and or but nor of to in on at by for with from into onto as is are was were be been being ' +
    'it its this that these those there their them they he she his her we our you your i me my ' +
    'do does did has have had should must shall will would can could may might ' +
    'not no so if then than too very also just only such any all each both either neither'
  ).split(' '),
);

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const utf8 = new TextEncoder();

/**
 * The feature hash: 32-bit FNV-1a over the feature's UTF-8 bytes, then murmur3's `fmix32` finaliser so
 * that every output bit depends on every input bit (plain FNV-1a mixes its high bits poorly). The
 * bucket is the low 9 bits (`h & 511`), the sign is bit 31: a colliding pair of features cancels or
 * adds with equal chance, so collisions add noise rather than a bias towards similarity.
 */
export function featureHash(feature: string): number {
  let h = FNV_OFFSET;
  for (const byte of utf8.encode(feature)) {
    h ^= byte;
    h = Math.imul(h, FNV_PRIME);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Lower-cased (after NFKC) runs of letters and digits; function words dropped unless nothing else is left. */
export function lexicalTokens(text: string): string[] {
  const words =
    text
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  const content = words.filter((w) => !STOP_WORDS.has(w));
  return content.length > 0 ? content : words;
}

/**
 * The offline default embedder. Features of a text, each hashed into one of {@link LEXICAL_DIM}
 * buckets with a ±1 sign ({@link featureHash}):
 *   - `w:<word>`: word unigrams (weight 1);
 *   - `b:<word> <word>`: adjacent word bigrams, after stop-word removal (weight 0.5);
 *   - `c:<abc>`: character trigrams of each word padded as `<word>` (weight 0.5).
 * Each distinct feature contributes `weight × (1 + ln tf)`; the vector is then L2-normalised (a text
 * with no letters or digits gives the zero vector). The arithmetic is IEEE double in a fixed order
 * and V8's `Math.log` is the same fdlibm port everywhere, so the same text gives the same vector, to
 * the bit, on every machine.
 */
export class LexicalEmbedder implements Embedder {
  readonly id = 'lexical/1';
  readonly dim = LEXICAL_DIM;

  embed(texts: string[]): Promise<Float32Array[]> {
    return Promise.resolve(texts.map((t) => this.embedOne(t)));
  }

  embedOne(text: string): Float32Array {
    const counts = new Map<string, { weight: number; tf: number }>();
    const add = (feature: string, weight: number) => {
      const entry = counts.get(feature);
      if (entry) entry.tf++;
      else counts.set(feature, { weight, tf: 1 });
    };
    const tokens = lexicalTokens(text);
    for (let i = 0; i < tokens.length; i++) {
      const word = tokens[i];
      add(`w:${word}`, WEIGHT.word);
      if (i + 1 < tokens.length) add(`b:${word} ${tokens[i + 1]}`, WEIGHT.bigram);
      const padded = Array.from(`<${word}>`); // code points, not UTF-16 units
      for (let j = 0; j + 3 <= padded.length; j++) add(`c:${padded.slice(j, j + 3).join('')}`, WEIGHT.char);
    }
    const acc = new Float64Array(LEXICAL_DIM);
    // Map iteration follows insertion order, which follows the text: the summation order is fixed.
    for (const [feature, { weight, tf }] of counts) {
      const h = featureHash(feature);
      const value = weight * (1 + Math.log(tf));
      acc[h & (LEXICAL_DIM - 1)] += h >>> 31 ? -value : value;
    }
    return normalized(acc);
  }
}

// ---------------------------------------------------------------------------------------------------
// Endpoint embedder
// ---------------------------------------------------------------------------------------------------

export interface EndpointEmbedderOptions {
  /** OpenAI-compatible base URL ending in /v1 (e.g. vLLM's `http://localhost:8000/v1`). */
  baseUrl: string;
  /** The key's value; never logged or part of `id`. */
  apiKey?: string;
  model: string;
  /** Texts per request (default 64). */
  batchSize?: number;
  /** Retries of a request after a 408/409/429/5xx or a connection failure (default 3). */
  retries?: number;
  /** Backoff ceiling of the first retry in ms, doubled per retry, capped at 20 s, with full jitter (default 500). A longer `Retry-After` wins. */
  retryBaseMs?: number;
  /** Per-request timeout in seconds (default 60). */
  timeoutS?: number;
}

export class EmbeddingError extends ArrError {
  override name = 'EmbeddingError';
}

/**
 * Embeddings from an OpenAI-compatible `POST {baseUrl}/embeddings` through the openai SDK. The SDK's
 * own retries are off (`maxRetries: 0`); this class retries a request up to `retries` times on
 * 429/5xx/connection failures with exponential backoff, and otherwise fails with an error that names
 * the URL and the model. It asks for `encoding_format: "float"` (every compatible server supports it;
 * base64 is optional in vLLM and TEI) and L2-normalises what comes back.
 */
export class EndpointEmbedder implements Embedder {
  readonly id: string;
  private readonly client: OpenAI;
  private readonly url: string;
  private readonly batchSize: number;
  private readonly retries: number;
  private readonly retryBaseMs: number;

  constructor(private readonly options: EndpointEmbedderOptions) {
    if (!options.baseUrl)
      throw new EmbeddingError('the endpoint embedder needs a base URL (an OpenAI-compatible endpoint ending in /v1)');
    if (!options.model) throw new EmbeddingError(`the endpoint embedder at ${options.baseUrl} needs a model name`);
    this.id = `endpoint/${options.model}`;
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/embeddings`;
    this.batchSize = Math.max(1, Math.floor(options.batchSize ?? 64));
    this.retries = Math.max(0, Math.floor(options.retries ?? 3));
    this.retryBaseMs = options.retryBaseMs ?? 500;
    this.client = new OpenAI({
      apiKey: options.apiKey || 'EMPTY',
      baseURL: options.baseUrl,
      maxRetries: 0,
      timeout: (options.timeoutS ?? 60) * 1000,
    });
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      out.push(...(await this.embedBatch(texts.slice(start, start + this.batchSize))));
    }
    const dim = out[0]?.length;
    if (out.some((v) => v.length !== dim))
      throw this.error(
        `returned vectors of different dimensions (${[...new Set(out.map((v) => v.length))].join(', ')})`,
      );
    return out;
  }

  private async embedBatch(batch: string[]): Promise<Float32Array[]> {
    // Empty inputs are rejected by some servers; embed a single space instead.
    const input = batch.map((t) => (t.length > 0 ? t : ' '));
    return withRetries(
      async () =>
        this.parse(
          await this.client.embeddings.create({ model: this.options.model, input, encoding_format: 'float' }),
          batch.length,
        ),
      {
        retries: this.retries,
        retryable: (error) => !(error instanceof EmbeddingError) && isTransientHttpError(error),
        giveUp: (error, attempts) => (error instanceof EmbeddingError ? error : this.wrap(error, attempts)),
        delayMs: (error, attempt) => retryDelayMs(error, attempt, { baseMs: this.retryBaseMs }),
      },
    );
  }

  private parse(response: OpenAI.CreateEmbeddingResponse, expected: number): Float32Array[] {
    const data = Array.isArray(response?.data) ? response.data : undefined;
    if (!data || data.length !== expected)
      throw this.error(`returned ${data?.length ?? 'no'} embeddings for ${expected} inputs`);
    const vectors: Float32Array[] = new Array(expected);
    data.forEach((item, position) => {
      const index = typeof item.index === 'number' ? item.index : position;
      const embedding = item.embedding as unknown;
      if (index < 0 || index >= expected || vectors[index])
        throw this.error(`returned a bad or repeated index ${index}`);
      if (
        !Array.isArray(embedding) ||
        embedding.length === 0 ||
        !embedding.every((x) => typeof x === 'number' && Number.isFinite(x))
      ) {
        throw this.error(`returned embedding ${index} that is not a non-empty array of finite numbers`);
      }
      vectors[index] = normalized(embedding as number[]);
    });
    return vectors;
  }

  private error(message: string): EmbeddingError {
    return new EmbeddingError(`embedding endpoint ${this.url} (model ${this.options.model}) ${message}`);
  }

  private wrap(error: unknown, attempts: number): EmbeddingError {
    const tries = attempts === 1 ? '1 try' : `${attempts} tries`;
    if (error instanceof OpenAI.APIError && (error.status === 401 || error.status === 403)) {
      return this.error(`refused the API key (HTTP ${error.status}): set the key for this endpoint; ${error.message}`);
    }
    if (error instanceof OpenAI.APIError && error.status === 404) {
      return this.error(
        `answered 404: check that the server serves /v1/embeddings and the model "${this.options.model}" exists; ${error.message}`,
      );
    }
    if (error instanceof OpenAI.APIConnectionError) {
      return this.error(`could not be reached after ${tries}: ${error.message}`);
    }
    const status = error instanceof OpenAI.APIError && error.status ? `HTTP ${error.status}` : 'error';
    return this.error(`failed after ${tries} (${status}): ${error instanceof Error ? error.message : String(error)}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Factory
// ---------------------------------------------------------------------------------------------------

/** `rubric.select.embedder` in the experiment schema. */
export type EmbedderKind = 'lexical' | 'endpoint' | 'onnx';

/** An embedder's kind and, for `endpoint`, the endpoint embedder's options (checked when it is made). */
export interface EmbedderSpec extends Partial<EndpointEmbedderOptions> {
  kind: EmbedderKind;
}

export function makeEmbedder(kind: EmbedderKind, opts: Omit<EmbedderSpec, 'kind'> = {}): Embedder {
  switch (kind) {
    case 'lexical':
      return new LexicalEmbedder();
    case 'endpoint':
      if (!opts.baseUrl || !opts.model) {
        throw new EmbeddingError(
          'rubric.select.embedder: endpoint needs a base URL (ending in /v1) and an embedding model name',
        );
      }
      return new EndpointEmbedder({ ...opts, baseUrl: opts.baseUrl, model: opts.model });
    case 'onnx':
      throw new EmbeddingError(
        "the ONNX embedder is made from the experiment's preprocess encoders (src/rubric/onnx-embedder.ts), not here",
      );
    default:
      throw new EmbeddingError(`unknown embedder "${String(kind)}"; use rubric.select.embedder: lexical or endpoint`);
  }
}

/** The L2-normalised copy of `v` as float32 (norm taken in double); the zero vector stays zero. */
export function normalized(v: ArrayLike<number>): Float32Array {
  let sq = 0;
  for (let i = 0; i < v.length; i++) sq += v[i] * v[i];
  const out = new Float32Array(v.length);
  if (sq === 0) return out;
  const inv = 1 / Math.sqrt(sq);
  for (let i = 0; i < v.length; i++) out[i] = v[i] * inv;
  return out;
}
