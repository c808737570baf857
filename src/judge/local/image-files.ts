// llama.cpp takes images as file paths: each encoded image (already resized by our encoder) is written
// once, under its content hash, to a folder shared by the process.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EncodedImage } from '../images/encoder.js';

const EXT: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
};

export class ImageFiles {
  private readonly written = new Map<string, Promise<string>>();
  private ready?: Promise<unknown>;

  constructor(readonly dir: string = join(tmpdir(), `arr-judge-images-${process.getuid?.() ?? 'user'}`)) {}

  /** The path of the bytes the HTTP judge would receive for this image. */
  path(image: EncodedImage): Promise<string> {
    const name = `${image.sha256}-${image.width}x${image.height}.${EXT[image.mime] ?? 'img'}`;
    let done = this.written.get(name);
    if (!done) {
      done = this.write(image, join(this.dir, name));
      done.catch(() => this.written.delete(name));
      this.written.set(name, done);
    }
    return done;
  }

  private async write(image: EncodedImage, path: string): Promise<string> {
    this.ready ??= mkdir(this.dir, { recursive: true });
    await this.ready;
    const payload = Buffer.from(image.url.slice(image.url.indexOf(',') + 1), 'base64');
    // Written under a unique name then renamed, so a reader never sees a partial file.
    const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    await writeFile(tmp, payload);
    await rename(tmp, path);
    return path;
  }
}
