// Benchmark for the embedding writers: safetensors write throughput (the preprocess target writes one
// file per item: 200 FLUX prompt_embed files of [512, 4096] bf16, 4 MiB each), the same as torch .pt
// (adds a CRC-32 pass over the data), and float32 → bf16 / f16 conversion speed.
// Run: npx tsx bench/tensors.ts   (writes ~800 MiB × runs to a temp dir, deleted afterwards)
import { mkdir, mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { writeSafetensors } from '../src/preprocess/safetensors.js';
import { fromFloat32, type Tensor } from '../src/preprocess/tensors.js';
import { crc32, crc32Js, writeTorchPt } from '../src/preprocess/torch-pt.js';

const FILES = 200;
const SHAPE = [512, 4096];
const ELEMENTS = SHAPE[0] * SHAPE[1];
const FILE_BYTES = ELEMENTS * 2;
const TARGET_MBPS = 500;
const RUNS = 3;
const MB = 1e6;

const dir = await mkdtemp(join(tmpdir(), 'arr-bench-tensors-'));
try {
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  const need = FILES * FILE_BYTES * 2.5; // one run's files, plus headroom
  if (free < need)
    throw new Error(`need ${(need / 2 ** 20).toFixed(0)} MiB free in ${dir}, have ${(free / 2 ** 20).toFixed(0)} MiB`);

  // A few distinct tensors, so the page cache is not handed the same pages over and over.
  const source = Float32Array.from({ length: ELEMENTS }, (_, i) => Math.sin(i) * 3);
  let t = performance.now();
  const bf16 = fromFloat32(source, SHAPE, 'BF16');
  const bfMs = performance.now() - t;
  t = performance.now();
  fromFloat32(source, SHAPE, 'F16');
  const f16Ms = performance.now() - t;
  console.log(
    `convert [${SHAPE.join(', ')}] float32 → bf16: ${bfMs.toFixed(1)} ms (${(ELEMENTS / bfMs / 1e3).toFixed(0)} M elements/s); → f16: ${f16Ms.toFixed(1)} ms (${(ELEMENTS / f16Ms / 1e3).toFixed(0)} M elements/s)`,
  );
  const tensors: Tensor[] = Array.from({ length: 4 }, (_, k) => {
    const data = new Uint8Array(bf16.data);
    data[0] = k; // no two alike
    return { dtype: 'BF16', shape: SHAPE, data };
  });

  t = performance.now();
  const crc = crc32(tensors[0].data);
  const crcMs = performance.now() - t;
  t = performance.now();
  const crcJs = crc32Js(tensors[0].data);
  const crcJsMs = performance.now() - t;
  if (crcJs !== crc) throw new Error('crc32Js disagrees with crc32');
  console.log(
    `crc32 of 4 MiB: ${crcMs.toFixed(1)} ms (${(FILE_BYTES / MB / (crcMs / 1000)).toFixed(0)} MB/s, ${'crc32' in zlib ? 'zlib.crc32' : 'table-driven JS'}); ` +
      `table-driven JS: ${crcJsMs.toFixed(1)} ms (${(FILE_BYTES / MB / (crcJsMs / 1000)).toFixed(0)} MB/s)`,
  );

  const measure = async (label: string, write: (path: string, tensor: Tensor) => Promise<void>, ext: string) => {
    const rates: number[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const runDir = join(dir, `${ext}-${run}`);
      await mkdir(runDir);
      const start = performance.now();
      for (let i = 0; i < FILES; i++) await write(join(runDir, `${i}.${ext}`), tensors[i % tensors.length]);
      const s = (performance.now() - start) / 1000;
      rates.push((FILES * FILE_BYTES) / MB / s);
      console.log(
        `  ${label} run ${run}: ${FILES} files × 4 MiB in ${(s * 1000).toFixed(0)} ms = ${rates.at(-1)!.toFixed(0)} MB/s (${((s * 1000) / FILES).toFixed(2)} ms/file)`,
      );
      await rm(runDir, { recursive: true, force: true });
    }
    return rates;
  };

  const st = await measure('safetensors', (p, x) => writeSafetensors(p, { prompt_embed: x }), 'safetensors');
  const best = Math.max(...st);
  console.log(
    `safetensors write (temp file + rename, page cache, no fsync): ${best.toFixed(0)} MB/s best of ${RUNS} (median ${median(st).toFixed(0)}), ` +
      `target >= ${TARGET_MBPS} MB/s: ${best >= TARGET_MBPS ? 'PASS' : 'FAIL'}`,
  );
  const pt = await measure('torch .pt', (p, x) => writeTorchPt(p, x), 'pt');
  console.log(
    `torch .pt write (CRC-32 + temp file + rename): ${Math.max(...pt).toFixed(0)} MB/s best of ${RUNS} (median ${median(pt).toFixed(0)}) (informational)`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
