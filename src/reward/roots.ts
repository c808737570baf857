// Which local images a request may name: files under the workspace, `reward.allowed_roots` and the
// roots given at start, checked after resolving symlinks. Every refusal reads the same, whether the
// file is missing, unreadable, a folder or outside the roots, so answers never tell which files exist.
import { constants } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { ImageRef } from '../data/types.js';
import { isInside } from '../manifest/paths.js';
import { HttpError } from './http.js';

const DATA_URL = /^data:(image\/[a-z0-9.+-]+);base64,/i;

export class AllowedRoots {
  private constructor(
    /** The roots as configured, for messages. */
    readonly declared: string[],
    /** The roots and their real paths. */
    private readonly real: string[],
  ) {}

  /** Resolves each root through symlinks once; a root that does not exist is kept as written. */
  static async create(roots: string[]): Promise<AllowedRoots> {
    const declared = [...new Set(roots.map((r) => resolve(r)))];
    const real = await Promise.all(declared.map((r) => realpath(r).catch(() => r)));
    return new AllowedRoots(declared, [...new Set([...declared, ...real])]);
  }

  /** A request's image value as an image reference: a `data:image/…;base64,` URL or an allowed file. */
  async imageRef(value: string, field: string): Promise<ImageRef> {
    const data = DATA_URL.exec(value);
    if (data) return { kind: 'data', url: value, mime: data[1].toLowerCase() };
    if (/^[a-z][a-z0-9+.-]*:/i.test(value) && !isAbsolute(value))
      throw new HttpError(
        400,
        `${field}: ${value.slice(0, 80)} is neither a local path nor a data:image/...;base64, URL`,
      );
    if (!isAbsolute(value))
      throw new HttpError(
        400,
        `${field}: ${value.slice(0, 200)} is relative; send absolute paths (the Python client makes them absolute)`,
      );
    const real = await this.readableFile(value);
    if (!real)
      throw new HttpError(
        400,
        `${field}: ${value.slice(0, 200)} is not a readable file under the allowed roots (${this.declared.join(', ')})`,
      );
    return { kind: 'file', path: real };
  }

  /** The real path of `path` when it is a readable regular file inside a root, else undefined. */
  private async readableFile(path: string): Promise<string | undefined> {
    try {
      const real = await realpath(path);
      if (!this.real.some((root) => isInside(real, root))) return undefined;
      if (!(await stat(real)).isFile()) return undefined;
      await access(real, constants.R_OK);
      return real;
    } catch {
      return undefined;
    }
  }
}
