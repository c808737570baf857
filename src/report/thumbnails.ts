// Thumbnails for report pages: small JPEG data: URLs of each item's images, and SVG placeholders that say
// why an image is missing. A bad image never fails the report; it becomes a placeholder with a note.
import { readFile } from 'node:fs/promises';
import type { ImageRef } from '../data/types.js';
import { dataUrl, dataUrlBytes } from '../util/data-url.js';
import { esc } from './html.js';

/** One thumbnail: a data: URL, optionally with a note (why it is a placeholder) shown as alt/title. */
export interface ThumbnailImage {
  url: string;
  note?: string;
}
export type Thumbnail = string | ThumbnailImage;

/** Thumbnails of one item: the source (edit) and each candidate, in candidate order. */
export interface ItemThumbnails {
  source?: Thumbnail;
  candidates: Thumbnail[];
}

const PLACEHOLDER_W = 160;
const PLACEHOLDER_H = 120;

/** An SVG placeholder (a data: URL that loads like any image) with a short message drawn on it. */
export function placeholderDataUrl(message: string, side = PLACEHOLDER_W): string {
  const w = side;
  const h = Math.round((side * PLACEHOLDER_H) / PLACEHOLDER_W);
  const words = message.replace(/\s+/g, ' ').trim().split(' ');
  const lines: string[] = [];
  const perLine = Math.max(8, Math.floor(w / 7));
  for (const word of words) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 1 + word.length <= perLine) lines[last] += ` ${word}`;
    else lines.push(word.length > perLine ? `${word.slice(0, perLine - 1)}…` : word);
  }
  const maxLines = Math.max(1, Math.floor((h - 16) / 14));
  if (lines.length > maxLines) {
    lines.length = maxLines;
    lines[maxLines - 1] = `${lines[maxLines - 1].slice(0, perLine - 1)}…`;
  }
  const y0 = h / 2 - ((lines.length - 1) * 14) / 2 + 4;
  const text = lines.map((l, i) => `<text x="${w / 2}" y="${y0 + i * 14}">${esc(l)}</text>`).join('');
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">` +
    `<rect x="0.5" y="0.5" width="${w - 1}" height="${h - 1}" fill="#f3f3f3" stroke="#b0b0b0" stroke-dasharray="4 3"/>` +
    `<g font-family="sans-serif" font-size="11" fill="#666" text-anchor="middle">${text}</g></svg>`;
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

const firstLine = (err: unknown): string => String((err as Error)?.message ?? err).split('\n')[0];

function describe(ref: ImageRef): string {
  if (ref.kind === 'file') return ref.path;
  return ref.url.length > 60 ? `${ref.url.slice(0, 60)}…` : ref.url;
}

/**
 * Small JPEG data URLs (longer side at most `side`, default 160) of each item's source and candidates.
 * Files and data: URLs are decoded with sharp; http(s) URLs are not fetched (a placeholder says so). An
 * image that is missing or cannot be decoded becomes a placeholder whose note says why; this never
 * throws for a bad image. At most `concurrency` (default 4) images are decoded at once; an image shared
 * by several items is decoded once.
 */
export async function makeThumbnails(
  items: readonly { index: number; source?: ImageRef; candidates: readonly ImageRef[] }[],
  opts: { side?: number; concurrency?: number; quality?: number } = {},
): Promise<Map<number, { source?: ThumbnailImage; candidates: ThumbnailImage[] }>> {
  const side = Math.max(16, Math.round(opts.side ?? 160));
  const limit = Math.max(1, Math.floor(opts.concurrency ?? 4));
  const quality = opts.quality ?? 72;
  const { default: sharp } = await import('sharp');

  type Thumb = ThumbnailImage;
  const memo = new Map<string, Promise<Thumb>>();
  let active = 0;
  const waiting: (() => void)[] = [];
  const slot = async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };

  const render = async (ref: ImageRef): Promise<Thumb> => {
    if (ref.kind === 'url' && !ref.url.startsWith('data:')) {
      const note = `remote image, not fetched: ${describe(ref)}`;
      return { url: placeholderDataUrl('remote image (not fetched)', side), note };
    }
    let input: Buffer;
    try {
      input = ref.kind === 'file' ? await readFile(ref.path) : dataUrlBytes(ref.url);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const reason = e.code === 'ENOENT' ? 'file not found' : e.code === 'EACCES' ? 'permission denied' : firstLine(e);
      return {
        url: placeholderDataUrl(e.code === 'ENOENT' ? 'image not found' : 'image unreadable', side),
        note: `${describe(ref)}: ${reason}`,
      };
    }
    try {
      if (input.length === 0) throw new Error('empty image');
      const out = await sharp(input, { failOn: 'error' })
        .rotate()
        .resize(side, side, { fit: 'inside', withoutEnlargement: true })
        .flatten({ background: '#ffffff' })
        .jpeg({ quality })
        .toBuffer();
      return { url: dataUrl('image/jpeg', out) };
    } catch (err) {
      return { url: placeholderDataUrl('image cannot be decoded', side), note: `${describe(ref)}: ${firstLine(err)}` };
    }
  };

  const thumb = (ref: ImageRef): Promise<Thumb> => {
    const key = ref.kind === 'file' ? `file:${ref.path}` : `url:${ref.url}`;
    let p = memo.get(key);
    if (!p) {
      p = slot(() => render(ref));
      memo.set(key, p);
    }
    return p;
  };

  const out = new Map<number, { source?: Thumb; candidates: Thumb[] }>();
  await Promise.all(
    items.map(async (item) => {
      const [source, candidates] = await Promise.all([
        item.source ? thumb(item.source) : undefined,
        Promise.all(item.candidates.map(thumb)),
      ]);
      out.set(item.index, source ? { source, candidates } : { candidates });
    }),
  );
  return out;
}
