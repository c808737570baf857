// Plain tensors for the embedding files `preprocess` writes: a dtype, a shape and the little-endian bytes,
// with exact float32 → float16 / bfloat16 conversion (round to nearest, ties to even; NaN stays NaN,
// overflow becomes ±Inf, float16 keeps subnormals). The file formats live in safetensors.ts and torch-pt.ts.
import { endianness } from 'node:os';

/** Element types, named as safetensors names them. */
export type DType = 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'U8' | 'BOOL';

export interface Tensor {
  dtype: DType;
  /** Row-major (C-contiguous) shape; [] is a scalar. */
  shape: number[];
  /** numel × itemsize little-endian bytes (may be a view into a larger buffer). */
  data: Uint8Array;
}

export const DTYPE_SIZE: Record<DType, number> = { F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1, BOOL: 1 };
export const DTYPES = Object.keys(DTYPE_SIZE) as DType[];

if (endianness() !== 'LE') throw new Error('src/preprocess/tensors.ts assumes a little-endian host');

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && Object.hasOwn(DTYPE_SIZE, value);
}

/** Number of elements of a shape; throws on a negative or fractional dimension. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0)
      throw new Error(`invalid tensor dimension ${d} in shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

/** Byte length a tensor of this dtype and shape must have. */
export function byteLength(dtype: DType, shape: readonly number[]): number {
  return numel(shape) * DTYPE_SIZE[dtype];
}

/** Builds a tensor after checking that the byte length matches dtype × shape. */
export function makeTensor(dtype: DType, shape: readonly number[], data: Uint8Array): Tensor {
  if (!isDType(dtype)) throw new Error(`unknown dtype ${String(dtype)}`);
  const expected = byteLength(dtype, shape);
  if (data.byteLength !== expected) {
    throw new Error(`${dtype} tensor of shape [${shape.join(', ')}] needs ${expected} bytes, got ${data.byteLength}`);
  }
  return { dtype, shape: [...shape], data };
}

/** Throws unless the tensor's byte length matches its dtype and shape. */
export function checkTensor(t: Tensor, what = 'tensor'): void {
  if (!isDType(t.dtype)) throw new Error(`${what}: unknown dtype ${String(t.dtype)}`);
  const expected = byteLength(t.dtype, t.shape);
  if (t.data.byteLength !== expected) {
    throw new Error(`${what}: ${t.dtype} [${t.shape.join(', ')}] needs ${expected} bytes, has ${t.data.byteLength}`);
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 bit pattern → bfloat16 bit pattern (round to nearest even; NaN → quiet NaN with its sign). */
export function f32BitsToBf16(bits: number): number {
  bits >>>= 0;
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x007fffff) !== 0) return ((bits >>> 16) | 0x0040) & 0xffff;
  // Adding 0x7fff plus the lowest kept bit rounds half to even; a carry into the exponent is right (up to Inf).
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** float32 bit pattern → float16 bit pattern (round to nearest even, subnormals, overflow → ±Inf). */
export function f32BitsToF16(bits: number): number {
  bits >>>= 0;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13); // Inf, or quiet NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // too large: Inf
  if (e <= 0) {
    // Subnormal float16 (or zero): value = m × 2^(e − 25) with the implicit bit made explicit.
    if (e < -10) return sign; // below half the smallest subnormal (2^-25): ±0
    const m = mant | 0x800000;
    const shift = 14 - e; // 14..24
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (h & 1) === 1)) h++; // may carry into the smallest normal: correct
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++; // carry into the exponent is right (up to Inf)
  return sign | h;
}

/** float16 bit pattern → float32 value. */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** bfloat16 bit pattern → float32 value. */
export function bf16BitsToF32(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0];
}

/** float32 value → float16 / bfloat16 bit pattern. */
export function toF16Bits(value: number): number {
  f32[0] = value;
  return f32BitsToF16(u32[0]);
}
export function toBf16Bits(value: number): number {
  f32[0] = value;
  return f32BitsToBf16(u32[0]);
}

function asFloat32(values: Float32Array | ArrayLike<number>): Float32Array {
  return values instanceof Float32Array ? values : Float32Array.from(values);
}

/**
 * A float tensor from float32 values, stored as F32, F16 or BF16. Plain numbers are rounded to float32
 * first. Throws when the value count does not match the shape.
 */
export function fromFloat32(
  values: Float32Array | ArrayLike<number>,
  shape: readonly number[],
  dtype: 'F32' | 'F16' | 'BF16' = 'F32',
): Tensor {
  const src = asFloat32(values);
  const n = numel(shape);
  if (src.length !== n) throw new Error(`${src.length} values do not fill shape [${shape.join(', ')}] (${n} elements)`);
  if (dtype === 'F32') {
    const out = new Uint8Array(n * 4);
    out.set(new Uint8Array(src.buffer, src.byteOffset, n * 4));
    return { dtype, shape: [...shape], data: out };
  }
  if (dtype !== 'F16' && dtype !== 'BF16') throw new Error(`fromFloat32 cannot store ${String(dtype)}`);
  // Read the float32 bits: a Uint32Array view needs 4-byte alignment, which a Float32Array always has.
  const bits = new Uint32Array(src.buffer, src.byteOffset, n);
  const out = new Uint16Array(n);
  if (dtype === 'BF16') {
    for (let i = 0; i < n; i++) {
      const b = bits[i];
      out[i] =
        (b & 0x7fffffff) > 0x7f800000
          ? ((b >>> 16) | 0x0040) & 0xffff
          : ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
    }
  } else {
    for (let i = 0; i < n; i++) out[i] = f32BitsToF16(bits[i]);
  }
  return { dtype, shape: [...shape], data: new Uint8Array(out.buffer) };
}

/** An I64 tensor. Numbers must be safe integers. */
export function fromInt64(values: BigInt64Array | ArrayLike<number | bigint>, shape: readonly number[]): Tensor {
  const n = numel(shape);
  if (values.length !== n)
    throw new Error(`${values.length} values do not fill shape [${shape.join(', ')}] (${n} elements)`);
  const out = new BigInt64Array(n);
  if (values instanceof BigInt64Array) out.set(values);
  else {
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v === 'bigint') out[i] = BigInt.asIntN(64, v);
      else {
        if (!Number.isSafeInteger(v)) throw new Error(`I64 value ${v} at ${i} is not a safe integer`);
        out[i] = BigInt(v);
      }
    }
  }
  return { dtype: 'I64', shape: [...shape], data: new Uint8Array(out.buffer) };
}

/** An I32 tensor. */
export function fromInt32(values: Int32Array | ArrayLike<number>, shape: readonly number[]): Tensor {
  const n = numel(shape);
  if (values.length !== n)
    throw new Error(`${values.length} values do not fill shape [${shape.join(', ')}] (${n} elements)`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff)
      throw new Error(`I32 value ${v} at ${i} is out of range`);
    out[i] = v;
  }
  return { dtype: 'I32', shape: [...shape], data: new Uint8Array(out.buffer) };
}

/** A U8 tensor. */
export function fromUint8(values: ArrayLike<number>, shape: readonly number[]): Tensor {
  const n = numel(shape);
  if (values.length !== n)
    throw new Error(`${values.length} values do not fill shape [${shape.join(', ')}] (${n} elements)`);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < 0 || v > 255) throw new Error(`U8 value ${v} at ${i} is out of range`);
    out[i] = v;
  }
  return { dtype: 'U8', shape: [...shape], data: out };
}

/** A BOOL tensor (one byte each, 0 or 1). */
export function fromBool(values: ArrayLike<boolean | number>, shape: readonly number[]): Tensor {
  const n = numel(shape);
  if (values.length !== n)
    throw new Error(`${values.length} values do not fill shape [${shape.join(', ')}] (${n} elements)`);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = values[i] ? 1 : 0;
  return { dtype: 'BOOL', shape: [...shape], data: out };
}

/** A tensor of one repeated value (e.g. FLUX's zero text_ids). */
export function filled(dtype: DType, shape: readonly number[], value: number): Tensor {
  const n = numel(shape);
  switch (dtype) {
    case 'F32':
    case 'F16':
    case 'BF16':
      return fromFloat32(new Float32Array(n).fill(value), shape, dtype);
    case 'I64':
      return { dtype, shape: [...shape], data: new Uint8Array(new BigInt64Array(n).fill(BigInt(value)).buffer) };
    default: {
      const one = (dtype === 'I32' ? fromInt32 : dtype === 'U8' ? fromUint8 : fromBool)([value], []);
      const out = new Uint8Array(n * one.data.byteLength);
      for (let i = 0; i < out.length; i += one.data.byteLength) out.set(one.data, i);
      return { dtype, shape: [...shape], data: out };
    }
  }
}

/** Copies bytes into a fresh, aligned ArrayBuffer when a typed view of the original would be misaligned. */
function aligned(data: Uint8Array, size: number): ArrayBuffer {
  if (data.byteOffset % size === 0) return data.buffer as ArrayBuffer;
  // A real copy: Buffer#slice (and so .slice() on a Uint8Array that is a Buffer) returns a view.
  const copy = new Uint8Array(data.byteLength);
  copy.set(data);
  return copy.buffer;
}
function viewOffset(data: Uint8Array, size: number): number {
  return data.byteOffset % size === 0 ? data.byteOffset : 0;
}

/** The tensor's values as float32 (I64 through Number, so beyond 2^53 they lose precision). For tests. */
export function toFloat32(t: Tensor): Float32Array {
  checkTensor(t);
  const n = numel(t.shape);
  const size = DTYPE_SIZE[t.dtype];
  const buf = aligned(t.data, size);
  const off = viewOffset(t.data, size);
  switch (t.dtype) {
    case 'F32':
      return new Float32Array(buf.slice(off, off + n * 4));
    case 'F16': {
      const h = new Uint16Array(buf, off, n);
      return Float32Array.from(h, f16BitsToF32);
    }
    case 'BF16': {
      const h = new Uint16Array(buf, off, n);
      const out = new Uint32Array(n);
      for (let i = 0; i < n; i++) out[i] = h[i] << 16;
      return new Float32Array(out.buffer);
    }
    case 'I64':
      return Float32Array.from(new BigInt64Array(buf, off, n), (v) => Number(v));
    case 'I32':
      return Float32Array.from(new Int32Array(buf, off, n));
    case 'U8':
    case 'BOOL':
      return Float32Array.from(t.data);
  }
}

/** I64 values exactly, for tests. */
export function toBigInt64(t: Tensor): BigInt64Array {
  if (t.dtype !== 'I64') throw new Error(`toBigInt64 needs an I64 tensor, got ${t.dtype}`);
  checkTensor(t);
  return new BigInt64Array(aligned(t.data, 8), viewOffset(t.data, 8), numel(t.shape)).slice();
}
