// Runs one ONNX encoder of `preprocess` (CLIP-L, T5-XXL, the Qwen2.5-VL text-and-image encoder, a VAE
// encoder) with onnxruntime-node: texts are tokenized (./tokenizer.ts), images are read, resized and
// normalised with sharp, a batch goes through one `session.run`, and each item's outputs come back as
// float32 arrays with their shapes, ready to store in the spec's dtype.
//
// Everything that can be checked before the first batch is checked in `open`, with messages that name
// the encoder, the model file, the input or output and what was expected: a missing model, a model ORT
// cannot load, input and output names, input element types and fixed dimensions (from ORT's
// inputMetadata), and spec fields that do not fit together (an input_ids input without a tokenizer).
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { EncoderSpec } from '../types/encoder-spec.js';
import { applyTemplate, normalizeChannels, readLatentStats, type ChannelStats } from './pipeline-steps.js';
import { loadTokenizer, type EncodedBatch, type TextTokenizer } from './tokenizer.js';
import { ArrError } from '../util/errors.js';

export type { EncoderSpec };
export type EncoderImageSpec = NonNullable<EncoderSpec['image']>;
export type StoredDtype = 'float32' | 'float16' | 'bfloat16';

/** One item of a batch: its text (for a tokenizer) and/or its image (a local path, for `image`). */
export interface EncoderInput {
  text?: string;
  image?: string | { kind: 'file'; path: string };
}

export interface EncodedTensor {
  /** The storage type: the spec's output dtype; `int64` for the attention mask. */
  dtype: StoredDtype | 'int64';
  shape: number[];
  /** Row-major values; for a float32 model output without pad_to, a view into the batch's output. */
  data: Float32Array;
}

export interface EncodedItem {
  /** Keyed by `save_as`: the spec's outputs, the mask (`save_mask_as`) and the constants. */
  tensors: Record<string, EncodedTensor>;
  /**
   * The item's unpadded sequence length (the reference's `original_length`): the valid positions of
   * the first `pad_to` output, else the token count; null for an encoder without a tokenizer.
   */
  originalLength: number | null;
}

export interface EncoderOpenOptions {
  /** Folder the spec's model and tokenizer paths are relative to (`preprocess.models`). */
  modelsDir: string;
  /** ORT intra-op threads (default: os.availableParallelism()). */
  threads?: number;
}

/** An encoder problem: bad spec, model or input. The message names the encoder and the file. */
export class EncoderError extends ArrError {
  constructor(
    readonly encoder: string,
    message: string,
  ) {
    super(`encoder "${encoder}": ${message}`);
    this.name = 'EncoderError';
  }
}

type Meta = ort.InferenceSession.ValueMetadata;

interface PreparedBatch {
  n: number;
  feeds: Record<string, ort.Tensor>;
  tokens: EncodedBatch | undefined;
}
type Dims = readonly (number | string)[];

const fmtDims = (dims: Dims) => `[${dims.join(', ')}]`;
const fmtMeta = (m: Meta) => (m.isTensor ? `${m.name} ${m.type} ${fmtDims(m.shape)}` : `${m.name} (not a tensor)`);
const expects = (m: Meta) => (m.isTensor ? `${m.type} ${fmtDims(m.shape)}` : 'a non-tensor value');
const prod = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** Output element types this runner turns into float32. */
const READABLE = new Set([
  'float32',
  'float16',
  'float64',
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'bool',
]);

export class EncoderRunner {
  private constructor(
    readonly spec: EncoderSpec,
    /** The model path as opened (`<modelsDir>/<spec.model>`). */
    readonly modelPath: string,
    private readonly session: ort.InferenceSession,
    readonly tokenizer: TextTokenizer | undefined,
    private readonly inputMeta: Map<string, Meta>,
    private readonly outputMeta: Map<string, Meta>,
    /** Per-channel statistics of outputs with `normalize`, by output name. */
    private readonly norms: Map<string, ChannelStats>,
  ) {}

  /** Loads the model (one ORT session per spec) and tokenizer, and checks the spec against the model. */
  static async open(spec: EncoderSpec, opts: EncoderOpenOptions): Promise<EncoderRunner> {
    const fail = (message: string): never => {
      throw new EncoderError(spec.name, message);
    };
    const modelFile = spec.model;
    checkSpecShape(spec, fail);

    const modelPath = join(opts.modelsDir, spec.model);
    try {
      const s = await stat(modelPath);
      if (!s.isFile()) fail(`${modelPath} is not a file`);
    } catch (err) {
      if (err instanceof EncoderError) throw err;
      const e = err as NodeJS.ErrnoException;
      fail(
        e.code === 'ENOENT' || e.code === 'ENOTDIR'
          ? `${modelPath} not found`
          : `cannot read ${modelPath}: ${e.message}`,
      );
    }

    let tokenizer: TextTokenizer | undefined;
    if (spec.tokenizer) {
      try {
        tokenizer = await loadTokenizer(join(opts.modelsDir, spec.tokenizer.file));
      } catch (err) {
        fail((err as Error).message);
      }
    }

    const norms = new Map<string, ChannelStats>();
    for (const output of spec.outputs) {
      const n = output.normalize;
      if (!n) continue;
      try {
        norms.set(
          output.name,
          n.config ? readLatentStats(join(opts.modelsDir, n.config)) : { mean: n.mean!, std: n.std! },
        );
      } catch (err) {
        fail(`output "${output.name}" normalize: ${(err as Error).message}`);
      }
    }

    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelPath, {
        intraOpNumThreads: Math.max(1, opts.threads ?? availableParallelism()),
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        // Errors come back as exceptions and are reported with the encoder's name; ORT's own log of them is noise.
        logSeverityLevel: 4,
      });
    } catch (err) {
      // ORT says "Load model from <path> failed:<reason>"; the path is already in our message.
      const reason = (err as Error).message.replace(`Load model from ${modelPath} failed:`, '').trim();
      return fail(`cannot load model ${modelPath}: ${reason}`);
    }

    try {
      const inputMeta = new Map(session.inputMetadata.map((m) => [m.name, m] as const));
      const outputMeta = new Map(session.outputMetadata.map((m) => [m.name, m] as const));
      const listInputs = () => session.inputMetadata.map(fmtMeta).join(', ');
      const listOutputs = () => session.outputMetadata.map(fmtMeta).join(', ');

      for (const input of spec.inputs) {
        const m = inputMeta.get(input.name);
        if (!m) fail(`model ${modelFile} has no input "${input.name}"; its inputs: ${listInputs()}`);
        else if (!m.isTensor || m.type !== input.dtype)
          fail(`model ${modelFile} input "${input.name}" expects ${expects(m)} but the spec feeds ${input.dtype}`);
      }
      for (const m of session.inputMetadata) {
        if (!spec.inputs.some((i) => i.name === m.name))
          fail(`model ${modelFile} input "${m.name}" (${expects(m)}) is not fed: add it to the spec's inputs`);
      }
      for (const output of spec.outputs) {
        const m = outputMeta.get(output.name);
        if (!m) fail(`model ${modelFile} has no output "${output.name}"; its outputs: ${listOutputs()}`);
        else if (!m.isTensor || !READABLE.has(m.type))
          fail(
            `model ${modelFile} output "${output.name}" is ${expects(m)}, which cannot be stored as ${output.dtype}`,
          );
      }
      // Fixed dimensions the spec can be checked against before any data is read.
      for (const input of spec.inputs) {
        const m = inputMeta.get(input.name)! as ort.InferenceSession.TensorValueMetadata;
        const planned = plannedDims(spec, input.source);
        const fed = planned && fitRank(planned, m.shape);
        if (fed && !dimsMatch(fed, m.shape)) {
          fail(
            `model ${modelFile} input "${input.name}" expects ${expects(m)} but the spec feeds ${input.dtype} ${fmtDims(planned)}${dimsHint(spec, input.source)}`,
          );
        }
      }
      return new EncoderRunner(spec, modelPath, session, tokenizer, inputMeta, outputMeta, norms);
    } catch (err) {
      await session.release().catch(() => undefined);
      throw err;
    }
  }

  /** ORT's description of the model's inputs, e.g. for a report. */
  get modelInputs(): Meta[] {
    return [...this.inputMeta.values()];
  }

  get modelOutputs(): Meta[] {
    return [...this.outputMeta.values()];
  }

  /** Encodes a batch with one `session.run`; returns one entry per item, in order. */
  async run(items: EncoderInput[]): Promise<EncodedItem[]> {
    if (items.length === 0) return [];
    const batch = await this.prepare(items);
    return this.collect(batch, await this.execute(batch));
  }

  /**
   * Encodes batches in order with a one-batch pipeline: while ORT runs batch k (on its own threads),
   * batch k+1 is tokenized and its images read, and batch k-1's outputs are converted. Same results
   * as calling `run` on each batch; stops at the first error.
   */
  async *runBatches(batches: Iterable<EncoderInput[]> | AsyncIterable<EncoderInput[]>): AsyncGenerator<EncodedItem[]> {
    const source =
      Symbol.asyncIterator in batches
        ? batches[Symbol.asyncIterator]()
        : (batches as Iterable<EncoderInput[]>)[Symbol.iterator]();
    type Slot = { batch?: PreparedBatch; running?: Promise<ort.InferenceSession.ReturnType> };
    let pending: Slot | undefined;
    for (;;) {
      const r = await source.next();
      let next: Slot | undefined;
      let failure: unknown;
      if (!r.done) {
        try {
          next = { batch: r.value.length > 0 ? await this.prepare(r.value) : undefined };
        } catch (err) {
          failure = err; // reported after the batch in flight is handed out
        }
      }
      const results = pending?.running ? await pending.running : undefined;
      if (next?.batch) {
        const running = this.execute(next.batch);
        running.catch(() => undefined); // awaited on the next turn; this only keeps a failure from counting as unhandled meanwhile
        next.running = running;
      }
      if (pending) yield pending.batch ? this.collect(pending.batch, results!) : [];
      if (failure !== undefined) throw failure;
      if (!next) return;
      pending = next;
    }
  }

  /** Tokenizes, reads images and builds the feeds of a batch; checks their shapes against the model. */
  private async prepare(items: EncoderInput[]): Promise<PreparedBatch> {
    const spec = this.spec;
    const fail = (message: string): never => {
      throw new EncoderError(spec.name, message);
    };
    const n = items.length;

    let tokens: EncodedBatch | undefined;
    if (this.tokenizer && spec.tokenizer) {
      const template = spec.tokenizer.template;
      const texts = items.map((item, i) =>
        typeof item.text === 'string'
          ? applyTemplate(item.text, template)
          : fail(`item ${i} of the batch has no text, and the model reads tokens`),
      );
      tokens = this.tokenizer.encode(texts, {
        maxLength: spec.tokenizer.max_length,
        padding: spec.tokenizer.padding ?? 'max_length',
        truncation: true,
        padId: spec.tokenizer.pad_id,
        dtype: 'int64',
      });
    }
    let pixels: { data: Float32Array; shape: number[] } | undefined;
    if (spec.image) {
      const paths = items.map((item, i) => {
        const ref = item.image;
        if (ref === undefined) return fail(`item ${i} of the batch has no image, and the model reads pixel_values`);
        return typeof ref === 'string' ? ref : ref.path;
      });
      try {
        pixels = await preprocessImages(paths, spec.image);
      } catch (err) {
        fail((err as Error).message);
      }
    }

    const feeds: Record<string, ort.Tensor> = {};
    for (const input of spec.inputs) {
      const m = this.inputMeta.get(input.name)! as ort.InferenceSession.TensorValueMetadata;
      let data: BigInt64Array | Int32Array | Float32Array;
      let dims: number[];
      if (input.source === 'pixel_values') {
        data = convertArray(pixels!.data, input.dtype);
        dims = pixels!.shape;
      } else {
        data = convertArray(input.source === 'input_ids' ? tokens!.inputIds : tokens!.attentionMask, input.dtype);
        dims = tokens!.shape;
      }
      const fed = fitRank(dims, m.shape);
      if (!fed || !dimsMatch(fed, m.shape)) {
        const batchOnly =
          dims.length === m.shape.length &&
          typeof m.shape[0] === 'number' &&
          dims.slice(1).every((d, k) => dimOk(d, m.shape[k + 1]));
        const hint = batchOnly
          ? ` (a batch of ${n}; the model takes ${m.shape[0]} at a time: set the batch size to ${m.shape[0]})`
          : dimsHint(spec, input.source);
        fail(
          `model ${spec.model} input "${input.name}" expects ${expects(m)} but the spec feeds ${input.dtype} ${fmtDims(dims)}${hint}`,
        );
      }
      feeds[input.name] = new ort.Tensor(input.dtype, data, fed!);
    }
    return { n, feeds, tokens };
  }

  private async execute(batch: PreparedBatch): Promise<ort.InferenceSession.ReturnType> {
    try {
      return await this.session.run(
        batch.feeds,
        this.spec.outputs.map((o) => o.name),
        { logSeverityLevel: 4 },
      );
    } catch (err) {
      throw new EncoderError(
        this.spec.name,
        `model ${this.spec.model} failed on a batch of ${batch.n}: ${(err as Error).message}`,
      );
    }
  }

  /** Each item's outputs, as float32, with pad_to, the mask and the constants applied. */
  private collect(batch: PreparedBatch, results: ort.InferenceSession.ReturnType): EncodedItem[] {
    const spec = this.spec;
    const fail = (message: string): never => {
      throw new EncoderError(spec.name, message);
    };
    const { n, tokens } = batch;

    const out: EncodedItem[] = Array.from({ length: n }, () => ({ tensors: {}, originalLength: tokens ? 0 : null }));
    let lengthSet = false;
    for (const output of spec.outputs) {
      const t = results[output.name] as ort.Tensor;
      const dims = t.dims as readonly number[];
      if (dims.length === 0 || dims[0] !== n)
        fail(`model ${spec.model} output "${output.name}" has shape ${fmtDims(dims)}, expected the batch (${n}) first`);
      const inner = dims.slice(1);
      const rowSize = prod(inner);
      const padTo = output.pad_to ?? null;
      const drop = output.drop_prefix ?? 0;
      const squeeze = output.squeeze_batch ?? true;
      const norm = this.norms.get(output.name);
      for (let i = 0; i < n; i++) {
        // float32 without pad_to: a view into the batch's output (no copy); anything else: a new array.
        let data =
          t.type === 'float32' && padTo === null
            ? (t.data as Float32Array).subarray(i * rowSize, (i + 1) * rowSize)
            : toFloat32(t, i * rowSize, (i + 1) * rowSize);
        let shape = inner;
        if (padTo !== null) {
          if (inner.length === 0) fail(`output "${output.name}" has no sequence dimension to pad to ${padTo}`);
          const seq = inner[0];
          // Under batch padding the rows after the item's own tokens are padding: cut them, then zero-pad.
          const valid = tokens && seq === tokens.shape[1] ? tokens.lengths[i] : seq;
          // The pipeline drops the template's prefix from each item's valid rows (before padding).
          if (drop >= valid)
            fail(
              `output "${output.name}" of item ${i} has ${valid} positions, not more than drop_prefix ${drop}: is the template applied?`,
            );
          const kept = valid - drop;
          if (kept > padTo)
            fail(
              `output "${output.name}" of item ${i} has ${kept} positions${drop ? ` after dropping ${drop}` : ''}, more than pad_to ${padTo}`,
            );
          const step = rowSize / (seq || 1);
          const padded = new Float32Array(padTo * step);
          padded.set(data.subarray(drop * step, valid * step));
          data = padded;
          shape = [padTo, ...inner.slice(1)];
          if (!lengthSet) out[i].originalLength = kept;
        }
        if (norm) {
          if (data === (t.data as Float32Array) || data.buffer === (t.data as Float32Array).buffer) data = data.slice();
          try {
            normalizeChannels(data, shape, norm);
          } catch (err) {
            fail(`output "${output.name}": ${(err as Error).message}`);
          }
        }
        out[i].tensors[output.save_as] = { dtype: output.dtype, shape: squeeze ? [...shape] : [1, ...shape], data };
      }
      if (padTo !== null) lengthSet = true;
    }
    if (tokens && !lengthSet) for (let i = 0; i < n; i++) out[i].originalLength = tokens.lengths[i];

    if (spec.save_mask_as && tokens) {
      const padOut = spec.outputs.find((o) => (o.pad_to ?? null) !== null);
      const len = padOut ? padOut.pad_to! : tokens.shape[1];
      const squeeze = (padOut ?? spec.outputs[0]).squeeze_batch ?? true;
      for (let i = 0; i < n; i++) {
        const mask = new Float32Array(len);
        mask.fill(1, 0, Math.min(len, out[i].originalLength ?? 0));
        out[i].tensors[spec.save_mask_as] = { dtype: 'int64', shape: squeeze ? [len] : [1, len], data: mask };
      }
    }
    for (const c of spec.constants ?? []) {
      for (let i = 0; i < n; i++) {
        out[i].tensors[c.save_as] = {
          dtype: c.dtype,
          shape: [...c.shape],
          data: new Float32Array(prod(c.shape)).fill(c.fill ?? 0),
        };
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** Spec fields that must agree with each other, checked before any file is read. */
function checkSpecShape(spec: EncoderSpec, fail: (message: string) => never): void {
  const names = new Set<string>();
  for (const input of spec.inputs) {
    if ((input.source === 'input_ids' || input.source === 'attention_mask') && !spec.tokenizer)
      fail(`input "${input.name}" is fed from ${input.source}, but the spec has no tokenizer`);
    if (input.source === 'pixel_values' && !spec.image)
      fail(`input "${input.name}" is fed from pixel_values, but the spec has no image section`);
    if (input.source !== 'pixel_values' && input.dtype === 'float32')
      fail(`input "${input.name}" is fed from ${input.source} (token ids), which cannot be float32`);
    if (input.source === 'pixel_values' && input.dtype !== 'float32')
      fail(`input "${input.name}" is fed from pixel_values, which are float32, not ${input.dtype}`);
    if (names.has(input.name)) fail(`input "${input.name}" is listed twice`);
    names.add(input.name);
  }
  if (spec.save_mask_as && !spec.tokenizer) fail(`save_mask_as "${spec.save_mask_as}" needs a tokenizer`);
  for (const output of spec.outputs) {
    if ((output.drop_prefix ?? 0) > 0 && (output.pad_to ?? null) === null)
      fail(`output "${output.name}" has drop_prefix but no pad_to`);
    const n = output.normalize;
    if (n && !n.config && !(n.mean && n.std && n.mean.length === n.std.length && n.mean.length > 0))
      fail(`output "${output.name}" normalize needs config, or mean and std of the same length`);
  }
  const template = spec.tokenizer?.template;
  if (template) {
    if (!template.text.includes('{prompt}')) fail('tokenizer.template.text has no {prompt}');
    if ((template.image_tokens ?? 0) > 0 && !template.image_token)
      fail('tokenizer.template.image_tokens needs image_token');
    if ((template.image_tokens ?? 0) > 0 && !template.text.includes('{image}'))
      fail('tokenizer.template has image_tokens but its text has no {image}');
  }
  const saved = new Set<string>();
  for (const name of [
    ...spec.outputs.map((o) => o.save_as),
    ...(spec.save_mask_as ? [spec.save_mask_as] : []),
    ...(spec.constants ?? []).map((c) => c.save_as),
  ]) {
    if (saved.has(name)) fail(`save_as "${name}" is used twice`);
    saved.add(name);
  }
  if (spec.image) {
    const { size, mean, std } = spec.image;
    if (size.length !== 2 || mean.length !== 3 || std.length !== 3)
      fail('image needs size [width, height], mean [r, g, b] and std [r, g, b]');
    if (std.some((s) => s === 0)) fail('image.std has a zero');
  }
}

/** The shape the spec will feed an input (`batch` symbolic), or undefined when it varies per batch. */
function plannedDims(
  spec: EncoderSpec,
  source: EncoderSpec['inputs'][number]['source'],
): (number | string)[] | undefined {
  if (source === 'pixel_values') {
    const [w, h] = spec.image!.size;
    return (spec.image!.layout ?? 'nchw') === 'nhwc' ? ['batch', h, w, 3] : ['batch', 3, h, w];
  }
  const t = spec.tokenizer!;
  return (t.padding ?? 'max_length') === 'max_length' ? ['batch', t.max_length] : ['batch', 'longest'];
}

function dimsHint(spec: EncoderSpec, source: string): string {
  if (source === 'pixel_values')
    return ` (image.size ${fmtDims(spec.image!.size)}, layout ${spec.image!.layout ?? 'nchw'})`;
  return ` (tokenizer.max_length ${spec.tokenizer!.max_length}, padding ${spec.tokenizer!.padding ?? 'max_length'})`;
}

/**
 * The fed dims made to the model's rank by inserting size-1 dimensions where the model has a fixed 1
 * (e.g. [B, 3, H, W] for a video VAE's [B, 3, 1, H, W]); the data is unchanged. Undefined when no
 * such insertion makes the dims match.
 */
function fitRank<D extends number | string>(fed: readonly D[], model: Dims): D[] | undefined {
  if (fed.length > model.length) return undefined;
  const fit = (f: number, m: number): D[] | undefined => {
    if (m === model.length) return f === fed.length ? [] : undefined;
    if (f < fed.length && dimOk(fed[f], model[m])) {
      const rest = fit(f + 1, m + 1);
      if (rest) return [fed[f], ...rest];
    }
    if (model[m] === 1 && model.length - m > fed.length - f) {
      const rest = fit(f, m + 1);
      if (rest) return [1 as D, ...rest];
    }
    return undefined;
  };
  return fit(0, 0) ?? (fed.length === model.length ? [...fed] : undefined);
}

/** A fed dim fits a model dim: the model's is symbolic, or they are equal; `batch` (at open) fits any. */
const dimOk = (fed: number | string, model: number | string) =>
  typeof model !== 'number' || model < 0 || fed === 'batch' || fed === model;
const dimsMatch = (fed: readonly (number | string)[], model: Dims) =>
  fed.length === model.length && fed.every((d, i) => dimOk(d, model[i]));

/** Ids/mask/pixels in the element type the model takes. */
function convertArray(
  src: BigInt64Array | Int32Array | Float32Array,
  dtype: 'int64' | 'int32' | 'float32',
): BigInt64Array | Int32Array | Float32Array {
  if (dtype === 'int64') {
    if (src instanceof BigInt64Array) return src;
    const out = new BigInt64Array(src.length);
    for (let i = 0; i < src.length; i++) out[i] = BigInt(Math.trunc(src[i] as number));
    return out;
  }
  const out =
    dtype === 'int32'
      ? src instanceof Int32Array
        ? src
        : new Int32Array(src.length)
      : src instanceof Float32Array
        ? src
        : new Float32Array(src.length);
  if (out === src) return out;
  for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
  return out;
}

let halfTable: Float32Array | undefined;
/** float16 bit patterns → float32, all 65536 of them. */
function halfToFloat(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * frac * 2 ** -24;
    else if (exp === 31) t[h] = frac ? NaN : sign * Infinity;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return (halfTable = t);
}

/** Elements [from, to) of an ORT tensor as a new Float32Array. */
export function toFloat32(t: ort.Tensor, from = 0, to = t.size): Float32Array {
  const data = t.data as ArrayLike<number | bigint> & { subarray?: unknown };
  if (t.type === 'float32') return (t.data as Float32Array).slice(from, to);
  const out = new Float32Array(to - from);
  if (t.type === 'float16' && data instanceof Uint16Array) {
    const table = halfToFloat();
    for (let i = from; i < to; i++) out[i - from] = table[data[i]];
    return out;
  }
  for (let i = from; i < to; i++) out[i - from] = Number(data[i]);
  return out;
}

/**
 * Reads images with sharp, fitted to image.size ([width, height]) by `resize` (sharp's fit; letterbox
 * black for contain), as RGB (alpha dropped, greyscale expanded), then `(v / scale - mean[c]) / std[c]`
 * in one float32 batch tensor, NCHW or NHWC.
 */
export async function preprocessImages(
  paths: string[],
  image: EncoderImageSpec,
  concurrency = 4,
): Promise<{ data: Float32Array; shape: number[] }> {
  const [W, H] = image.size;
  const layout = image.layout ?? 'nchw';
  const scale = image.scale ?? 255;
  const plane = W * H;
  const out = new Float32Array(paths.length * 3 * plane);
  let next = 0;
  const worker = async () => {
    for (let b = next++; b < paths.length; b = next++) {
      let raw: Buffer;
      try {
        const { data, info } = await sharp(paths[b])
          .removeAlpha()
          .toColourspace('srgb')
          .resize(W, H, { fit: image.resize ?? 'fill', background: { r: 0, g: 0, b: 0 } })
          .raw()
          .toBuffer({ resolveWithObject: true });
        if (info.channels !== 3 || info.width !== W || info.height !== H)
          throw new Error(`decoded to ${info.width}×${info.height}×${info.channels}, expected ${W}×${H}×3`);
        raw = data;
      } catch (err) {
        throw new Error(`cannot read image ${paths[b]}: ${(err as Error).message}`);
      }
      const base = b * 3 * plane;
      for (let c = 0; c < 3; c++) {
        const mean = image.mean[c];
        const std = image.std[c];
        if (layout === 'nchw') {
          const o = base + c * plane;
          for (let p = 0; p < plane; p++) out[o + p] = (raw[p * 3 + c] / scale - mean) / std;
        } else {
          for (let p = 0; p < plane; p++) out[base + p * 3 + c] = (raw[p * 3 + c] / scale - mean) / std;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, paths.length)) }, worker));
  return { data: out, shape: layout === 'nchw' ? [paths.length, 3, H, W] : [paths.length, H, W, 3] };
}
