// Reading a user's input file safely: only a regular file, never more than a limit, and only valid
// UTF-8. A device (`/dev/zero`), a FIFO or a directory is refused before it is opened for reading,
// and a file over the limit before a byte of it is read, so a bad path fails at once.
import { isUtf8 } from 'node:buffer';
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';

const MiB = 1024 * 1024;
/** Default most bytes of a manifest or a base it extends (`ARR_MAX_MANIFEST_BYTES`). */
export const DEFAULT_MAX_MANIFEST_BYTES = MiB;
/** Default most bytes of a dataset or a prompt list (`ARR_MAX_DATASET_BYTES`). */
export const DEFAULT_MAX_DATASET_BYTES = 2 * 1024 * MiB;

/** A byte limit read from an environment variable (a positive integer), or its default. */
export function byteLimit(
  variable: 'ARR_MAX_MANIFEST_BYTES' | 'ARR_MAX_DATASET_BYTES',
  env: Record<string, string | undefined> = process.env,
): number {
  const fallback = variable === 'ARR_MAX_MANIFEST_BYTES' ? DEFAULT_MAX_MANIFEST_BYTES : DEFAULT_MAX_DATASET_BYTES;
  const raw = env[variable];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

/** What kind of thing a path is, in words, for refusals. */
function kindOf(s: Stats): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** A file refused before or while reading it; `message` does not repeat the path. */
export class InputFileProblem extends Error {
  constructor(
    message: string,
    /** 1-based line and column, when the problem has a place in the file (invalid UTF-8). */
    readonly line?: number,
    readonly col?: number,
  ) {
    super(message);
    this.name = 'InputFileProblem';
  }
  /** The operating system's error, when the file could not even be examined. */
  osError?: NodeJS.ErrnoException;
}

/** Throws InputFileProblem unless `path` (symlinks followed) is a regular file of at most `limit` bytes. */
export function checkRegularFile(path: string, limit: number, limitVariable: string): Stats {
  let s: Stats;
  try {
    s = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem = new InputFileProblem(
      code === 'ENOENT' || code === 'ENOTDIR'
        ? 'file not found'
        : code === 'EACCES'
          ? 'permission denied'
          : (error as Error).message,
    );
    problem.osError = error as NodeJS.ErrnoException;
    throw problem;
  }
  if (!s.isFile()) throw new InputFileProblem(`${kindOf(s)}, not a regular file`);
  if (s.size > limit) throw new InputFileProblem(`${s.size} bytes, over the ${limit}-byte limit (${limitVariable})`);
  return s;
}

/**
 * The bytes of a regular file of at most `limit` bytes. The file is checked before it is opened
 * (so a FIFO never blocks us), and never more than `limit` bytes are read even if it grows meanwhile.
 */
export function readRegularFileSync(path: string, limit: number, limitVariable: string): Buffer {
  checkRegularFile(path, limit, limitVariable);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new InputFileProblem((error as Error).message);
  }
  try {
    const s = fstatSync(fd);
    if (!s.isFile()) throw new InputFileProblem(`${kindOf(s)}, not a regular file`);
    const buffer = Buffer.allocUnsafe(Math.min(s.size, limit) + 1);
    let filled = 0;
    while (filled < buffer.length) {
      const n = readSync(fd, buffer, filled, buffer.length - filled, null);
      if (n === 0) break;
      filled += n;
    }
    if (filled > limit) throw new InputFileProblem(`more than the ${limit}-byte limit (${limitVariable})`);
    return buffer.subarray(0, filled);
  } finally {
    closeSync(fd);
  }
}

/**
 * Decodes UTF-8 strictly: invalid bytes are an InputFileProblem at their line and column instead of
 * silently becoming U+FFFD (which would reach prompts and keys).
 */
export function decodeUtf8(bytes: Uint8Array, firstLine = 1): string {
  if (isUtf8(bytes)) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  const bad = firstInvalidUtf8(bytes);
  let line = firstLine;
  let lineStart = 0;
  for (let i = 0; i < bad; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  const col = Buffer.from(bytes.buffer, bytes.byteOffset + lineStart, bad - lineStart).toString('utf8').length + 1;
  const shown = Array.from(bytes.subarray(bad, Math.min(bad + 4, bytes.length)), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join(' ');
  throw new InputFileProblem(`invalid UTF-8 (bytes ${shown} at byte ${bad}); save the file as UTF-8`, line, col);
}

/** Offset of the first byte that does not belong to a well-formed UTF-8 sequence. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    let need: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return bytes.length;
}

/** Text files read whole (prompt lists, rubric files) stay below this even when the dataset limit is higher. */
export const MAX_TEXT_BYTES = 256 * 1024 * 1024;

/**
 * A prompt list or similar text file: a regular file within ARR_MAX_DATASET_BYTES (and MAX_TEXT_BYTES),
 * strictly UTF-8. Throws InputFileProblem, located when the bytes are the problem.
 */
export function readListFileSync(path: string, env: Record<string, string | undefined> = process.env): string {
  return decodeUtf8(
    readRegularFileSync(
      path,
      Math.min(byteLimit('ARR_MAX_DATASET_BYTES', env), MAX_TEXT_BYTES),
      'ARR_MAX_DATASET_BYTES',
    ),
  );
}
