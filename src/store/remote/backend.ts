import type { Readable } from 'node:stream';
import { ArrError } from '../../util/errors.js';

/** One object of a remote, by its path below the remote's root (`<kind>/<key>/<file>`). */
export interface RemoteObject {
  path: string;
  size: number;
}

/**
 * The few operations the artifact remote needs from storage, so S3 and a shared folder share one
 * transfer protocol (src/store/remote/transfer.ts). Paths are `/`-separated and relative to the root.
 */
export interface RemoteBackend {
  /** The remote as the user wrote it, without credentials; safe to print. */
  readonly url: string;
  /** The object's size in bytes, or undefined when it does not exist. */
  size(path: string): Promise<number | undefined>;
  /** The object's bytes from offset `start` to its end (a Range request on S3). */
  read(path: string, start: number): Promise<Readable>;
  /** Stores a local file as the object at `path`, calling `onBytes` with each chunk's length as it goes. */
  write(path: string, file: string, size: number, onBytes?: (n: number) => void): Promise<void>;
  /** Every object whose path starts with `prefix`. */
  list(prefix: string): Promise<RemoteObject[]>;
  /** Throws a RemoteError saying what is missing when this process cannot write (no credentials, no folder). */
  checkWritable(): Promise<void>;
}

/** A remote that cannot be reached or used; carries what to do next. */
export class RemoteError extends ArrError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options);
  }
}

/** Joins path parts with `/`, dropping empty ones. */
export const remotePath = (...parts: string[]): string => parts.filter((p) => p !== '').join('/');
