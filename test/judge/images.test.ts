import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageRef } from '../../src/data/types.js';
import { ImageEncoder, type EncodedImage } from '../../src/judge/images/encoder.js';
import { ImageError } from '../../src/judge/images/image-error.js';
import { imageIdentity } from '../../src/judge/images/sources.js';
import { dataUrl } from '../../src/util/data-url.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'arr-judge-img-')));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const file = (path: string): ImageRef => ({ kind: 'file', path });
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const put = (name: string, bytes: Buffer): string => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};
const fresh = (extra: Partial<ConstructorParameters<typeof ImageEncoder>[0]> = {}) =>
  new ImageEncoder({ maxSide: 512, ...extra });
const cacheDir = () => join(dir, `cache-${++n}`);

/** Seeded noisy pixels: smooth gradient plus noise, so PNGs are big and JPEG wins. */
function rawPixels(width: number, height: number, channels: 3 | 4, alpha?: (x: number, y: number) => number): Buffer {
  const px = Buffer.alloc(width * height * channels);
  let s = 12345;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8) / 16777216;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      for (let c = 0; c < 3; c++)
        px[i + c] = Math.max(0, Math.min(255, Math.round(((x + y * (c + 1)) % 256) * 0.7 + rand() * 60)));
      if (channels === 4) px[i + 3] = alpha ? alpha(x, y) : 255;
    }
  }
  return px;
}
const noisyPng = (w: number, h: number, channels: 3 | 4 = 3, alpha?: (x: number, y: number) => number) =>
  sharp(rawPixels(w, h, channels, alpha), { raw: { width: w, height: h, channels } })
    .png()
    .toBuffer();
const decodeUrl = (url: string) => Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
const metaOf = (enc: EncodedImage) => sharp(decodeUrl(enc.url)).metadata();

describe('ImageEncoder: sizes and formats', () => {
  it('shrinks so the longer side is maxSide, keeping the aspect ratio, as 4:4:4 JPEG when opaque', async () => {
    const enc = fresh();
    const wide = await enc.encode(file(put('wide.png', await noisyPng(1200, 800))));
    expect(wide).toMatchObject({ mime: 'image/jpeg', width: 512, height: 341, reencoded: true });
    expect(wide.url.startsWith('data:image/jpeg;base64,')).toBe(true);
    expect(wide.bytes).toBe(decodeUrl(wide.url).length);
    const m = await metaOf(wide);
    expect(m).toMatchObject({ format: 'jpeg', width: 512, height: 341, chromaSubsampling: '4:4:4' });

    const tall = await enc.encode(file(put('tall.png', await noisyPng(300, 900))));
    expect(tall).toMatchObject({ width: 171, height: 512, mime: 'image/jpeg' });
  });

  it('never enlarges', async () => {
    const small = await fresh().encode(file(put('small.png', await noisyPng(100, 60))));
    expect([small.width, small.height]).toEqual([100, 60]);
    expect(small.bytes).toBeLessThanOrEqual(small.originalBytes);
  });

  it('applies the EXIF orientation', async () => {
    const jpeg = await sharp(rawPixels(200, 100, 3), { raw: { width: 200, height: 100, channels: 3 } })
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const enc = await fresh().encode(file(put('rotated.jpg', jpeg)));
    expect(enc).toMatchObject({ width: 100, height: 200, reencoded: true, mime: 'image/jpeg' });
    expect((await metaOf(enc)).orientation ?? 1).toBe(1);
  });

  it('keeps real transparency as PNG or lossless WebP', async () => {
    const png = await noisyPng(600, 400, 4, (x) => (x < 100 ? 0 : x < 300 ? 128 : 255));
    const enc = await fresh().encode(file(put('alpha.png', png)));
    expect(['image/png', 'image/webp']).toContain(enc.mime);
    expect(enc).toMatchObject({ width: 512, height: 341, reencoded: true });
    const m = await metaOf(enc);
    expect(m.hasAlpha).toBe(true);
    const px = await sharp(decodeUrl(enc.url)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    expect(px.data[3]).toBe(0); // left edge transparent
    expect(px.data[(px.info.width - 1) * 4 + 3]).toBe(255); // right edge opaque
  });

  it('treats an alpha channel that is all 255 as opaque (JPEG)', async () => {
    const enc = await fresh().encode(file(put('opaque-rgba.png', await noisyPng(700, 700, 4))));
    expect(enc.mime).toBe('image/jpeg');
  });

  it('uses a lossless palette PNG for a few-colour image that re-encodes smaller', async () => {
    // 4 colours with transparency, stored uncompressed so the original is large.
    const w = 300;
    const h = 200;
    const colours = [
      [255, 0, 0, 255],
      [0, 128, 255, 255],
      [0, 0, 0, 0],
      [20, 200, 20, 128],
    ];
    const raw = Buffer.alloc(w * h * 4);
    for (let p = 0; p < w * h; p++) raw.set(colours[(Math.floor((p % w) / 7) + Math.floor(p / w / 5)) % 4], p * 4);
    const bloated = await sharp(raw, { raw: { width: w, height: h, channels: 4 } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    const enc = await fresh().encode(file(put('palette.png', bloated)));
    expect(enc.reencoded).toBe(true);
    expect(enc.bytes).toBeLessThan(bloated.length);
    expect(['image/png', 'image/webp']).toContain(enc.mime);
    const back = await sharp(decodeUrl(enc.url)).ensureAlpha().raw().toBuffer();
    let changed = 0; // visible pixels that differ (fully transparent ones may change colour)
    for (let p = 0; p < w * h; p++) {
      const same =
        raw[p * 4 + 3] === 0
          ? back[p * 4 + 3] === 0
          : back.subarray(p * 4, p * 4 + 4).equals(raw.subarray(p * 4, p * 4 + 4));
      if (!same) changed++;
    }
    expect(changed).toBe(0);
    if (enc.mime === 'image/png') expect((await metaOf(enc)).isPalette).toBe(true);
  });

  it('sends a few-colour opaque diagram as a palette PNG, lossless, when it beats JPEG', async () => {
    const svg =
      '<svg width="600" height="400"><rect x="10" y="10" width="200" height="100" fill="#f00"/><rect x="0" y="300" width="600" height="2" fill="#00f"/></svg>';
    const png = await sharp({ create: { width: 600, height: 400, channels: 3, background: '#ffffff' } })
      .composite([{ input: Buffer.from(svg) }])
      .png()
      .toBuffer();
    const enc = await new ImageEncoder({ maxSide: 300 }).encode(file(put('diagram.png', png)));
    expect(enc).toMatchObject({ mime: 'image/png', width: 300, height: 200, reencoded: true });
    expect((await metaOf(enc)).isPalette).toBe(true);
    // Lossless against what a truecolour resize gives.
    const truth = await sharp(png).resize({ width: 300, height: 300, fit: 'inside' }).removeAlpha().raw().toBuffer();
    const back = await sharp(decodeUrl(enc.url)).removeAlpha().raw().toBuffer();
    expect(back.equals(truth)).toBe(true);
  });

  it('sends the original bytes when re-encoding would be larger (tiny flat PNG)', async () => {
    const png = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#3366cc' } })
      .png()
      .toBuffer();
    const enc = await fresh().encode(file(put('flat.png', png)));
    expect(enc).toMatchObject({
      reencoded: false,
      mime: 'image/png',
      bytes: png.length,
      originalBytes: png.length,
      width: 16,
      height: 16,
      sha256: sha(png),
    });
    expect(enc.url).toBe(dataUrl('image/png', png));
  });

  it('re-encodes a small original that is larger than the re-encode', async () => {
    const png = await noisyPng(200, 150);
    const enc = await fresh().encode(file(put('small-noisy.png', png)));
    expect(enc.reencoded).toBe(true);
    expect(enc.bytes).toBeLessThan(png.length);
  });
});

describe('ImageEncoder: caching', () => {
  let photo: string;
  beforeAll(async () => {
    photo = put('photo.png', await noisyPng(800, 600));
  });

  it('answers a second encode from memory without sharp work', async () => {
    const enc = fresh();
    const a = await enc.encode(file(photo));
    const b = await enc.encode(file(photo));
    expect(b).toBe(a);
    expect(enc.stats).toMatchObject({ encodes: 1, memoryHits: 1, diskHits: 0 });
    expect(a.sha256).toBe(sha(readFileSync(photo)));
  });

  it('shares the identity across references: a copy and a data URL of the same bytes hit memory', async () => {
    const enc = fresh();
    const a = await enc.encode(file(photo));
    const copy = put('photo-copy.png', readFileSync(photo));
    const b = await enc.encode(file(copy));
    const c = await enc.encode({ kind: 'data', url: dataUrl('image/png', readFileSync(photo)), mime: 'image/png' });
    expect(b.url).toBe(a.url);
    expect(c.url).toBe(a.url);
    expect(enc.stats).toMatchObject({ encodes: 1, memoryHits: 2 });
  });

  it('persists to cacheDir so a new encoder reuses it', async () => {
    const cache = cacheDir();
    const first = fresh({ cacheDir: cache });
    const a = await first.encode(file(photo));
    const stored = join(cache, `${a.sha256}-512.jpg`);
    expect(readFileSync(stored).equals(decodeUrl(a.url))).toBe(true);

    const second = fresh({ cacheDir: cache });
    const b = await second.encode(file(photo));
    expect(b.url).toBe(a.url);
    expect(b).toEqual(a);
    expect(second.stats).toMatchObject({ encodes: 0, diskHits: 1, memoryHits: 0 });

    // Another maxSide is another entry.
    const third = new ImageEncoder({ maxSide: 256, cacheDir: cache });
    const c = await third.encode(file(photo));
    expect(c.width).toBe(256);
    expect(third.stats.encodes).toBe(1);
    expect(existsSync(join(cache, `${a.sha256}-256.jpg`))).toBe(true);
  });

  it('ignores and rebuilds a truncated or corrupt cached file', async () => {
    const cache = cacheDir();
    const a = await fresh({ cacheDir: cache }).encode(file(photo));
    const stored = join(cache, `${a.sha256}-512.jpg`);
    const good = readFileSync(stored);

    writeFileSync(stored, good.subarray(0, good.length >> 1));
    const truncated = fresh({ cacheDir: cache });
    expect((await truncated.encode(file(photo))).url).toBe(a.url);
    expect(truncated.stats).toMatchObject({ encodes: 1, diskHits: 0, diskRejects: 1 });
    expect(readFileSync(stored).equals(good)).toBe(true);

    const flipped = Buffer.from(good);
    flipped[flipped.length >> 1] ^= 0xff;
    writeFileSync(stored, flipped);
    const corrupt = fresh({ cacheDir: cache });
    expect((await corrupt.encode(file(photo))).url).toBe(a.url);
    expect(corrupt.stats).toMatchObject({ encodes: 1, diskRejects: 1 });

    writeFileSync(join(cache, `${a.sha256}-512.json`), '{"recipe":');
    const badSidecar = fresh({ cacheDir: cache });
    expect((await badSidecar.encode(file(photo))).url).toBe(a.url);
    expect(badSidecar.stats).toMatchObject({ encodes: 1, diskRejects: 1 });

    const healed = fresh({ cacheDir: cache });
    await healed.encode(file(photo));
    expect(healed.stats).toMatchObject({ encodes: 0, diskHits: 1 });
  });

  it('bounds the memory cache (LRU by data URL size)', async () => {
    const other = put('photo-2.png', await noisyPng(640, 480));
    const one = (await fresh().encode(file(photo))).url.length;
    const enc = fresh({ memoryBudgetBytes: Math.ceil(one * 1.5) });
    await enc.encode(file(photo));
    await enc.encode(file(other)); // evicts photo
    await enc.encode(file(photo));
    expect(enc.stats).toMatchObject({ encodes: 3, memoryHits: 0 });
    await enc.encode(file(photo));
    expect(enc.stats).toMatchObject({ encodes: 3, memoryHits: 1 });
  });

  it('notices a file that changed on disk', async () => {
    const path = put('changing.png', await noisyPng(300, 200));
    const enc = fresh();
    const a = await enc.encode(file(path));
    writeFileSync(path, await noisyPng(320, 200));
    const b = await enc.encode(file(path));
    expect(b.sha256).not.toBe(a.sha256);
    expect(b.width).toBe(320);
    expect(enc.stats.encodes).toBe(2);
  });

  it('runs one encode for 10 concurrent requests of one image', async () => {
    const enc = fresh();
    const results = await Promise.all(Array.from({ length: 10 }, () => enc.encode(file(photo))));
    expect(enc.stats.encodes).toBe(1);
    expect(new Set(results).size).toBe(1);

    const enc2 = fresh();
    const copies = ['c1.png', 'c2.png', 'c3.png'].map((name) => put(name, readFileSync(photo)));
    const urls = await Promise.all(copies.flatMap((p) => [enc2.encode(file(p)), enc2.encode(file(p))]));
    expect(enc2.stats.encodes).toBe(1);
    expect(new Set(urls.map((u) => u.url)).size).toBe(1);
  });
});

describe('ImageEncoder: inputs and errors', () => {
  it('decodes a data URL', async () => {
    const png = await noisyPng(900, 300);
    const enc = await fresh().encode({ kind: 'data', url: dataUrl('image/png', png), mime: 'image/png' });
    expect(enc).toMatchObject({
      width: 512,
      height: 171,
      mime: 'image/jpeg',
      sha256: sha(png),
      originalBytes: png.length,
    });
  });

  it('names the file and sharp’s reason for a truncated image', async () => {
    const png = await noisyPng(200, 200);
    const path = put('truncated.png', png.subarray(0, png.length >> 1));
    const err = await fresh()
      .encode(file(path))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageError);
    expect((err as ImageError).message).toMatch(new RegExp(`^${path}: not a decodable image \\(.+\\)$`));
    expect((err as ImageError).source).toBe(path);
  });

  it('names the file for a non-image, a truncated JPEG and a missing file', async () => {
    const text = put('not-an-image.png', Buffer.from('hello'));
    await expect(fresh().encode(file(text))).rejects.toThrow(`${text}: not a decodable image (`);
    const jpeg = await sharp(rawPixels(200, 200, 3), { raw: { width: 200, height: 200, channels: 3 } })
      .jpeg()
      .toBuffer();
    const cut = put('truncated.jpg', jpeg.subarray(0, jpeg.length - 2000));
    await expect(fresh().encode(file(cut))).rejects.toThrow(`${cut}: not a decodable image (`);
    const missing = join(dir, 'missing.png');
    await expect(fresh().encode(file(missing))).rejects.toThrow(new ImageError(missing, 'file not found').message);
  });

  it('names a bad data URL', async () => {
    const err = await fresh()
      .encode({ kind: 'data', url: 'data:image/png;base64,aGVsbG8=', mime: 'image/png' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageError);
    expect((err as Error).message).toMatch(/^data URL data:image\/png;base64,… \(\d+ chars\): not a decodable image/);
  });

  it('a failed encode is not cached: the next call tries again', async () => {
    const path = put('later.png', Buffer.from('not yet'));
    const enc = fresh();
    await expect(enc.encode(file(path))).rejects.toBeInstanceOf(ImageError);
    writeFileSync(path, await noisyPng(50, 50));
    await expect(enc.encode(file(path))).resolves.toMatchObject({ width: 50 });
  });

  it('computes identities', async () => {
    const png = await noisyPng(40, 40);
    const path = put('id.png', png);
    expect(await imageIdentity(file(path))).toBe(sha(png));
    expect(await imageIdentity({ kind: 'data', url: dataUrl('image/png', png), mime: 'image/png' })).toBe(sha(png));
    expect(await fresh().identity(file(path))).toBe(sha(png));
  });
});

describe('ImageEncoder: http(s) URLs', () => {
  let server: Server;
  let base: string;
  let png: Buffer;
  const hits = new Map<string, number>();
  beforeAll(async () => {
    png = await noisyPng(1000, 500);
    server = createServer((req, res) => {
      hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
      if (req.url === '/img.png') {
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length });
        res.end(png);
      } else if (req.url === '/slow.png') {
        setTimeout(() => res.writeHead(200).end(png), 2000);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('nope');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('fetches, encodes, and does not fetch again for a cached URL', async () => {
    const enc = fresh();
    const a = await enc.encode({ kind: 'url', url: `${base}/img.png` });
    expect(a).toMatchObject({
      width: 512,
      height: 256,
      mime: 'image/jpeg',
      sha256: sha(png),
      originalBytes: png.length,
    });
    const b = await enc.encode({ kind: 'url', url: `${base}/img.png` });
    expect(b).toBe(a);
    expect(hits.get('/img.png')).toBe(1);
    expect(enc.stats).toMatchObject({ encodes: 1, memoryHits: 1 });
  });

  it('names the URL on a 404', async () => {
    const url = `${base}/missing.png`;
    const err = await fresh()
      .encode({ kind: 'url', url })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageError);
    expect((err as Error).message).toBe(`${url}: HTTP 404 Not Found`);
  });

  it('names the URL on a timeout', async () => {
    const url = `${base}/slow.png`;
    await expect(fresh({ fetchTimeoutMs: 150 }).encode({ kind: 'url', url })).rejects.toThrow(
      `${url}: fetch timed out after 150 ms`,
    );
  });

  it('names the URL when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/x.png`;
    await new Promise((resolve) => closed.close(resolve));
    await expect(fresh().encode({ kind: 'url', url })).rejects.toThrow(`${url}: fetch failed (ECONNREFUSED`);
  });
});
