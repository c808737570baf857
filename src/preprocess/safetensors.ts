// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header
// length N, N bytes of JSON padded with spaces to a multiple of 8, then the tensors' bytes back to back.
// The header maps each name to {dtype, shape, data_offsets: [begin, end)} relative to the byte buffer,
// plus an optional "__metadata__" of string → string. Tensors are laid out like the reference library
// does: larger element sizes first (so every tensor stays aligned to its element size), then by name.
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { byteLength, checkTensor, DTYPE_SIZE, isDType, type Tensor } from './tensors.js';

export interface SafetensorsEntry {
  dtype: Tensor['dtype'];
  shape: number[];
  data_offsets: [number, number];
}

/** Header JSONs larger than this are refused when reading (the reference library's limit is 100 MB). */
const MAX_HEADER = 100_000_000;

/** Names in the order their bytes are laid out: element size descending, then name (code-unit order). */
export function layoutOrder(tensors: Record<string, Tensor>): string[] {
  return Object.keys(tensors).sort(
    (a, b) => DTYPE_SIZE[tensors[b].dtype] - DTYPE_SIZE[tensors[a].dtype] || (a < b ? -1 : a > b ? 1 : 0),
  );
}

/** The 8-byte length prefix plus the padded JSON header, and the layout order. */
export function encodeHeader(
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
): { header: Buffer; order: string[]; dataLength: number } {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`safetensors metadata values must be strings: ${k} is ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  const order = layoutOrder(tensors);
  let offset = 0;
  for (const name of order) {
    if (name === '__metadata__') throw new Error('a tensor cannot be named __metadata__');
    const t = tensors[name];
    checkTensor(t, `tensor ${name}`);
    const end = offset + t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, end] };
    offset = end;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  const out = Buffer.alloc(8 + padded, 0x20);
  out.writeBigUInt64LE(BigInt(padded), 0);
  json.copy(out, 8);
  return { header: out, order, dataLength: offset };
}

/**
 * The file as a list of buffers: header first, then each tensor's bytes (views of the tensors' own
 * memory, not copies). Concatenated they are the .safetensors file.
 */
export function encodeSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Buffer[] {
  const { header, order } = encodeHeader(tensors, metadata);
  return [header, ...order.map((name) => asBuffer(tensors[name].data))];
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export interface WriteOptions {
  /** fsync the file before the rename (slower; survives a power cut). Default false. */
  fsync?: boolean;
}

/**
 * Writes a .safetensors file atomically: the parts go, one after another through one file handle, to a
 * temporary file in the same folder, which is then renamed over `path`. A failure leaves no file behind.
 */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
  options: WriteOptions = {},
): Promise<void> {
  await writeAtomically(path, encodeSafetensors(tensors, metadata), options);
}

/** Writes buffers in sequence to `<dir>/.<name>.<random>.tmp`, then renames it to `path`. */
export async function writeAtomically(
  path: string,
  parts: readonly Uint8Array[],
  options: WriteOptions = {},
): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx');
  let ok = false;
  try {
    for (const part of parts) {
      let written = 0;
      while (written < part.byteLength) {
        const { bytesWritten } = await handle.write(part, written, part.byteLength - written);
        written += bytesWritten;
      }
    }
    if (options.fsync) await handle.sync();
    ok = true;
  } finally {
    await handle.close().catch(() => {});
    if (!ok) await rm(tmp, { force: true });
  }
  try {
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

export interface SafetensorsFile {
  tensors: Record<string, Tensor>;
  metadata?: Record<string, string>;
  /** Names in the order the header lists them. */
  names: string[];
}

/** Parses a whole .safetensors buffer, checking every offset (in range, matching dtype × shape, no gaps or overlaps). */
export function decodeSafetensors(buf: Uint8Array, what = 'safetensors'): SafetensorsFile {
  const b = asBuffer(buf);
  if (b.length < 8) throw new Error(`${what}: ${b.length} bytes, too short for a header`);
  const n = b.readBigUInt64LE(0);
  if (n > BigInt(Math.min(MAX_HEADER, b.length - 8)))
    throw new Error(`${what}: header length ${n} exceeds the file (${b.length} bytes)`);
  const headerLength = Number(n);
  let header: unknown;
  try {
    header = JSON.parse(b.subarray(8, 8 + headerLength).toString('utf8'));
  } catch (e) {
    throw new Error(`${what}: header is not JSON: ${(e as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw new Error(`${what}: header is not a JSON object`);
  const dataStart = 8 + headerLength;
  const dataLength = b.length - dataStart;
  const tensors: Record<string, Tensor> = {};
  const names: string[] = [];
  let metadata: Record<string, string> | undefined;
  const spans: Array<[number, number, string]> = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (
        typeof value !== 'object' ||
        value === null ||
        Array.isArray(value) ||
        !Object.values(value).every((v) => typeof v === 'string')
      ) {
        throw new Error(`${what}: __metadata__ must map strings to strings`);
      }
      metadata = value as Record<string, string>;
      continue;
    }
    const e = value as Partial<SafetensorsEntry> | null;
    if (!e || typeof e !== 'object') throw new Error(`${what}: entry ${name} is not an object`);
    if (!isDType(e.dtype)) throw new Error(`${what}: ${name} has unsupported dtype ${String(e.dtype)}`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw new Error(`${what}: ${name} has an invalid shape`);
    const off = e.data_offsets;
    if (
      !Array.isArray(off) ||
      off.length !== 2 ||
      !off.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      off[0] > off[1]
    ) {
      throw new Error(`${what}: ${name} has invalid data_offsets ${JSON.stringify(off)}`);
    }
    if (off[1] > dataLength) throw new Error(`${what}: ${name} ends at ${off[1]}, past the data (${dataLength} bytes)`);
    const expected = byteLength(e.dtype, e.shape);
    if (off[1] - off[0] !== expected)
      throw new Error(
        `${what}: ${name} spans ${off[1] - off[0]} bytes, ${e.dtype} [${e.shape.join(', ')}] needs ${expected}`,
      );
    spans.push([off[0], off[1], name]);
    names.push(name);
    tensors[name] = { dtype: e.dtype, shape: e.shape, data: b.subarray(dataStart + off[0], dataStart + off[1]) };
  }
  spans.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let cursor = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== cursor)
      throw new Error(
        `${what}: ${name} starts at ${begin}, expected ${cursor} (${begin < cursor ? 'overlap' : 'gap'})`,
      );
    cursor = end;
  }
  if (cursor !== dataLength) throw new Error(`${what}: tensors cover ${cursor} bytes, the data has ${dataLength}`);
  return { tensors, metadata, names };
}

/** Reads and validates a .safetensors file (whole file into memory; for tests and small files). */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  return decodeSafetensors(await readFile(path), path);
}
