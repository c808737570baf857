// Tiny deterministic ONNX encoders built in Node with onnx-proto, for the preprocess tests and bench.
// Each builder returns the model bytes and its weights, so a test can compute the expected output in
// plain JS. Weights are multiples of 1/1024 in [-1, 1): exact in float32, so sums stay close to the
// float64 reference.
import onnxProto from 'onnx-proto';
import type { onnx as P } from 'onnx-proto';
import { mulberry32 } from '../../src/util/random.js';

const { onnx } = onnxProto;
const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;

type Dim = number | string;
type Elem = 'float32' | 'float16' | 'int64' | 'int32';
const ELEM: Record<Elem, number> = { float32: T.FLOAT, float16: T.FLOAT16, int64: T.INT64, int32: T.INT32 };

function valueInfo(name: string, elem: Elem, dims: Dim[]): P.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[elem],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function floatInit(name: string, dims: number[], data: Float32Array): P.ITensorProto {
  return { name, dims, dataType: T.FLOAT, floatData: Array.from(data) };
}

function int64Init(name: string, values: number[]): P.ITensorProto {
  return { name, dims: [values.length], dataType: T.INT64, int64Data: values };
}

function node(
  opType: string,
  input: string[],
  output: string[],
  attrs: Record<string, number | number[]> = {},
): P.INodeProto {
  const attribute: P.IAttributeProto[] = Object.entries(attrs).map(([name, v]) =>
    Array.isArray(v) ? { name, type: A.INTS, ints: v } : { name, type: A.INT, i: v },
  );
  return { opType, input, output, name: `${opType}_${output[0]}`, attribute };
}

function encodeModel(graph: P.IGraphProto): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'arr-test',
    opsetImport: [{ domain: '', version: 13 }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Deterministic weights: multiples of 1/1024 in [-1, 1). */
export function weights(count: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (Math.floor(rand() * 2048) - 1024) / 1024;
  return out;
}

export interface TextEncoderOptions {
  vocab: number;
  dim: number;
  /** Fixed sequence length of the inputs, or a symbolic name (default `seq`). */
  seqLen?: Dim;
  seed?: number;
  /** Element type of the model's token inputs (default int64). */
  idsDtype?: 'int64' | 'int32';
  /** Adds an `attention_mask` input; the pooled output is then the mean over the unmasked tokens. */
  withMask?: boolean;
  /** Extra `h = tanh(h · W)` layers, [dim, dim] each (default 0), to give the model some work. */
  layers?: number;
  /** Element type of last_hidden_state (default float32; float16 adds a Cast at the end). */
  hiddenDtype?: 'float32' | 'float16';
  names?: { inputIds?: string; attentionMask?: string; hidden?: string; pooled?: string };
}

export interface TextEncoderModel {
  bytes: Uint8Array;
  /** [vocab, dim] row-major. */
  embedding: Float32Array;
  /** One [dim, dim] row-major matrix per extra layer. */
  layerWeights: Float32Array[];
  names: { inputIds: string; attentionMask: string; hidden: string; pooled: string };
}

/**
 * input_ids [batch, seq] → Gather over an embedding table → last_hidden_state [batch, seq, dim];
 * pooler_output [batch, dim] = mean of the hidden states over the sequence (over the masked-in tokens
 * with `withMask`).
 */
export function makeTextEncoder(opts: TextEncoderOptions): TextEncoderModel {
  const names = {
    inputIds: 'input_ids',
    attentionMask: 'attention_mask',
    hidden: 'last_hidden_state',
    pooled: 'pooler_output',
    ...opts.names,
  };
  const seq = opts.seqLen ?? 'seq';
  const seed = opts.seed ?? 1;
  const embedding = weights(opts.vocab * opts.dim, seed);
  const layerWeights = Array.from({ length: opts.layers ?? 0 }, (_, k) => {
    // Scaled by 1/32 so tanh does not saturate.
    const w = weights(opts.dim * opts.dim, seed + 100 + k);
    for (let i = 0; i < w.length; i++) w[i] /= 32;
    return w;
  });
  const nodes: P.INodeProto[] = [node('Gather', ['embedding', names.inputIds], ['h0'], { axis: 0 })];
  const initializer: P.ITensorProto[] = [floatInit('embedding', [opts.vocab, opts.dim], embedding)];
  let h = 'h0';
  layerWeights.forEach((w, k) => {
    initializer.push(floatInit(`w${k}`, [opts.dim, opts.dim], w));
    nodes.push(node('MatMul', [h, `w${k}`], [`m${k}`]), node('Tanh', [`m${k}`], [`h${k + 1}`]));
    h = `h${k + 1}`;
  });
  if (opts.hiddenDtype === 'float16') nodes.push(node('Cast', [h], [names.hidden], { to: T.FLOAT16 }));
  else nodes.push(node('Identity', [h], [names.hidden]));
  const inputs = [valueInfo(names.inputIds, opts.idsDtype ?? 'int64', ['batch', seq])];
  if (opts.withMask) {
    inputs.push(valueInfo(names.attentionMask, opts.idsDtype ?? 'int64', ['batch', seq]));
    initializer.push(int64Init('axis1', [1]), int64Init('axis2', [2]));
    nodes.push(
      node('Cast', [names.attentionMask], ['mask_f'], { to: T.FLOAT }),
      node('Unsqueeze', ['mask_f', 'axis2'], ['mask_3d']),
      node('Mul', [h, 'mask_3d'], ['masked']),
      node('ReduceSum', ['masked', 'axis1'], ['sum'], { keepdims: 0 }),
      node('ReduceSum', ['mask_f', 'axis1'], ['count'], { keepdims: 1 }),
      node('Div', ['sum', 'count'], [names.pooled]),
    );
  } else {
    nodes.push(node('ReduceMean', [h], [names.pooled], { axes: [1], keepdims: 0 }));
  }
  const graph: P.IGraphProto = {
    name: 'text_encoder',
    node: nodes,
    initializer,
    input: inputs,
    output: [
      valueInfo(names.hidden, opts.hiddenDtype ?? 'float32', ['batch', seq, opts.dim]),
      valueInfo(names.pooled, 'float32', ['batch', opts.dim]),
    ],
  };
  return { bytes: encodeModel(graph), embedding, layerWeights, names };
}

export interface ImageEncoderOptions {
  /** Output channels. */
  channels: number;
  /** Conv kernel size = stride (a patchify conv). */
  kernel: number;
  /** Input height and width, fixed numbers or symbolic names (default `height`, `width`). */
  height?: Dim;
  width?: Dim;
  seed?: number;
  /** `nhwc`: the model takes [batch, H, W, 3] and transposes it first. */
  layout?: 'nchw' | 'nhwc';
  /** The model takes [batch, 3, 1, H, W] (a video VAE's input) and squeezes the 1 away. */
  inputTimeAxis?: boolean;
  /** The output is [batch, c, 1, h, w] (like the Qwen-Image VAE latents). */
  outputTimeAxis?: boolean;
  names?: { input?: string; output?: string };
}

export interface ImageEncoderModel {
  bytes: Uint8Array;
  /** [channels, 3, kernel, kernel] row-major. */
  weight: Float32Array;
  /** [channels]. */
  bias: Float32Array;
  names: { input: string; output: string };
}

/** pixel_values [batch, 3, H, W] → Conv(kernel = stride = k) → latents [batch, c, H/k, W/k]. */
export function makeImageEncoder(opts: ImageEncoderOptions): ImageEncoderModel {
  const names = { input: 'pixel_values', output: 'latents', ...opts.names };
  const seed = opts.seed ?? 7;
  const k = opts.kernel;
  const weight = weights(opts.channels * 3 * k * k, seed);
  // Multiples of 1/8: fewer mantissa bits, so the conv's float32 sums stay within 1e-6 of float64.
  for (let i = 0; i < weight.length; i++) weight[i] = Math.round(weight[i] * 8) / 8;
  const bias = weights(opts.channels, seed + 1);
  const H = opts.height ?? 'height';
  const W = opts.width ?? 'width';
  const nodes: P.INodeProto[] = [];
  const initializer: P.ITensorProto[] = [
    floatInit('conv_w', [opts.channels, 3, k, k], weight),
    floatInit('conv_b', [opts.channels], bias),
  ];
  let x = names.input;
  let inputDims: Dim[] = ['batch', 3, H, W];
  if (opts.layout === 'nhwc') {
    nodes.push(node('Transpose', [x], ['x_nchw'], { perm: [0, 3, 1, 2] }));
    x = 'x_nchw';
    inputDims = ['batch', H, W, 3];
  } else if (opts.inputTimeAxis) {
    initializer.push(int64Init('axis2_in', [2]));
    nodes.push(node('Squeeze', [x, 'axis2_in'], ['x_4d']));
    x = 'x_4d';
    inputDims = ['batch', 3, 1, H, W];
  }
  const conv = opts.outputTimeAxis ? 'conv_out' : names.output;
  nodes.push(node('Conv', [x, 'conv_w', 'conv_b'], [conv], { kernel_shape: [k, k], strides: [k, k] }));
  const h: Dim = typeof H === 'number' ? H / k : 'h';
  const w: Dim = typeof W === 'number' ? W / k : 'w';
  let outDims: Dim[] = ['batch', opts.channels, h, w];
  if (opts.outputTimeAxis) {
    initializer.push(int64Init('axis2_out', [2]));
    nodes.push(node('Unsqueeze', [conv, 'axis2_out'], [names.output]));
    outDims = ['batch', opts.channels, 1, h, w];
  }
  const graph: P.IGraphProto = {
    name: 'image_encoder',
    node: nodes,
    initializer,
    input: [valueInfo(names.input, 'float32', inputDims)],
    output: [valueInfo(names.output, 'float32', outDims)],
  };
  return { bytes: encodeModel(graph), weight, bias, names };
}

/** The image encoder's output for NCHW float input [batch, 3, H, W], in float64. */
export function referenceConv(
  model: ImageEncoderModel,
  x: Float32Array,
  batch: number,
  H: number,
  W: number,
  channels: number,
  k: number,
): Float64Array {
  const h = H / k;
  const w = W / k;
  const out = new Float64Array(batch * channels * h * w);
  for (let b = 0; b < batch; b++)
    for (let c = 0; c < channels; c++)
      for (let oy = 0; oy < h; oy++)
        for (let ox = 0; ox < w; ox++) {
          let s = model.bias[c];
          for (let ci = 0; ci < 3; ci++)
            for (let ky = 0; ky < k; ky++)
              for (let kx = 0; kx < k; kx++) {
                s +=
                  model.weight[((c * 3 + ci) * k + ky) * k + kx] *
                  x[((b * 3 + ci) * H + oy * k + ky) * W + ox * k + kx];
              }
          out[((b * channels + c) * h + oy) * w + ox] = s;
        }
  return out;
}
