// The embedding file formats of `preprocess`: float16/bfloat16 rounding against known bit patterns,
// safetensors round trips and validation, python/arr_embeddings.py reading what we write, and .pt files
// that Debian's torch (python3-torch, under /usr/bin/python3) loads with torch.load.
//
// The torch tests need `/usr/bin/python3 -c "import torch"` to work. Without it they FAIL and say how to
// install it (apt-get install -y python3-torch), unless ARR_SKIP_TORCH_TESTS=1 skips them on purpose.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeSafetensors,
  encodeSafetensors,
  layoutOrder,
  readSafetensors,
  writeSafetensors,
} from '../../src/preprocess/safetensors.js';
import {
  bf16BitsToF32,
  f16BitsToF32,
  fromBool,
  fromFloat32,
  fromInt32,
  fromInt64,
  fromUint8,
  toBf16Bits,
  toBigInt64,
  toF16Bits,
  toFloat32,
  type DType,
  type Tensor,
} from '../../src/preprocess/tensors.js';
import {
  contiguousStrides,
  crc32,
  crc32Js,
  encodeTorchTensor,
  tensorPickle,
  writeTorchPt,
} from '../../src/preprocess/torch-pt.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PY = '/usr/bin/python3';
const READER = join(ROOT, 'python', 'arr_embeddings.py');

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'arr-tensors-')));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bitsOf = (x: number) => {
  const f = new Float32Array([x]);
  return new Uint32Array(f.buffer)[0];
};
const fromBits = (b: number) => new Float32Array(new Uint32Array([b]).buffer)[0];
/** A copy of the bytes in a fresh ArrayBuffer (Buffer#slice would return a view of the whole pool). */
const own = (data: Uint8Array) => {
  const copy = new Uint8Array(data.byteLength);
  copy.set(data);
  return copy.buffer;
};
const u16 = (t: Tensor) => Array.from(new Uint16Array(own(t.data)));

// --- float16 / bfloat16 ---------------------------------------------------------------------------

describe('float32 → float16', () => {
  it.each([
    [1.0, 0x3c00],
    [-2.5, 0xc100],
    [65504, 0x7bff], // largest finite
    [65519.99, 0x7bff], // below the midpoint to Inf
    [65520, 0x7c00], // the midpoint ties to even: Inf
    [1e6, 0x7c00],
    [-1e6, 0xfc00],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [0, 0x0000],
    [-0, 0x8000],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [6.0e-5, 0x03ef], // subnormal, 1006.6 × 2^-24 rounds to 1007
    [1e-8, 0x0000], // below 2^-25: zero
    [-1e-8, 0x8000],
    [2 ** -25, 0x0000], // exactly half the smallest subnormal: ties to even (0)
    [3e-8, 0x0001], // just above 2^-25: rounds up
    [1.5 * 2 ** -24, 0x0002], // tie between 1 and 2 subnormal units: even (2)
    [2.5 * 2 ** -24, 0x0002], // tie between 2 and 3: even (2)
    [1023.5 * 2 ** -24, 0x0400], // tie at the top of the subnormals rounds into the smallest normal
    [1 + 2 ** -11, 0x3c00], // tie between 0x3c00 and 0x3c01: even
    [1 + 3 * 2 ** -11, 0x3c02], // tie between 0x3c01 and 0x3c02: even
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above the tie
    [2049, 0x6800], // 2048 and 2050 are representable; 2049 ties to 2048
    [2051, 0x6802], // ties to 2052
    [0.1, 0x2e66],
  ])('%s → 0x%s', (value, bits) => {
    expect(toF16Bits(value).toString(16)).toBe(bits.toString(16));
    expect(u16(fromFloat32([value], [1], 'F16'))).toEqual([bits]);
  });

  it('keeps NaN a NaN (quiet, with its sign)', () => {
    expect(toF16Bits(NaN)).toBe(0x7e00);
    expect(toF16Bits(fromBits(0xffc00000))).toBe(0xfe00);
    const signalling = toF16Bits(fromBits(0x7f800001)); // payload only in the low bits: must not become Inf
    expect(signalling & 0x7c00).toBe(0x7c00);
    expect(signalling & 0x3ff).not.toBe(0);
    expect(f16BitsToF32(0x7e00)).toBeNaN();
  });

  it('decodes back exactly for every representable half', () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = f16BitsToF32(h);
      if (Number.isNaN(v)) continue;
      expect(toF16Bits(v), `0x${h.toString(16)}`).toBe(h);
    }
  });
});

describe('float32 → bfloat16', () => {
  it.each([
    [1.0, 0x3f80],
    [-2.5, 0xc020],
    [65504, 0x4780], // 0x477fe000 rounds up to 65536
    [1e-8, 0x322c], // 0x322bcc77 rounds up
    [Infinity, 0x7f80],
    [-Infinity, 0xff80],
    [0, 0x0000],
    [-0, 0x8000],
    [fromBits(0x3f808000), 0x3f80], // tie, 0x3f80 is even: down
    [fromBits(0x3f818000), 0x3f82], // tie, 0x3f81 is odd: up
    [fromBits(0x3f808001), 0x3f81], // above the tie
    [fromBits(0x7f7fffff), 0x7f80], // float32 max rounds to Inf
    [fromBits(0x00000001), 0x0000], // float32 subnormals round like any other value
    [fromBits(0x00018000), 0x0002],
  ])('%s → 0x%s', (value, bits) => {
    expect(toBf16Bits(value).toString(16)).toBe(bits.toString(16));
    expect(u16(fromFloat32([value], [1], 'BF16'))).toEqual([bits]);
  });

  it('keeps NaN a NaN (quiet, with its sign), even when only low payload bits are set', () => {
    expect(toBf16Bits(NaN)).toBe(0x7fc0);
    expect(toBf16Bits(fromBits(0xffc00000))).toBe(0xffc0);
    expect(bf16BitsToF32(toBf16Bits(fromBits(0x7f800001)))).toBeNaN();
    expect(u16(fromFloat32([fromBits(0x7f800001)], [1], 'BF16'))[0] & 0x7f).not.toBe(0);
  });

  it('round-trips through toFloat32, and F32 is stored as is', () => {
    const vals = [0, 1, -2.5, 3.140625, 1e30, -1e-30];
    expect(Array.from(toFloat32(fromFloat32(vals, [2, 3], 'BF16')))).toEqual(
      vals.map((v) => bf16BitsToF32(toBf16Bits(v))),
    );
    const f = new Float32Array([1.1, NaN, -Infinity, 7]);
    expect(Array.from(toFloat32(fromFloat32(f, [4], 'F32')))).toEqual(Array.from(f));
    expect(bitsOf(toFloat32(fromFloat32([1.1], [1], 'F32'))[0])).toBe(bitsOf(1.1));
  });
});

describe('tensor constructors', () => {
  it('checks the value count against the shape', () => {
    expect(() => fromFloat32([1, 2, 3], [2, 2], 'F16')).toThrow('3 values do not fill shape [2, 2]');
    expect(() => fromInt64([1, 2], [3])).toThrow('do not fill');
    expect(() => fromFloat32([1], [-1])).toThrow('invalid tensor dimension');
  });
  it('stores I64 exactly, from numbers and bigints', () => {
    const t = fromInt64([0, -1, 2 ** 53 - 1, 9223372036854775807n], [4]);
    expect(t.data.byteLength).toBe(32);
    expect(Array.from(toBigInt64(t))).toEqual([0n, -1n, 2n ** 53n - 1n, 9223372036854775807n]);
    expect(() => fromInt64([2 ** 60], [1])).toThrow('not a safe integer');
  });
  it('stores I32, U8 and BOOL', () => {
    expect(Array.from(toFloat32(fromInt32([-5, 7], [2])))).toEqual([-5, 7]);
    expect(Array.from(toFloat32(fromUint8([0, 255], [2])))).toEqual([0, 255]);
    expect(Array.from(fromBool([true, false, 1], [3]).data)).toEqual([1, 0, 1]);
    expect(() => fromUint8([256], [1])).toThrow('out of range');
  });
});

// --- CRC-32 ---------------------------------------------------------------------------------------

describe('crc32', () => {
  it('matches the standard check values, in one go and in pieces', () => {
    const check = Buffer.from('123456789');
    expect(crc32Js(check)).toBe(0xcbf43926);
    expect(crc32(check)).toBe(0xcbf43926);
    expect(crc32Js(Buffer.alloc(0))).toBe(0);
    expect(crc32Js(Buffer.from('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
    const big = Buffer.alloc(100_003);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
    const whole = crc32Js(big);
    expect(crc32Js(big.subarray(50_001), crc32Js(big.subarray(0, 50_001)))).toBe(whole);
    // Cross-check the slicing-by-8 path against the plain bytewise definition.
    let c = ~0;
    for (const b of big) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    expect(whole).toBe(~c >>> 0);
  });
});

// --- safetensors ----------------------------------------------------------------------------------

function sampleTensors(): Record<string, Tensor> {
  return {
    prompt_embed: fromFloat32(
      Float32Array.from({ length: 24 }, (_, i) => (i - 12) / 7),
      [2, 3, 4],
      'BF16',
    ),
    pooled: fromFloat32([0.5, -1.25, 65504, 1e-8], [4], 'F16'),
    exact: fromFloat32([1.1, -2.2, 3.3], [3], 'F32'),
    ids: fromInt64([0, 1, -7, 9007199254740991], [2, 2]),
    i32: fromInt32([-1, 2, 3], [3]),
    mask: fromUint8([1, 1, 0], [3]),
    flags: fromBool([true, false], [2]),
    scalar: fromFloat32([42], [], 'F32'),
    empty: fromFloat32([], [0, 4], 'BF16'),
  };
}

describe('safetensors', () => {
  it('round-trips every dtype with metadata, in a deterministic layout', async () => {
    const tensors = sampleTensors();
    const path = join(dir, 'rt.safetensors');
    await writeSafetensors(path, tensors, { format: 'pt', note: 'ünïcode' });
    const bytes = readFileSync(path);
    expect(bytes.equals(Buffer.concat(encodeSafetensors(tensors, { format: 'pt', note: 'ünïcode' })))).toBe(true);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    expect(headerLength % 8).toBe(0);
    expect(bytes.subarray(8, 8 + headerLength).toString('utf8')).toMatch(
      /^\{"__metadata__":\{"format":"pt","note":"ünïcode"\}.*\} *$/,
    );

    const back = await readSafetensors(path);
    expect(back.metadata).toEqual({ format: 'pt', note: 'ünïcode' });
    expect(back.names).toEqual(layoutOrder(tensors));
    expect(back.names).toEqual(
      ['ids', 'exact', 'i32', 'empty', 'pooled', 'prompt_embed', 'scalar', 'flags', 'mask'].sort((a, b) => {
        const size: Record<DType, number> = { F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1, BOOL: 1 };
        return size[tensors[b].dtype] - size[tensors[a].dtype] || (a < b ? -1 : 1);
      }),
    );
    for (const [name, t] of Object.entries(tensors)) {
      expect(back.tensors[name].dtype, name).toBe(t.dtype);
      expect(back.tensors[name].shape, name).toEqual(t.shape);
      expect(Buffer.from(back.tensors[name].data).equals(Buffer.from(t.data)), name).toBe(true);
    }
    // Values survive too, also when the file's bytes sit at an odd address (views into a Buffer).
    const odd = decodeSafetensors(Buffer.concat([Buffer.alloc(1), bytes]).subarray(1));
    for (const [name, t] of Object.entries(tensors)) {
      expect(Array.from(toFloat32(odd.tensors[name])), name).toEqual(Array.from(toFloat32(t)));
      expect(Array.from(toFloat32(back.tensors[name])), name).toEqual(Array.from(toFloat32(t)));
    }
    expect(Array.from(toBigInt64(odd.tensors.ids))).toEqual(Array.from(toBigInt64(tensors.ids)));
    // Every tensor starts aligned to its element size.
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString()) as Record<
      string,
      { dtype: DType; data_offsets: [number, number] }
    >;
    for (const [name, e] of Object.entries(header))
      if (name !== '__metadata__')
        expect(e.data_offsets[0] % { F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1, BOOL: 1 }[e.dtype]).toBe(0);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('is identical for the same tensors given in another order', () => {
    const a = sampleTensors();
    const b = Object.fromEntries(Object.entries(a).reverse());
    expect(Buffer.concat(encodeSafetensors(a)).equals(Buffer.concat(encodeSafetensors(b)))).toBe(true);
  });

  it('refuses bad offsets, lengths and headers', () => {
    const good = Buffer.concat(encodeSafetensors({ a: fromFloat32([1, 2], [2], 'F32'), b: fromUint8([3], [1]) }));
    const withHeader = (h: object, data = Buffer.alloc(9)) => {
      const json = Buffer.from(JSON.stringify(h));
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(json.length));
      return Buffer.concat([len, json, data]);
    };
    expect(decodeSafetensors(good).names).toEqual(['a', 'b']);
    expect(() => decodeSafetensors(good.subarray(0, good.length - 1))).toThrow(/past the data|cover/);
    expect(() => decodeSafetensors(Buffer.concat([good, Buffer.alloc(1)]))).toThrow(
      'tensors cover 9 bytes, the data has 10',
    );
    expect(() => decodeSafetensors(withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }))).toThrow(
      'spans 4 bytes',
    );
    expect(() =>
      decodeSafetensors(
        withHeader({
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'U8', shape: [2], data_offsets: [7, 9] },
        }),
      ),
    ).toThrow('overlap');
    expect(() => decodeSafetensors(withHeader({ a: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }))).toThrow(
      'unsupported dtype F64',
    );
    expect(() =>
      decodeSafetensors(
        withHeader({ a: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } }, Buffer.alloc(1)).subarray(0, 5),
      ),
    ).toThrow('too short');
    const huge = Buffer.from(good);
    huge.writeBigUInt64LE(1n << 40n, 0);
    expect(() => decodeSafetensors(huge)).toThrow('exceeds the file');
    expect(() => encodeSafetensors({ a: { dtype: 'F32', shape: [3], data: new Uint8Array(8) } })).toThrow(
      'needs 12 bytes',
    );
  });

  it('leaves nothing behind when the write fails', async () => {
    const sub = join(dir, 'fail');
    mkdirSync(sub);
    await expect(
      writeSafetensors(join(sub, 'x.safetensors'), { bad: { dtype: 'F32', shape: [2], data: new Uint8Array(3) } }),
    ).rejects.toThrow('needs 8 bytes');
    await expect(writeSafetensors(join(sub, 'missing', 'x.safetensors'), sampleTensors())).rejects.toThrow(/ENOENT/);
    expect(readdirSync(sub)).toEqual([]);
  });
});

// --- The Python reader (standard library only) -----------------------------------------------------

/** Values as strings, so float64 and int64 survive JSON exactly ('nan', 'inf' and '-inf' included). */
function expectedStrings(t: Tensor): string[] {
  if (t.dtype === 'I64') return Array.from(toBigInt64(t), String);
  if (t.dtype === 'BOOL') return Array.from(t.data, (v) => (v ? 'True' : 'False'));
  if (t.dtype === 'I32') return Array.from(new Int32Array(own(t.data)), String); // exact, not through float32
  return Array.from(toFloat32(t), (v) =>
    Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : String(v),
  );
}
/** Python's str() of a float → the JS string of the same double (1.0 → '1', 1e-08 → '1e-8'). */
function normalize(s: string): string {
  if (['nan', 'inf', '-inf', 'True', 'False'].includes(s) || /^-?\d+$/.test(s)) return s;
  return String(Number(s));
}

const PY_VALUES = `
def strs(values):
    return [str(v) for v in values]
`;

describe('python/arr_embeddings.py without torch', () => {
  const emb = join(dir, 'emb-plain');
  beforeAll(async () => {
    for (const sub of ['prompt_embed', 'pooled_prompt_embeds', 'text_ids'])
      mkdirSync(join(emb, sub), { recursive: true });
    await writeSafetensors(join(emb, 'prompt_embed', '0.safetensors'), {
      prompt_embed: fromFloat32([1, -2.5, 0.333, 1e-8, NaN, Infinity], [2, 3], 'BF16'),
    });
    await writeTorchPt(join(emb, 'pooled_prompt_embeds', '0.pt'), fromFloat32([0.5, -1, 65504, 1e-8], [4], 'F16'));
    await writeTorchPt(join(emb, 'text_ids', '0.pt'), fromFloat32([0, 0, 0], [3], 'BF16'));
    await writeSafetensors(join(emb, 'multi.safetensors'), sampleTensors(), { kind: 'test' });
    writeFileSync(
      join(emb, 'metadata.json'),
      JSON.stringify(
        [
          {
            prompt_embed_path: '0.safetensors',
            text_ids: '0.pt',
            pooled_prompt_embeds_path: '0.pt',
            caption: 'a red cube',
            original_length: 7,
          },
          { all: 'multi.safetensors', caption: 'second' },
        ],
        null,
        4,
      ),
    );
  });

  it('reads our safetensors: every dtype, the same values and shapes', async () => {
    const tensors = sampleTensors();
    tensors.specials = fromFloat32([NaN, Infinity, -Infinity, -0, 1e-8, 65504, 3.14159], [7], 'F16');
    const path = join(dir, 'py.safetensors');
    await writeSafetensors(path, tensors, { who: 'arr' });
    const script = `
import json, sys
sys.path.insert(0, ${JSON.stringify(join(ROOT, 'python'))})
import arr_embeddings as ae
${PY_VALUES}
out = {}
for name, (dtype, shape, raw) in ae.read_safetensors(${JSON.stringify(path)}).items():
    t = ae.HostTensor(dtype, shape, raw)
    vals = list(t.values)
    if t.dtype == "BOOL":
        vals = [bool(v) for v in vals]
    out[name] = {"dtype": dtype, "shape": list(shape), "values": strs(vals)}
out["__metadata__"] = ae.read_safetensors_metadata(${JSON.stringify(path)})
print(json.dumps(out))
`;
    const { stdout } = await execa(PY, ['-c', script]);
    const got = JSON.parse(stdout) as Record<string, { dtype: string; shape: number[]; values: string[] }> & {
      __metadata__: unknown;
    };
    expect(got.__metadata__).toEqual({ who: 'arr' });
    for (const [name, t] of Object.entries(tensors)) {
      expect(got[name].dtype, name).toBe(t.dtype);
      expect(got[name].shape, name).toEqual(t.shape);
      expect(got[name].values.map(normalize), name).toEqual(expectedStrings(t));
    }
  });

  it('rejects a corrupt file with a message', async () => {
    const path = join(dir, 'corrupt.safetensors');
    writeFileSync(path, Buffer.concat(encodeSafetensors({ a: fromFloat32([1, 2], [2], 'F32') })).subarray(0, -2));
    const r = await execa(
      PY,
      [
        '-c',
        `import sys; sys.path.insert(0, ${JSON.stringify(join(ROOT, 'python'))}); import arr_embeddings as ae; ae.read_safetensors(${JSON.stringify(path)})`,
      ],
      { reject: false },
    );
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/past the data/);
  });

  it('loads an entry as HostTensors (reading .pt without torch) with its scalar fields', async () => {
    const script = `
import json, sys
sys.path.insert(0, ${JSON.stringify(join(ROOT, 'python'))})
import arr_embeddings as ae
${PY_VALUES}
e = ae.load_entry(${JSON.stringify(join(emb, 'metadata.json'))}, 0, as_torch=False)
e2 = ae.load_entry(${JSON.stringify(join(emb, 'metadata.json'))}, -1, as_torch=False)
print(json.dumps({
  "index": e["index"], "fields": e["fields"],
  "tensors": {k: {"type": type(t).__name__, "dtype": t.dtype, "shape": list(t.shape), "values": strs(t.values), "nested": t.tolist() if k == "pooled_prompt_embeds" else None} for k, t in e["tensors"].items()},
  "second": {"index": e2["index"], "names": sorted(e2["tensors"]), "fields": e2["fields"]},
}))
`;
    const { stdout } = await execa(PY, ['-c', script]);
    const got = JSON.parse(stdout);
    expect(got.index).toBe(0);
    expect(got.fields).toEqual({ caption: 'a red cube', original_length: 7 });
    expect(Object.keys(got.tensors).sort()).toEqual(['pooled_prompt_embeds', 'prompt_embed', 'text_ids']);
    expect(got.tensors.prompt_embed).toMatchObject({ type: 'HostTensor', dtype: 'BF16', shape: [2, 3] });
    expect(got.tensors.prompt_embed.values.map(normalize)).toEqual(
      expectedStrings(fromFloat32([1, -2.5, 0.333, 1e-8, NaN, Infinity], [2, 3], 'BF16')),
    );
    expect(got.tensors.pooled_prompt_embeds).toMatchObject({ dtype: 'F16', shape: [4], nested: [0.5, -1, 65504, 0] });
    expect(got.tensors.text_ids).toMatchObject({ dtype: 'BF16', shape: [3], values: ['0.0', '0.0', '0.0'] });
    expect(got.second).toEqual({ index: 1, names: Object.keys(sampleTensors()).sort(), fields: { caption: 'second' } });
  });

  it('prints a summary of a metadata.json from the command line', async () => {
    const { stdout } = await execa(PY, [READER, join(emb, 'metadata.json'), '--no-torch']);
    expect(stdout).toContain('metadata.json: 2 entries');
    expect(stdout).toContain('prompt_embed: BF16 [2, 3]');
    expect(stdout).toContain('pooled_prompt_embeds: F16 [4]');
    expect(stdout).toContain('caption = "a red cube"');
    const dump = JSON.parse((await execa(PY, [READER, '--dump', join(emb, 'pooled_prompt_embeds', '0.pt')])).stdout);
    expect(dump).toEqual({ '': { dtype: 'F16', shape: [4], values: [0.5, -1, 65504, 0] } });
  });
});

// --- torch.save compatibility (Debian's python3-torch) ---------------------------------------------

const torchOk = spawnSync(PY, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const skipTorch = !torchOk && process.env.ARR_SKIP_TORCH_TESTS === '1';
const SKIP_REASON = 'ARR_SKIP_TORCH_TESTS=1 and `/usr/bin/python3 -c "import torch"` fails: torch tests skipped';
const TORCH_HINT =
  'torch is needed for the .pt compatibility tests and `/usr/bin/python3 -c "import torch"` failed. ' +
  'Install it with `apt-get update && apt-get install -y python3-torch` (Debian), ' +
  'or set ARR_SKIP_TORCH_TESTS=1 to skip these tests on purpose.';
function needTorch(ctx: { skip: (note?: string) => void }) {
  if (skipTorch) ctx.skip(SKIP_REASON);
  if (!torchOk) throw new Error(TORCH_HINT);
}

const TORCH_DTYPE: Record<DType, string> = {
  F32: 'torch.float32',
  F16: 'torch.float16',
  BF16: 'torch.bfloat16',
  I64: 'torch.int64',
  I32: 'torch.int32',
  U8: 'torch.uint8',
  BOOL: 'torch.bool',
};

describe('.pt files loaded by torch.load', () => {
  const cases: Array<[string, Tensor]> = [
    ['f32', fromFloat32([1.1, -2.5, NaN, Infinity, -0, 3e38], [2, 3], 'F32')],
    ['f16', fromFloat32([1, -2.5, 65504, 1e-8, 6e-5, NaN, -Infinity, 0.1], [2, 2, 2], 'F16')],
    [
      'bf16',
      fromFloat32(
        Float32Array.from({ length: 60 }, (_, i) => Math.sin(i) * 10 ** (i % 7)),
        [3, 4, 5],
        'BF16',
      ),
    ],
    ['i64', fromInt64([0, -1, 9223372036854775807n, -9223372036854775808n, 2 ** 40], [5])],
    ['i32', fromInt32([-2147483648, 2147483647, 0, 5], [2, 2])],
    ['u8', fromUint8([0, 1, 128, 255], [4, 1])],
    ['bool', fromBool([true, false, true], [3])],
    ['scalar', fromFloat32([7.5], [], 'BF16')],
    ['empty', fromFloat32([], [0, 3], 'F32')],
    [
      'qwen-size',
      fromFloat32(
        Float32Array.from({ length: 5000 * 3584 }, (_, i) => (i % 1000) - 500),
        [5000, 3584],
        'BF16',
      ),
    ],
  ];
  const ptDir = join(dir, 'pt');
  let results:
    | Record<
        string,
        { dtype: string; shape: number[]; values?: string[]; sum?: string; pkl_equal: boolean; contiguous: boolean }
      >
    | undefined;

  beforeAll(async () => {
    mkdirSync(ptDir, { recursive: true });
    for (const [name, t] of cases) await writeTorchPt(join(ptDir, `${name}.pt`), t);
    if (!torchOk) return;
    // One python process for all: load each file, report values as strings, and compare our data.pkl
    // with the one torch.save writes for the same tensor.
    const script = `
import io, json, sys, zipfile, torch
out = {}
for name in ${JSON.stringify(cases.map(([n]) => n))}:
    path = ${JSON.stringify(ptDir)} + "/" + name + ".pt"
    t = torch.load(path)
    buf = io.BytesIO(); torch.save(t.clone(), buf)
    ref = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    ours = zipfile.ZipFile(path)
    assert ours.testzip() is None
    pkl = lambda z: z.read([n for n in z.namelist() if n.endswith("/data.pkl")][0])
    r = {"dtype": str(t.dtype), "shape": list(t.shape), "pkl_equal": pkl(ref) == pkl(ours), "contiguous": t.is_contiguous()}
    if t.numel() > 100000:
        r["sum"] = repr(t.double().sum().item())
    else:
        flat = t.reshape(-1)
        vals = flat.tolist() if t.dtype in (torch.int64, torch.int32, torch.uint8, torch.bool) else flat.double().tolist()
        r["values"] = [str(v) for v in vals]
    out[name] = r
print(json.dumps(out))
`;
    const { stdout } = await execa(PY, ['-c', script]);
    results = JSON.parse(stdout);
  }, 120_000);

  it.for(cases.map(([name]) => name))('%s: torch.load gives the same dtype, shape and values', (name, ctx) => {
    needTorch(ctx);
    const t = cases.find(([n]) => n === name)![1];
    const r = results![name];
    expect(r.dtype).toBe(TORCH_DTYPE[t.dtype]);
    expect(r.shape).toEqual(t.shape);
    expect(r.contiguous).toBe(true);
    expect(r.pkl_equal, 'data.pkl is byte for byte what torch.save pickles').toBe(true);
    if (r.values) expect(r.values.map(normalize)).toEqual(expectedStrings(t));
    else expect(Number(r.sum)).toBe(toFloat32(t).reduce((s, v) => s + v, 0));
  });

  it('aligns every record payload to 64 bytes and stores correct CRCs (checked in JS)', () => {
    const buf = encodeTorchTensor(cases[1][1], 'f16');
    let p = 0;
    const names: string[] = [];
    while (buf.readUInt32LE(p) === 0x04034b50) {
      const size = buf.readUInt32LE(p + 18);
      const nameLen = buf.readUInt16LE(p + 26);
      const extraLen = buf.readUInt16LE(p + 28);
      const name = buf.subarray(p + 30, p + 30 + nameLen).toString();
      const payload = p + 30 + nameLen + extraLen;
      expect(buf.subarray(p + 30 + nameLen, p + 32 + nameLen).toString()).toBe('FB');
      expect(payload % 64, name).toBe(0);
      expect(buf.readUInt16LE(p + 8), 'STORED').toBe(0);
      expect(crc32(buf.subarray(payload, payload + size))).toBe(buf.readUInt32LE(p + 14));
      names.push(name);
      p = payload + size;
    }
    expect(names).toEqual(['f16/data.pkl', 'f16/byteorder', 'f16/data/0', 'f16/version']);
    expect(buf.readUInt32LE(buf.length - 22)).toBe(0x06054b50);
    expect(readFileSync(join(ptDir, 'f16.pt')).equals(encodeTorchTensor(cases[1][1], 'f16'))).toBe(true);
    expect(contiguousStrides([2, 0, 3])).toEqual([3, 3, 1]);
    expect(tensorPickle('F32', [2, 3]).subarray(0, 2)).toEqual(Buffer.from([0x80, 2]));
  });

  it("rounds float32 → float16 / bfloat16 bit for bit like torch's .half() / .bfloat16()", async (ctx) => {
    needTorch(ctx);
    // 1M float32 bit patterns: uniformly random bits (every exponent), plus dense runs around the
    // float16 subnormal/normal boundaries, ties and overflow. NaN inputs are left out (payloads may differ).
    let seed = 12345;
    const next = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
    const bits = new Uint32Array(1 << 20);
    for (let i = 0; i < bits.length; i++) {
      let b = next();
      if (i % 4 === 1) b = (b & 0x80000000) | (0x33000000 + (b % 0x0c000000)); // 2^-25 .. 2^-1: float16 subnormals and ties
      if (i % 4 === 2) b = (b & 0x80000000) | (0x477f0000 + (b & 0x1ffff)); // around 65504 .. Inf
      if (i % 4 === 3) b = (b & 0xffff0000) | (i & 1 ? 0x8000 : 0x1000); // exact bf16 and float16 ties
      if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) b = 0x3f800000;
      bits[i] = b;
    }
    const values = new Float32Array(bits.buffer);
    const path = join(dir, 'round.safetensors');
    await writeSafetensors(path, { x: fromFloat32(values, [values.length], 'F32') });
    const outPath = join(dir, 'round-torch.safetensors');
    await execa(PY, [
      '-c',
      `
import sys, torch
sys.path.insert(0, ${JSON.stringify(join(ROOT, 'python'))})
import arr_embeddings as ae
(dtype, shape, raw) = ae.read_safetensors(${JSON.stringify(path)})["x"]
x = torch.frombuffer(bytearray(raw), dtype=torch.float32)
h = x.half().view(torch.int16).numpy().tobytes()
b = x.bfloat16().view(torch.int16).numpy().tobytes()
import json, struct
header = json.dumps({"h": {"dtype": "F16", "shape": [len(x)], "data_offsets": [0, len(h)]}, "b": {"dtype": "BF16", "shape": [len(x)], "data_offsets": [len(h), len(h) + len(b)]}}).encode()
header += b" " * (-len(header) % 8)
open(${JSON.stringify(outPath)}, "wb").write(struct.pack("<Q", len(header)) + header + h + b)
`,
    ]);
    const ref = await readSafetensors(outPath);
    const mine = { h: fromFloat32(values, [values.length], 'F16'), b: fromFloat32(values, [values.length], 'BF16') };
    for (const k of ['h', 'b'] as const) {
      const want = new Uint16Array(own(ref.tensors[k].data));
      const got = new Uint16Array(mine[k].data.buffer);
      const bad: string[] = [];
      for (let i = 0; i < want.length && bad.length < 5; i++)
        if (want[i] !== got[i])
          bad.push(`0x${bits[i].toString(16)}: torch 0x${want[i].toString(16)}, ours 0x${got[i].toString(16)}`);
      expect(bad, k).toEqual([]);
    }
  }, 60_000);

  it('python/arr_embeddings.py reads a file torch.save wrote, without torch', async (ctx) => {
    needTorch(ctx);
    const path = join(dir, 'torch-saved.pt');
    await execa(PY, [
      '-c',
      `import torch; torch.save(torch.arange(12, dtype=torch.int64).reshape(3, 4) - 5, ${JSON.stringify(path)})`,
    ]);
    const { stdout } = await execa(PY, [READER, '--dump', path]);
    expect(JSON.parse(stdout)).toEqual({
      '': { dtype: 'I64', shape: [3, 4], values: Array.from({ length: 12 }, (_, i) => i - 5) },
    });
  });
});

describe('python/arr_embeddings.py with torch', () => {
  const emb = join(dir, 'emb-torch');
  const embed = fromFloat32(
    Float32Array.from({ length: 5 * 8 }, (_, i) => i / 3),
    [5, 8],
    'BF16',
  );
  const mask = fromInt64([1, 1, 1, 0, 0], [5]);
  const latents = fromFloat32(
    Float32Array.from({ length: 16 * 4 }, (_, i) => -i),
    [16, 1, 2, 2],
    'F32',
  );
  beforeAll(async () => {
    for (const sub of ['prompt_embed', 'prompt_attention_mask', 'image_latents'])
      mkdirSync(join(emb, sub), { recursive: true });
    await writeTorchPt(join(emb, 'prompt_embed', '0.pt'), embed);
    await writeTorchPt(join(emb, 'prompt_attention_mask', '0.pt'), mask);
    await writeSafetensors(join(emb, 'image_latents', '0.safetensors'), { image_latents: latents });
    writeFileSync(
      join(emb, 'metadata.json'),
      JSON.stringify([
        {
          prompt_embed_path: '0.pt',
          prompt_attention_mask: '0.pt',
          image_latents: '0.safetensors',
          caption: 'make it blue',
          source_image: '/x/a.png',
          original_length: 3,
          calculated_height: 512,
          calculated_width: 512,
        },
      ]),
    );
  });

  it('returns torch tensors (default and as_torch=True) equal to what we wrote', async (ctx) => {
    needTorch(ctx);
    const script = `
import json, sys, torch
sys.path.insert(0, ${JSON.stringify(join(ROOT, 'python'))})
import arr_embeddings as ae
meta = ${JSON.stringify(join(emb, 'metadata.json'))}
e = ae.load_entry(meta, 0)
e2 = ae.load_entry(meta, 0, as_torch=True)
h = ae.load_entry(meta, 0, as_torch=False)
same = all(torch.equal(e["tensors"][k], e2["tensors"][k]) for k in e["tensors"])
same_host = all(e["tensors"][k].reshape(-1).tolist() == (lambda t: [bool(v) for v in t.values] if t.dtype == "BOOL" else list(t.values))(h["tensors"][k]) for k in e["tensors"])
print(json.dumps({
  "torch": ae.torch_available(), "same": same, "same_host": same_host, "fields": e["fields"],
  "tensors": {k: {"is_torch": isinstance(t, torch.Tensor), "dtype": str(t.dtype), "shape": list(t.shape), "values": [str(v) for v in t.reshape(-1).tolist()]} for k, t in e["tensors"].items()},
}))
`;
    const { stdout } = await execa(PY, ['-c', script]);
    const got = JSON.parse(stdout);
    expect(got.torch).toBe(true);
    expect(got.same).toBe(true);
    expect(got.same_host).toBe(true);
    expect(got.fields).toEqual({
      caption: 'make it blue',
      source_image: '/x/a.png',
      original_length: 3,
      calculated_height: 512,
      calculated_width: 512,
    });
    expect(got.tensors.prompt_embed).toMatchObject({ is_torch: true, dtype: 'torch.bfloat16', shape: [5, 8] });
    expect(got.tensors.prompt_embed.values.map(normalize)).toEqual(expectedStrings(embed));
    expect(got.tensors.prompt_attention_mask).toMatchObject({
      is_torch: true,
      dtype: 'torch.int64',
      shape: [5],
      values: ['1', '1', '1', '0', '0'],
    });
    expect(got.tensors.image_latents).toMatchObject({ is_torch: true, dtype: 'torch.float32', shape: [16, 1, 2, 2] });
    expect(got.tensors.image_latents.values.map(normalize)).toEqual(expectedStrings(latents));
  });

  it('the summary says torch tensors', async (ctx) => {
    needTorch(ctx);
    const { stdout } = await execa(PY, [READER, join(emb, 'metadata.json')]);
    expect(stdout).toMatch(/torch: yes, /);
    expect(stdout).toContain('prompt_embed: bfloat16 [5, 8] (torch)');
    expect(stdout).toContain('original_length = 3');
  });
});
