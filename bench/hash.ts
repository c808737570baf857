// Benchmark for the store's file hashing: cold sha256 throughput through HashMemo's miss path, and the
// cost of re-checking an unchanged 1 GiB file (memo hit: one stat, no read).
// Run: npx tsx bench/hash.ts
import { randomFillSync } from 'node:crypto';
import { mkdtemp, open, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HashMemo } from '../src/store/hash.js';

const SIZE = 1024 ** 3;
const TARGET_GBPS = 1;
const TARGET_RECHECK_MS = 20;

const dir = await mkdtemp(join(tmpdir(), 'arr-bench-hash-'));
try {
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  if (free < SIZE * 1.5) throw new Error(`need ${SIZE * 1.5} bytes free in ${dir}, have ${free}`);

  const file = join(dir, 'big.bin');
  await writeRandom(file, SIZE);
  console.log(`file: 1 GiB at ${file} (just written, so reads come mostly from the page cache)`);

  const rates: number[] = [];
  for (let run = 1; run <= 3; run++) {
    const memo = new HashMemo(join(dir, `cache-${run}`));
    const t = performance.now();
    await memo.hashFile(file);
    const ms = performance.now() - t;
    if (memo.stats.misses !== 1) throw new Error('expected a memo miss');
    rates.push(SIZE / 1e9 / (ms / 1000));
    console.log(`  cold run ${run}: ${ms.toFixed(0)} ms, ${rates.at(-1)!.toFixed(2)} GB/s`);
  }
  // Best of 3: other processes on the machine only ever slow a run down.
  const rate = Math.max(...rates);
  console.log(
    `cold sha256 (memo miss): ${rate.toFixed(2)} GB/s (best of 3; median ${median(rates).toFixed(2)}), ` +
      `target >= ${TARGET_GBPS} GB/s: ${rate >= TARGET_GBPS ? 'PASS' : 'FAIL'}`,
  );

  const memo = new HashMemo(join(dir, 'cache-1'));
  await memo.hashFile(file);
  await memo.flush();
  const hits: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    await memo.hashFile(file);
    hits.push(performance.now() - t);
  }
  if (memo.stats.hits !== 50) throw new Error(`expected memo hits, got ${JSON.stringify(memo.stats)}`);
  const recheck = median(hits);
  console.log(
    `re-check unchanged file (memo hit): ${recheck.toFixed(3)} ms (median of 50), target <= ${TARGET_RECHECK_MS} ms: ${recheck <= TARGET_RECHECK_MS ? 'PASS' : 'FAIL'}`,
  );

  const t = performance.now();
  const fresh = new HashMemo(join(dir, 'cache-1'));
  await fresh.hashFile(file);
  const firstMs = performance.now() - t;
  if (fresh.stats.hits !== 1) throw new Error('expected the flushed memo to answer');
  console.log(`re-check from a new HashMemo (loads hash-memo.json, then stats): ${firstMs.toFixed(3)} ms`);
} finally {
  await rm(dir, { recursive: true, force: true });
}

async function writeRandom(path: string, size: number): Promise<void> {
  const block = randomFillSync(Buffer.allocUnsafe(8 * 1024 * 1024));
  const handle = await open(path, 'w');
  try {
    for (let written = 0; written < size; written += block.length) {
      block.writeUInt32LE(written / block.length, 0); // no two blocks alike
      await handle.write(block, 0, Math.min(block.length, size - written));
    }
  } finally {
    await handle.close();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
