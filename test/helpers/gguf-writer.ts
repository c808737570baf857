// A minimal GGUF (version 3) writer: metadata key/values and F32 tensors, enough to build tiny models
// that llama.cpp loads. Test support, not product code.
import { writeFileSync } from 'node:fs';

/** A metadata value with its GGUF type spelled out, so u32 and i32 (or f32 and f64) never get mixed up. */
export type GgufValue =
  | { type: 'u32'; value: number }
  | { type: 'i32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'u32[]'; value: number[] }
  | { type: 'i32[]'; value: number[] }
  | { type: 'f32[]'; value: number[] }
  | { type: 'string[]'; value: string[] };

export interface GgufTensor {
  name: string;
  /** ggml order: the first dimension is the innermost (contiguous) one. */
  dims: number[];
  data: Float32Array;
}

const TYPE = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9 } as const;
const GGML_F32 = 0;
const ALIGNMENT = 32;

/** Appends little-endian values to a growing list of buffers. */
class Bytes {
  readonly parts: Buffer[] = [];
  length = 0;
  private push(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  i32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.push(b);
  }
  u64(v: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  f32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.push(b);
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }
  raw(b: Buffer): void {
    this.push(b);
  }
  pad(to: number): void {
    const rest = this.length % to;
    if (rest) this.push(Buffer.alloc(to - rest));
  }
}

function writeValue(out: Bytes, v: GgufValue): void {
  const array = (elem: number, n: number) => {
    out.u32(TYPE.array);
    out.u32(elem);
    out.u64(n);
  };
  switch (v.type) {
    case 'u32':
      out.u32(TYPE.u32);
      out.u32(v.value);
      return;
    case 'i32':
      out.u32(TYPE.i32);
      out.i32(v.value);
      return;
    case 'f32':
      out.u32(TYPE.f32);
      out.f32(v.value);
      return;
    case 'bool':
      out.u32(TYPE.bool);
      out.raw(Buffer.from([v.value ? 1 : 0]));
      return;
    case 'string':
      out.u32(TYPE.string);
      out.str(v.value);
      return;
    case 'u32[]':
      array(TYPE.u32, v.value.length);
      for (const x of v.value) out.u32(x);
      return;
    case 'i32[]':
      array(TYPE.i32, v.value.length);
      for (const x of v.value) out.i32(x);
      return;
    case 'f32[]':
      array(TYPE.f32, v.value.length);
      for (const x of v.value) out.f32(x);
      return;
    case 'string[]':
      array(TYPE.string, v.value.length);
      for (const x of v.value) out.str(x);
      return;
  }
}

/** The GGUF file as bytes: header, metadata, tensor infos, then each tensor's data 32-byte aligned. */
export function encodeGguf(metadata: Record<string, GgufValue>, tensors: GgufTensor[]): Buffer {
  const out = new Bytes();
  out.raw(Buffer.from('GGUF', 'ascii'));
  out.u32(3);
  out.u64(tensors.length);
  out.u64(Object.keys(metadata).length);
  for (const [key, value] of Object.entries(metadata)) {
    out.str(key);
    writeValue(out, value);
  }
  let offset = 0;
  for (const t of tensors) {
    const elements = t.dims.reduce((a, b) => a * b, 1);
    if (elements !== t.data.length)
      throw new Error(`tensor ${t.name}: dims ${t.dims.join('x')} hold ${elements} values, data has ${t.data.length}`);
    out.str(t.name);
    out.u32(t.dims.length);
    t.dims.forEach((d) => out.u64(d));
    out.u32(GGML_F32);
    out.u64(offset);
    offset += Math.ceil((elements * 4) / ALIGNMENT) * ALIGNMENT;
  }
  out.pad(ALIGNMENT);
  for (const t of tensors) {
    out.raw(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    out.pad(ALIGNMENT);
  }
  return Buffer.concat(out.parts);
}

export function writeGguf(path: string, metadata: Record<string, GgufValue>, tensors: GgufTensor[]): void {
  writeFileSync(path, encodeGguf(metadata, tensors));
}
