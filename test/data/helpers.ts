// Fixture builders for the data tests: temp folders, real PNGs made by sharp, broken images.
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

/** A fresh temp folder (realpath'd, so symlinked /tmp setups compare equal). */
export function tempDir(prefix = 'arr-data-'): string {
  return realpathSync(mkdtempSync(join(tmpdir(), prefix)));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Writes `text` to `dir/rel`, creating folders; returns the absolute path. */
export function write(dir: string, rel: string, text: string | Buffer): string {
  const path = join(dir, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** A small noisy RGB PNG (noisy so a truncated copy really lacks pixel data). */
export async function pngBytes(width = 32, height = 24): Promise<Buffer> {
  return sharp({
    create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } },
  })
    .png()
    .toBuffer();
}

export async function writePng(dir: string, rel: string, width = 32, height = 24): Promise<string> {
  return write(dir, rel, await pngBytes(width, height));
}

/** The first half of a valid PNG: the header parses, the pixels do not. */
export async function writeTruncatedPng(dir: string, rel: string): Promise<string> {
  const png = await pngBytes(64, 64);
  return write(dir, rel, png.subarray(0, Math.floor(png.length / 2)));
}

export const jsonl = (records: unknown[]): string => records.map((r) => JSON.stringify(r)).join('\n') + '\n';
