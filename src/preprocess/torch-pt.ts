// What `torch.save(t, path)` writes for one contiguous CPU tensor, so the reference trainers can
// `torch.load` our embeddings (torch ≥ 1.6's zip format; checked against Debian's torch 1.13).
//
// The file is a zip of STORED entries under one top-level folder (torch names it after the file's stem):
//   <archive>/data.pkl   pickle (protocol 2) of torch._utils._rebuild_tensor_v2(
//                           persistent_id(('storage', torch.<X>Storage, '0', 'cpu', numel)),
//                           0, size, stride, False, collections.OrderedDict())
//   <archive>/byteorder  "little" (torch ≥ 2.0 writes it; older versions ignore it)
//   <archive>/data/0     the raw little-endian storage bytes
//   <archive>/version    "3\n"
// Like torch (caffe2/serialize/inline_container.cc), every entry's payload starts on a 64-byte boundary,
// padded with an extra field "FB" + u16 length + 'Z' bytes in the local header, so torch can mmap it.
// data.pkl is byte for byte what torch's pickler produces (memo puts included).
import * as zlib from 'node:zlib';
import { basename, extname } from 'node:path';
import { writeAtomically, type WriteOptions } from './safetensors.js';
import { checkTensor, numel, type DType, type Tensor } from './tensors.js';

export const STORAGE_CLASS: Record<DType, string> = {
  F32: 'FloatStorage',
  F16: 'HalfStorage',
  BF16: 'BFloat16Storage',
  I64: 'LongStorage',
  I32: 'IntStorage',
  U8: 'ByteStorage',
  BOOL: 'BoolStorage',
};

// ---------------------------------------------------------------------------------------------------
// CRC-32 (IEEE, reflected polynomial 0xEDB88320). zlib.crc32 only exists from Node 20.15 / 22.2, so this
// is table driven, 8 bytes per step ("slicing by 8", ~650 MB/s); where the runtime has zlib.crc32 (native,
// ~4 GB/s) that is used instead. Both give the same values (test/preprocess/tensors.test.ts).

const CRC_TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n];
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/** Pure-JS CRC-32 of `data`, continuing from `crc` (the CRC of the bytes before; 0 to start). */
export function crc32Js(data: Uint8Array, crc = 0): number {
  const t = CRC_TABLES;
  let c = ~crc;
  let i = 0;
  const n = data.length;
  const end8 = n - (n % 8);
  for (; i < end8; i += 8) {
    const lo = (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)) ^ c;
    c =
      t[1792 + (lo & 0xff)] ^
      t[1536 + ((lo >>> 8) & 0xff)] ^
      t[1280 + ((lo >>> 16) & 0xff)] ^
      t[1024 + (lo >>> 24)] ^
      t[768 + data[i + 4]] ^
      t[512 + data[i + 5]] ^
      t[256 + data[i + 6]] ^
      t[data[i + 7]];
  }
  for (; i < n; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const nativeCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 of `data`, continuing from `crc`. */
export function crc32(data: Uint8Array, crc = 0): number {
  return nativeCrc32 ? nativeCrc32(data, crc) >>> 0 : crc32Js(data, crc);
}

// ---------------------------------------------------------------------------------------------------
// The pickle.

class PickleWriter {
  private parts: number[] = [];
  private memo = 0;
  byte(...b: number[]) {
    this.parts.push(...b);
  }
  bytes(b: Uint8Array) {
    for (const x of b) this.parts.push(x);
  }
  u32(n: number) {
    this.byte(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }
  /** BINPUT n, as Python's pickler memoizes every string, global and non-empty tuple. */
  put() {
    const i = this.memo++;
    if (i < 256)
      this.byte(0x71, i); // BINPUT
    else {
      this.byte(0x72); // LONG_BINPUT
      this.u32(i);
    }
  }
  global(module: string, name: string) {
    this.byte(0x63); // GLOBAL
    this.bytes(Buffer.from(`${module}\n${name}\n`, 'ascii'));
    this.put();
  }
  str(s: string) {
    const b = Buffer.from(s, 'utf8');
    this.byte(0x58); // BINUNICODE
    this.u32(b.length);
    this.bytes(b);
    this.put();
  }
  int(n: number) {
    if (!Number.isSafeInteger(n)) throw new Error(`cannot pickle ${n}`);
    if (n >= 0 && n <= 0xff)
      this.byte(0x4b, n); // BININT1
    else if (n >= 0 && n <= 0xffff)
      this.byte(0x4d, n & 0xff, n >>> 8); // BININT2
    else if (n >= -0x80000000 && n <= 0x7fffffff) {
      this.byte(0x4a); // BININT
      this.u32(n);
    } else {
      // LONG1: length byte, then the minimal little-endian two's complement bytes.
      let v = BigInt(n);
      const out: number[] = [];
      for (;;) {
        const b = Number(v & 0xffn);
        out.push(b);
        v >>= 8n;
        if ((v === 0n && (b & 0x80) === 0) || (v === -1n && (b & 0x80) !== 0)) break;
      }
      this.byte(0x8a, out.length, ...out);
    }
  }
  /** A tuple of small ints, as Python pickles tuple(size) / stride(). */
  intTuple(values: number[]) {
    if (values.length === 0) {
      this.byte(0x29); // EMPTY_TUPLE (never memoized)
      return;
    }
    if (values.length > 3) this.byte(0x28); // MARK
    for (const v of values) this.int(v);
    this.byte(values.length === 1 ? 0x85 : values.length === 2 ? 0x86 : values.length === 3 ? 0x87 : 0x74); // TUPLE1/2/3 or TUPLE
    this.put();
  }
  finish(): Buffer {
    return Buffer.from(this.parts);
  }
}

/** Row-major strides of a contiguous tensor (in elements), as torch reports them. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= Math.max(shape[i], 1);
  }
  return strides;
}

/** The data.pkl torch.save writes for one contiguous CPU tensor whose storage is record "0". */
export function tensorPickle(dtype: DType, shape: readonly number[]): Buffer {
  const p = new PickleWriter();
  p.byte(0x80, 2); // PROTO 2
  p.global('torch._utils', '_rebuild_tensor_v2');
  p.byte(0x28); // MARK (arguments)
  p.byte(0x28); // MARK (persistent id tuple)
  p.str('storage');
  p.global('torch', STORAGE_CLASS[dtype]);
  p.str('0');
  p.str('cpu');
  p.int(numel(shape));
  p.byte(0x74); // TUPLE
  p.put();
  p.byte(0x51); // BINPERSID
  p.int(0); // storage offset
  p.intTuple([...shape]);
  p.intTuple(contiguousStrides(shape));
  p.byte(0x89); // NEWFALSE: requires_grad
  p.global('collections', 'OrderedDict');
  p.byte(0x29, 0x52); // EMPTY_TUPLE, REDUCE: backward hooks
  p.put();
  p.byte(0x74); // TUPLE (arguments)
  p.put();
  p.byte(0x52); // REDUCE
  p.put();
  p.byte(0x2e); // STOP
  return p.finish();
}

// ---------------------------------------------------------------------------------------------------
// The zip.

const ALIGNMENT = 64;
const LOCAL_HEADER = 30;
const CENTRAL_HEADER = 46;
const EOCD = 22;
const VERSION_NEEDED = 20; // 2.0: stored entries, no zip64
const FLAG_UTF8 = 0x0800;
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01: fixed, so the output is deterministic

interface Entry {
  name: Buffer;
  data: Uint8Array;
  crc: number;
  offset: number;
}

/** The local header for an entry at `offset`, with torch's "FB" padding extra field so the payload is 64-byte aligned. */
function localHeader(e: Entry): Buffer {
  const start = e.offset + LOCAL_HEADER + e.name.length + 4;
  const padding = (ALIGNMENT - (start % ALIGNMENT)) % ALIGNMENT;
  const extraLength = padding + 4;
  const h = Buffer.alloc(LOCAL_HEADER + e.name.length + extraLength, 0x5a); // 'Z' fills the padding
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(VERSION_NEEDED, 4);
  h.writeUInt16LE(FLAG_UTF8, 6);
  h.writeUInt16LE(0, 8); // STORED
  h.writeUInt16LE(DOS_TIME, 10);
  h.writeUInt16LE(DOS_DATE, 12);
  h.writeUInt32LE(e.crc, 14);
  h.writeUInt32LE(e.data.byteLength, 18);
  h.writeUInt32LE(e.data.byteLength, 22);
  h.writeUInt16LE(e.name.length, 26);
  h.writeUInt16LE(extraLength, 28);
  e.name.copy(h, LOCAL_HEADER);
  const x = LOCAL_HEADER + e.name.length;
  h.write('FB', x, 'ascii');
  h.writeUInt16LE(padding, x + 2);
  return h;
}

function centralDirectory(entries: Entry[], cdOffset: number): Buffer {
  const size = entries.reduce((s, e) => s + CENTRAL_HEADER + e.name.length, 0);
  const b = Buffer.alloc(size + EOCD);
  let p = 0;
  for (const e of entries) {
    b.writeUInt32LE(0x02014b50, p);
    b.writeUInt16LE(VERSION_NEEDED, p + 4); // made by (MS-DOS, 2.0)
    b.writeUInt16LE(VERSION_NEEDED, p + 6);
    b.writeUInt16LE(FLAG_UTF8, p + 8);
    b.writeUInt16LE(0, p + 10);
    b.writeUInt16LE(DOS_TIME, p + 12);
    b.writeUInt16LE(DOS_DATE, p + 14);
    b.writeUInt32LE(e.crc, p + 16);
    b.writeUInt32LE(e.data.byteLength, p + 20);
    b.writeUInt32LE(e.data.byteLength, p + 24);
    b.writeUInt16LE(e.name.length, p + 28);
    // extra length, comment length, disk number, internal and external attributes: all 0
    b.writeUInt32LE(e.offset, p + 42);
    e.name.copy(b, p + CENTRAL_HEADER);
    p += CENTRAL_HEADER + e.name.length;
  }
  b.writeUInt32LE(0x06054b50, p);
  b.writeUInt16LE(entries.length, p + 8);
  b.writeUInt16LE(entries.length, p + 10);
  b.writeUInt32LE(size, p + 12);
  b.writeUInt32LE(cdOffset, p + 16);
  return b;
}

/** Torch's archive folder for a file path: the file name without its extension, as torch.save names it. */
export function archiveNameFor(path: string): string {
  const stem = basename(path, extname(path));
  return stem && !/[\\/]/.test(stem) ? stem : 'archive';
}

/**
 * The .pt file's parts in order (headers, and the tensor's own bytes uncopied); concatenated they are
 * the file. Tensors of 4 GiB or more would need zip64 and are refused.
 */
export function torchPtParts(tensor: Tensor, archiveName = 'archive'): Buffer[] {
  checkTensor(tensor, 'torch tensor');
  if (!archiveName || archiveName.includes('/'))
    throw new Error(`invalid torch archive name ${JSON.stringify(archiveName)}`);
  const records: Array<[string, Uint8Array]> = [
    ['data.pkl', tensorPickle(tensor.dtype, tensor.shape)],
    ['byteorder', Buffer.from('little', 'ascii')],
    ['data/0', tensor.data],
    ['version', Buffer.from('3\n', 'ascii')],
  ];
  const parts: Buffer[] = [];
  const entries: Entry[] = [];
  let offset = 0;
  for (const [name, data] of records) {
    const e: Entry = { name: Buffer.from(`${archiveName}/${name}`, 'utf8'), data, crc: crc32(data), offset };
    const header = localHeader(e);
    parts.push(header, Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    entries.push(e);
    offset += header.length + data.byteLength;
  }
  if (offset >= 0xffffffff)
    throw new Error(`torch file of ${offset} bytes would need zip64, which this writer does not produce`);
  parts.push(centralDirectory(entries, offset));
  return parts;
}

/** The bytes of `torch.save(tensor)` for a contiguous CPU tensor. */
export function encodeTorchTensor(tensor: Tensor, archiveName = 'archive'): Buffer {
  return Buffer.concat(torchPtParts(tensor, archiveName));
}

/** Writes `path` as torch.save(tensor, path) would (archive folder = the file's stem), atomically, without copying the tensor's bytes. */
export async function writeTorchPt(path: string, tensor: Tensor, options: WriteOptions = {}): Promise<void> {
  await writeAtomically(path, torchPtParts(tensor, archiveNameFor(path)), options);
}
