import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkImage, checkImages, isInside } from '../../src/data/images.js';
import type { ImageUse } from '../../src/data/normalize.js';
import type { ImageRef } from '../../src/data/types.js';
import { pngBytes, removeDir, tempDir, write, writePng, writeTruncatedPng } from './helpers.js';

const root = tempDir('arr-img-root-');
const outside = tempDir('arr-img-out-');
const opts = { allowedRoots: [root] };
const file = (path: string): ImageRef => ({ kind: 'file', path });

let good: string;
let truncated: string;
let secret: string;
beforeAll(async () => {
  good = await writePng(root, 'img/good.png', 40, 30);
  truncated = await writeTruncatedPng(root, 'img/truncated.png');
  write(root, 'img/not-an-image.png', 'hello');
  secret = await writePng(outside, 'secret.png');
  symlinkSync(secret, join(root, 'img/escape.png'));
  symlinkSync(good, join(root, 'img/alias.png'));
});
afterAll(() => {
  removeDir(root);
  removeDir(outside);
});

describe('checkImage', () => {
  it('accepts a decodable image inside an allowed root and reports its size', async () => {
    expect(await checkImage(file(good), opts)).toMatchObject({
      ok: true,
      checked: true,
      format: 'png',
      width: 40,
      height: 30,
      realPath: good,
    });
  });

  it('reports a missing file', async () => {
    const p = join(root, 'img/missing.png');
    expect(await checkImage(file(p), opts)).toMatchObject({ ok: false, message: `image not found: ${p}` });
  });

  it('reports a folder', async () => {
    expect(await checkImage(file(join(root, 'img')), opts)).toMatchObject({
      ok: false,
      message: `${join(root, 'img')} is not a file`,
    });
  });

  it('reports a truncated PNG as undecodable, with sharp’s reason', async () => {
    const r = await checkImage(file(truncated), opts);
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.message).toMatch(new RegExp(`^${truncated} is not a decodable image \\(.+\\)$`));
  });

  it('reports a non-image as undecodable', async () => {
    const p = join(root, 'img/not-an-image.png');
    expect(await checkImage(file(p), opts)).toMatchObject({
      ok: false,
      message: `${p} is not a decodable image (Input file contains unsupported image format)`,
    });
  });

  it('refuses a file outside the allowed roots without decoding it', async () => {
    expect(await checkImage(file(secret), opts)).toMatchObject({
      ok: false,
      message: `${secret} is outside the allowed roots (${root}); add its folder to data.allowed_roots`,
    });
    expect(await checkImage(file(secret), { allowedRoots: [] })).toMatchObject({
      ok: false,
      message: expect.stringContaining('(none)'),
    });
    expect(await checkImage(file(secret), { allowedRoots: [root, outside] })).toMatchObject({ ok: true });
  });

  it('refuses a symlink inside the root that points outside it', async () => {
    const link = join(root, 'img/escape.png');
    expect(await checkImage(file(link), opts)).toMatchObject({
      ok: false,
      message: `${link} (a link to ${secret}) is outside the allowed roots (${root}); add its folder to data.allowed_roots`,
    });
  });

  it('accepts a symlink that stays inside the root', async () => {
    expect(await checkImage(file(join(root, 'img/alias.png')), opts)).toMatchObject({ ok: true, realPath: good });
  });

  it('decodes data URLs and does not fetch http(s) URLs', async () => {
    const url = `data:image/png;base64,${(await pngBytes(5, 7)).toString('base64')}`;
    expect(await checkImage({ kind: 'data', url, mime: 'image/png' }, opts)).toMatchObject({
      ok: true,
      checked: true,
      width: 5,
      height: 7,
    });
    const bad = await checkImage({ kind: 'data', url: 'data:image/png;base64,aGVsbG8=', mime: 'image/png' }, opts);
    expect(bad).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^data URL data:image\/png;base64,aGVsbG8= is not a decodable image/),
    });
    expect(await checkImage({ kind: 'url', url: 'https://example.invalid/a.png' }, opts)).toMatchObject({
      ok: true,
      checked: false,
    });
  });
});

describe('checkImages', () => {
  const use = (ref: ImageRef, i: number): ImageUse => ({
    ref,
    role: 'candidate',
    at: { file: '/d/seed.jsonl', line: i + 1, col: 5, field: `records[${i}].response[0]` },
  });

  it('checks each distinct image once and reports at the first use', async () => {
    const missing = join(root, 'gone.png');
    const uses = [file(good), file(missing), file(good), file(missing), file(missing)].map(use);
    const r = await checkImages(uses, { ...opts, concurrency: 2 });
    expect(r.results.size).toBe(2);
    expect(r.diagnostics).toEqual([
      {
        file: '/d/seed.jsonl',
        line: 2,
        col: 5,
        field: 'records[1].response[0]',
        message: `image not found: ${missing} (and 2 more uses in this dataset)`,
      },
    ]);
  });

  it('notes unchecked URLs once, as a warning', async () => {
    const uses = [
      { kind: 'url', url: 'http://a/1.png' },
      { kind: 'url', url: 'http://a/2.png' },
    ].map((r, i) => use(r as ImageRef, i));
    const r = await checkImages(uses, opts);
    expect(r.diagnostics).toEqual([
      expect.objectContaining({
        severity: 'warning',
        line: 1,
        message: '2 image URLs were not checked; the judge fetches them when it runs',
      }),
    ]);
  });

  it('handles many images with bounded parallelism', async () => {
    const many = await Promise.all(Array.from({ length: 12 }, (_, i) => writePng(root, `many/${i}.png`, 8, 8)));
    const r = await checkImages(
      many.map((p, i) => use(file(p), i)),
      opts,
    );
    expect(r.diagnostics).toEqual([]);
    expect([...r.results.values()].every((x) => x.ok)).toBe(true);
  });
});

describe('isInside', () => {
  it('is path-aware, not a string prefix test', () => {
    expect(isInside('/a/b', '/a/b')).toBe(true);
    expect(isInside('/a/b', '/a/b/c.png')).toBe(true);
    expect(isInside('/a/b', '/a/bc/d.png')).toBe(false);
    expect(isInside('/a/b', '/a/b/../c.png')).toBe(false);
    expect(isInside('/a/b', '/a/b/..foo.png')).toBe(true);
  });
});
