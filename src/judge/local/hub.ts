// Hub access for judge models: the repository's file listing (cached beside the files, so an offline
// machine can still say which files it needs) and resumable, verified downloads.
import { downloadFile, listFiles } from '@huggingface/hub';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { writeFileAtomic } from '../../store/atomic.js';
import { ArrError } from '../../util/errors.js';
import { repoDir } from './models-dir.js';

export interface HubFile {
  path: string;
  size: number;
  /** sha256 of the content (the LFS object id); absent for small files kept in git. */
  sha256?: string;
}
export interface HubListing {
  repo: string;
  revision: string;
  files: HubFile[];
  fetched: string;
}

export interface HubOptions {
  hubUrl: string;
  modelsDir: string;
  accessToken?: string;
  /** How long a listing request may take before the Hub counts as unreachable (default 10 s). */
  timeoutMs?: number;
}

/** The Hub could not be reached or refused; `cause` says how. */
export class HubUnreachableError extends ArrError {
  override name = 'HubUnreachableError';
}
export class DownloadError extends ArrError {
  override name = 'DownloadError';
}

/** How long a download may go without data before it is cut (and left to resume): ARR_DOWNLOAD_STALL_S, default 60. */
const stallMs = () => Number(process.env.ARR_DOWNLOAD_STALL_S || 60) * 1000;

const listingPath = (o: HubOptions, repo: string, revision: string) =>
  join(repoDir(o.modelsDir, repo), `.listing-${revision.replace(/[^\w.-]/g, '_')}.json`);

/** The listing saved by the last successful `listRepository` call, if any. */
export async function cachedListing(o: HubOptions, repo: string, revision: string): Promise<HubListing | undefined> {
  try {
    return JSON.parse(await readFile(listingPath(o, repo, revision), 'utf8')) as HubListing;
  } catch {
    return undefined;
  }
}

/** Every `.gguf` file of a repository at a revision, from the Hub, with sizes and sha256; saved for offline use. */
export async function listRepository(o: HubOptions, repo: string, revision: string): Promise<HubListing> {
  const timeout = AbortSignal.timeout(o.timeoutMs ?? 10_000);
  const timedFetch: typeof fetch = (input, init) =>
    fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
  const files: HubFile[] = [];
  try {
    for await (const entry of listFiles({
      repo: { type: 'model', name: repo },
      revision,
      recursive: true,
      hubUrl: o.hubUrl,
      fetch: timedFetch,
      accessToken: o.accessToken,
    })) {
      if (entry.type === 'file' && entry.path.toLowerCase().endsWith('.gguf'))
        files.push({ path: entry.path, size: entry.lfs?.size ?? entry.size, sha256: entry.lfs?.oid });
    }
  } catch (error) {
    throw new HubUnreachableError(`cannot list ${repo}@${revision} on ${o.hubUrl}: ${describeFailure(error)}`, {
      cause: error,
    });
  }
  const listing: HubListing = { repo, revision, files, fetched: new Date().toISOString() };
  await mkdir(repoDir(o.modelsDir, repo), { recursive: true });
  await writeFileAtomic(listingPath(o, repo, revision), `${JSON.stringify(listing, null, 2)}\n`);
  return listing;
}

export interface DownloadProgress {
  file: string;
  done: number;
  total: number;
}

/**
 * Downloads one file to `dest`: into `dest.part` (resumed from its size when one is left from an
 * interrupted run), checked against the Hub's sha256, then renamed into place, so `dest` is never
 * a partial or unverified file. Free space is checked before the first byte.
 */
export async function downloadVerified(
  o: HubOptions,
  repo: string,
  revision: string,
  file: HubFile,
  dest: string,
  onProgress?: (p: DownloadProgress) => void,
): Promise<void> {
  const part = `${dest}.part`;
  await mkdir(dirname(dest), { recursive: true });
  let have = 0;
  try {
    have = (await stat(part)).size;
    if (have > file.size) {
      await rm(part);
      have = 0;
    }
  } catch {
    /* no partial file */
  }
  const free = await statfs(dirname(dest)).then(
    (s) => s.bavail * s.bsize,
    () => Infinity,
  );
  if (free < file.size - have) {
    throw new DownloadError(
      `not enough free space for ${file.path} in ${dirname(dest)}: it needs ${gib(file.size - have)}, ${gib(free)} is free`,
      {
        hint: 'free some space or set ARR_MODELS_DIR to a disk with room',
      },
    );
  }
  if (have < file.size) {
    let blob: Blob | null;
    try {
      blob = await downloadFile({
        repo: { type: 'model', name: repo },
        path: file.path,
        revision,
        hubUrl: o.hubUrl,
        accessToken: o.accessToken,
        xet: false,
      });
    } catch (error) {
      throw new HubUnreachableError(`cannot download ${repo}/${file.path}: ${describeFailure(error)}`, {
        cause: error,
      });
    }
    if (!blob) throw new DownloadError(`${repo}@${revision} has no file ${file.path}`);
    let done = have;
    // A connection that stalls ends the download (to be resumed) instead of hanging the build.
    const stalled = new AbortController();
    const limit = stallMs();
    const idle = setTimeout(() => stalled.abort(new Error(`no data for ${limit / 1000} s`)), limit);
    const counter = new TransformCounter((n) => {
      done += n;
      idle.refresh();
      onProgress?.({ file: file.path, done, total: file.size });
    });
    try {
      const body = blob.slice(have).stream() as unknown as import('node:stream/web').ReadableStream;
      await pipeline(Readable.fromWeb(body), counter, createWriteStream(part, { flags: have > 0 ? 'a' : 'w' }), {
        signal: stalled.signal,
      });
    } catch (error) {
      throw new DownloadError(
        `download of ${repo}/${file.path} stopped at ${gib(done)} of ${gib(file.size)}: ${describeFailure(stalled.signal.aborted ? stalled.signal.reason : error)}; run the command again to resume`,
        { cause: error },
      );
    } finally {
      clearTimeout(idle);
    }
  }
  const got = await sha256File(part);
  if (file.sha256 && got !== file.sha256) {
    await rm(part, { force: true });
    throw new DownloadError(
      `${repo}/${file.path} does not match the Hub's sha256 (${file.sha256.slice(0, 12)}…, got ${got.slice(0, 12)}…); the partial file was removed, run the command again`,
    );
  }
  await writeFileAtomic(`${dest}.sha256`, `${got}\n`);
  await rename(part, dest);
}

/** sha256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

class TransformCounter extends Transform {
  constructor(private readonly count: (n: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.count(chunk.length);
    done(null, chunk);
  }
}

export const gib = (bytes: number) =>
  bytes >= 1 << 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function describeFailure(error: unknown): string {
  // fetch wraps the socket error (and @huggingface/hub may wrap fetch's): report the innermost cause.
  let e = error as { name?: string; message?: string; code?: string; cause?: unknown } | undefined;
  while (e?.cause && typeof e.cause === 'object') e = e.cause as typeof e;
  if (e?.name === 'TimeoutError' || e?.code === 'UND_ERR_CONNECT_TIMEOUT') return 'no answer in time';
  if (e?.code) return e.code === 'ECONNREFUSED' ? 'connection refused' : e.code;
  return e?.message ?? String(error);
}
