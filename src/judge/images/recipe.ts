// The sharp recipe: how one image is decoded, oriented, shrunk and re-encoded for a judge (or sent as is).
//
// Each image is decoded once, auto-oriented, shrunk so its longer side is at most `maxSide`, and
// re-encoded (JPEG q90 4:4:4 when opaque; PNG or lossless WebP when it has real transparency). The
// original bytes are kept instead whenever they are already small enough, in a format judges accept,
// and no larger than the re-encode.
import type { Metadata, Sharp, SharpConstructor } from 'sharp';
import { ImageError } from './image-error.js';

/** Bump when the encoding recipe changes, so cached files from an older recipe are rebuilt. */
export const RECIPE = 1;
/**
 * JPEG for opaque images: quality 90 with 4:4:4 chroma (no chroma subsampling, so thin coloured lines
 * in judge inputs survive), mozjpeg preset. Measured on a noisy 768² image with thin red lines: plain
 * libjpeg 82.9 kB / 44.0 dB PSNR / 28 ms, trellis-only 73.3 kB / 43.9 dB / 51 ms, mozjpeg 65.1 kB /
 * 44.5 dB / 109 ms: smaller and better, at a cost paid once per image (the result is cached).
 */
const JPEG_OPTIONS = { quality: 90, chromaSubsampling: '4:4:4', mozjpeg: true } as const;

export type Format = 'jpeg' | 'png' | 'webp' | 'gif';
export const MIME: Record<Format, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
};
export const EXT: Record<Format, string> = { jpeg: 'jpg', png: 'png', webp: 'webp', gif: 'gif' };

/** One prepared image, before it becomes a data URL. */
export interface Payload {
  bytes: Buffer;
  format: Format;
  width: number;
  height: number;
  reencoded: boolean;
}

let sharpModule: Promise<typeof import('sharp')> | undefined;
/** Loaded on first use, so modules that only import the judge client never load libvips. */
function loadSharp(): Promise<typeof import('sharp')> {
  sharpModule ??= import('sharp');
  return sharpModule;
}

/** Decodes, orients and resizes `input` once, then picks the smallest faithful encoding (or the original). */
export async function prepare(input: Buffer, maxSide: number, name: string): Promise<Payload> {
  const { default: sharp } = await loadSharp();
  const open = (): Sharp => sharp(input, { failOn: 'error' });
  let meta: Metadata;
  let raw: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    meta = await open().metadata();
    raw = await open()
      .autoOrient()
      .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new ImageError(name, `not a decodable image (${firstLine(err)})`, { cause: err });
  }
  const { width, height, channels } = raw.info;
  const encoded = await encodeRaw(sharp, raw.data, width, height, channels);

  // Send the original when judges accept its format, it shows what we decoded (upright, one frame,
  // plain sRGB or grey), it needs no resizing, and it is no larger than the re-encode (ties go to the
  // original: it is the faithful one).
  const original = asFormat(meta.format);
  if (original && sendableAsIs(meta, maxSide) && input.length <= encoded.bytes.length) {
    return { bytes: input, format: original, width: meta.width!, height: meta.height!, reencoded: false };
  }
  return { ...encoded, width, height, reencoded: true };
}

async function encodeRaw(
  sharp: SharpConstructor,
  data: Buffer,
  width: number,
  height: number,
  channels: number,
): Promise<{ bytes: Buffer; format: Format }> {
  const from = () => sharp(data, { raw: { width, height, channels: channels as 1 | 2 | 3 | 4 } });
  const hasAlphaChannel = channels === 2 || channels === 4;
  const translucent = hasAlphaChannel && !alphaIsOpaque(data, channels);

  if (!translucent) {
    const opaque = () => (hasAlphaChannel ? from().removeAlpha() : from());
    let best: { bytes: Buffer; format: Format } = {
      bytes: await opaque().jpeg(JPEG_OPTIONS).toBuffer(),
      format: 'jpeg',
    };
    // Few colours (diagrams, flat renders): a palette PNG is lossless and usually smaller than JPEG.
    if (fewColours(data, channels)) {
      const png = await palettePng(sharp, opaque(), data, width, height, channels);
      if (png && png.length < best.bytes.length) best = { bytes: png, format: 'png' };
    }
    return best;
  }

  let best: { bytes: Buffer; format: Format } | undefined;
  if (fewColours(data, channels)) {
    const png = await palettePng(sharp, from(), data, width, height, channels);
    if (png) best = { bytes: png, format: 'png' };
  }
  if (!best) best = { bytes: await from().png({ adaptiveFiltering: true }).toBuffer(), format: 'png' };
  const webp = await from().webp({ lossless: true, effort: 4 }).toBuffer();
  if (webp.length < best.bytes.length) best = { bytes: webp, format: 'webp' };
  return best;
}

/** A palette PNG of `img`, or undefined when quantisation changed a visible pixel. */
async function palettePng(
  sharp: SharpConstructor,
  img: Sharp,
  data: Buffer,
  width: number,
  height: number,
  channels: number,
): Promise<Buffer | undefined> {
  const png = await img.png({ palette: true, colours: 256, dither: 0, compressionLevel: 9 }).toBuffer();
  // Check it round-trips: libimagequant may move colours. Fully transparent pixels may change colour.
  const back = await sharp(png).ensureAlpha().raw().toBuffer();
  const n = width * height;
  if (back.length !== n * 4) return undefined;
  for (let p = 0; p < n; p++) {
    const a = channels === 2 || channels === 4 ? data[p * channels + channels - 1] : 255;
    if (back[p * 4 + 3] !== a) return undefined;
    if (a === 0) continue;
    if (channels >= 3) {
      if (
        back[p * 4] !== data[p * channels] ||
        back[p * 4 + 1] !== data[p * channels + 1] ||
        back[p * 4 + 2] !== data[p * channels + 2]
      )
        return undefined;
    } else {
      const g = data[p * channels];
      if (back[p * 4] !== g || back[p * 4 + 1] !== g || back[p * 4 + 2] !== g) return undefined;
    }
  }
  return png;
}

/** True when the original can go to a judge unchanged: no EXIF rotation, one frame, sRGB/grey, small enough. */
function sendableAsIs(meta: Metadata, maxSide: number): boolean {
  if ((meta.orientation ?? 1) !== 1) return false;
  if ((meta.pages ?? 1) > 1) return false;
  if (meta.width === undefined || meta.height === undefined || Math.max(meta.width, meta.height) > maxSide)
    return false;
  if (meta.space !== undefined && meta.space !== 'srgb' && meta.space !== 'b-w') return false;
  // An embedded profile other than sRGB (Display P3, Adobe RGB…) is ignored by many judge-side decoders;
  // the re-encode has been converted to sRGB.
  if (meta.icc && !meta.icc.includes(SRGB_ASCII) && !meta.icc.includes(SRGB_UTF16BE)) return false;
  return true;
}

const SRGB_ASCII = Buffer.from('sRGB', 'latin1');
/** ICC v4 `mluc` descriptions are UTF-16BE. */
const SRGB_UTF16BE = Buffer.from('\0s\0R\0G\0B', 'latin1');

function alphaIsOpaque(data: Buffer, channels: number): boolean {
  for (let i = channels - 1; i < data.length; i += channels) if (data[i] !== 255) return false;
  return true;
}

/** True when the pixels use at most 256 distinct colours (alpha included). Stops at the 257th. */
function fewColours(data: Buffer, channels: number): boolean {
  const seen = new Set<number>();
  for (let i = 0; i < data.length; i += channels) {
    let v = 0;
    for (let c = 0; c < channels; c++) v = v * 256 + data[i + c];
    if (!seen.has(v)) {
      seen.add(v);
      if (seen.size > 256) return false;
    }
  }
  return true;
}

function asFormat(format: string | undefined): Format | undefined {
  return format === 'jpeg' || format === 'png' || format === 'webp' || format === 'gif' ? format : undefined;
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].trim();
}
