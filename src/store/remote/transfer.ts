import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MANIFEST, type ArtifactManifest, type ArtifactStore } from '../artifacts.js';
import type { FileHash } from '../hash.js';
import { ArrError } from '../../util/errors.js';
import { remotePath, type RemoteBackend } from './backend.js';

/** Reports bytes moved so far for one artifact; made per artifact with its total. */
export type ProgressFactory = (label: string, totalBytes: number) => (doneBytes: number) => void;

/** A remote artifact whose manifest or files do not match: never installed, always named by its key. */
export class RemoteArtifactRefusedError extends ArrError {
  constructor(
    readonly url: string,
    readonly kind: string,
    readonly key: string,
    readonly reason: string,
  ) {
    super(`refused remote artifact ${kind}/${key} from ${url}: ${reason}`, {
      hint: `the remote copy is corrupt or incomplete; someone with write access should delete ${url}/${kind}/${key}/ and push it again (unset ARR_CACHE_REMOTE to build locally meanwhile)`,
    });
  }
}

export type PullOutcome = 'pulled' | 'absent';
export type PushOutcome = 'pushed' | 'exists';

/** The remote object path of an artifact's file. */
export const objectPath = (kind: string, key: string, file: string): string => remotePath(kind, key, file);

/** Where partial downloads wait between pulls: `<store>/remote-partial/`. */
export const partialRoot = (storeDir: string): string => join(storeDir, 'remote-partial');

/**
 * Downloads one artifact into the store: every file is hashed while it streams in and must match the
 * sha256 and size its remote artifact.json records, or the artifact is refused naming its key. The
 * complete folder is renamed into the store in one step.
 * @returns 'absent' when the remote has no artifact.json for this key (a partial push counts as absent).
 * @throws RemoteArtifactRefusedError on any mismatch; RemoteError when the remote cannot be read.
 */
export async function pullArtifact(
  remote: RemoteBackend,
  store: ArtifactStore,
  kind: string,
  key: string,
  options: { progress?: ProgressFactory } = {},
): Promise<PullOutcome> {
  const target = store.path(kind, key);
  return downloadArtifact(remote, partialRoot(dirname(store.root)), kind, key, options, async (dir) => {
    await mkdir(dirname(target), { recursive: true });
    try {
      await rename(dir, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw error;
      await rm(dir, { recursive: true, force: true }); // another process installed it first
    }
  });
}

/**
 * Fetches and verifies one remote artifact (artifact.json included) into a folder under `partials`,
 * then hands that folder to `place`, which must move it away. Partial files are kept when a transfer
 * fails, so the next call resumes each file where it stopped (a Range request on S3).
 */
export async function downloadArtifact(
  remote: RemoteBackend,
  partials: string,
  kind: string,
  key: string,
  options: { progress?: ProgressFactory },
  place: (dir: string) => Promise<void>,
): Promise<PullOutcome> {
  const manifestPath = objectPath(kind, key, MANIFEST);
  if ((await remote.size(manifestPath)) === undefined) return 'absent';
  const text = await readAll(remote, manifestPath);
  const manifest = parseRemoteManifest(
    text,
    kind,
    key,
    (reason) => new RemoteArtifactRefusedError(remote.url, kind, key, reason),
  );

  const area = join(partials, kind);
  await mkdir(area, { recursive: true });
  const lock = await takeLock(join(area, `${key}.lock`));
  // A live process holding the lock is pulling the same key: download privately rather than interleave.
  const dir = lock ? join(area, key) : join(area, `${key}.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(dir, { recursive: true });
    const files = Object.entries(manifest.files);
    const total = files.reduce((n, [, f]) => n + f.size, 0);
    const report = options.progress?.(`pull ${kind}/${key.slice(0, 12)}`, total);
    let done = 0;
    const onBytes = (n: number) => {
      done += n;
      report?.(done);
    };
    for (const [name, want] of files) {
      const part = join(dir, ...name.split('/'));
      await mkdir(dirname(part), { recursive: true });
      const got = await download(remote, objectPath(kind, key, name), part, want.size, onBytes);
      if (got.size !== want.size || got.sha256 !== want.sha256) {
        await rm(part, { force: true });
        const detail =
          got.size !== want.size
            ? `${got.size} bytes, expected ${want.size}`
            : `sha256 ${got.sha256}, expected ${want.sha256}`;
        throw new RemoteArtifactRefusedError(remote.url, kind, key, `${name}: ${detail}`);
      }
    }
    report?.(total);
    await writeFile(join(dir, MANIFEST), text);
    await place(dir);
    return 'pulled';
  } catch (error) {
    if (!lock || error instanceof RemoteArtifactRefusedError)
      await rm(dir, { recursive: true, force: true }).catch(() => {});
    throw error;
  } finally {
    if (lock) await rm(lock, { force: true }).catch(() => {});
  }
}

/**
 * Uploads one local artifact (verified first) unless the remote already has it. Files go first and
 * artifact.json last, so an interrupted push never looks like a valid remote artifact; files already
 * uploaded by an interrupted push (same size) are not sent again, and pull verifies every byte anyway.
 */
export async function pushArtifact(
  remote: RemoteBackend,
  store: ArtifactStore,
  kind: string,
  key: string,
  options: { progress?: ProgressFactory } = {},
): Promise<PushOutcome> {
  const manifest = await store.read(kind, key);
  if (!manifest) throw new ArrError(`cannot push ${kind}/${key}: it is not in the local store`);
  if ((await remote.size(objectPath(kind, key, MANIFEST))) !== undefined) return 'exists';
  const dir = store.path(kind, key);
  const files = Object.entries(manifest.files);
  const total = files.reduce((n, [, f]) => n + f.size, 0);
  const report = options.progress?.(`push ${kind}/${key.slice(0, 12)}`, total);
  let done = 0;
  const onBytes = (n: number) => {
    done += n;
    report?.(done);
  };
  for (const [name, want] of files) {
    const path = objectPath(kind, key, name);
    if ((await remote.size(path)) === want.size) {
      onBytes(want.size);
      continue;
    }
    await remote.write(path, join(dir, ...name.split('/')), want.size, onBytes);
  }
  report?.(total);
  const local = join(dir, MANIFEST);
  await remote.write(objectPath(kind, key, MANIFEST), local, (await stat(local)).size);
  return 'pushed';
}

/** One artifact the remote holds (its artifact.json exists). */
export interface RemoteArtifact {
  kind: string;
  key: string;
  files: number;
  bytes: number;
}

/** Complete artifacts on the remote, and how many keys hold files but no artifact.json (interrupted pushes). */
export async function listRemote(remote: RemoteBackend): Promise<{ artifacts: RemoteArtifact[]; incomplete: number }> {
  const groups = new Map<string, { files: number; bytes: number; manifest: boolean }>();
  for (const o of await remote.list('')) {
    const parts = o.path.split('/');
    if (parts.length < 3 || !/^[0-9a-f]{64}$/.test(parts[1])) continue;
    const id = `${parts[0]}/${parts[1]}`;
    const g = groups.get(id) ?? { files: 0, bytes: 0, manifest: false };
    if (parts.length === 3 && parts[2] === MANIFEST) g.manifest = true;
    else {
      g.files++;
      g.bytes += o.size;
    }
    groups.set(id, g);
  }
  const artifacts: RemoteArtifact[] = [];
  let incomplete = 0;
  for (const [id, g] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!g.manifest) {
      incomplete++;
      continue;
    }
    const [kind, key] = id.split('/');
    artifacts.push({ kind, key, files: g.files, bytes: g.bytes });
  }
  return { artifacts, incomplete };
}

/** Streams `path` from offset `have` (what `part` already holds) into `part`, hashing every byte of it. */
async function download(
  remote: RemoteBackend,
  path: string,
  part: string,
  expectedSize: number,
  onBytes: (n: number) => void,
): Promise<FileHash> {
  const hasher = createHash('sha256');
  let have = (await stat(part).catch(() => undefined))?.size ?? 0;
  if (have > expectedSize) {
    await rm(part, { force: true });
    have = 0;
  }
  if (have > 0) {
    for await (const chunk of createReadStream(part)) hasher.update(chunk as Buffer);
    onBytes(have);
  }
  if (have < expectedSize || (expectedSize === 0 && have === 0)) {
    const body = await remote.read(path, have);
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hasher.update(chunk);
        onBytes(chunk.length);
        callback(null, chunk);
      },
    });
    await pipeline(body, tap, createWriteStream(part, { flags: have > 0 ? 'a' : 'w' }));
  }
  return { sha256: hasher.digest('hex'), size: (await stat(part)).size };
}

async function readAll(remote: RemoteBackend, path: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await remote.read(path, 0)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A remote artifact.json, checked for shape, key and safe file names before any file is fetched. */
function parseRemoteManifest(
  text: string,
  kind: string,
  key: string,
  refuse: (reason: string) => Error,
): ArtifactManifest {
  let manifest: ArtifactManifest;
  try {
    manifest = JSON.parse(text) as ArtifactManifest;
  } catch (error) {
    throw refuse(`${MANIFEST} is not valid JSON (${(error as Error).message})`);
  }
  if (typeof manifest !== 'object' || manifest === null || manifest.schema !== 1)
    throw refuse(`${MANIFEST} has an unknown schema`);
  if (manifest.kind !== kind || manifest.key !== key)
    throw refuse(`${MANIFEST} records ${manifest.kind}/${manifest.key}`);
  if (typeof manifest.files !== 'object' || manifest.files === null) throw refuse(`${MANIFEST} has no files table`);
  for (const [name, f] of Object.entries(manifest.files)) {
    const safe =
      name !== MANIFEST && name.split('/').every((p) => p !== '' && p !== '.' && p !== '..' && !p.includes('\\'));
    const hash = f as Partial<FileHash> | null;
    if (!safe || typeof hash?.sha256 !== 'string' || !Number.isSafeInteger(hash.size) || (hash.size as number) < 0) {
      throw refuse(`${MANIFEST} has a malformed files entry ${JSON.stringify(name)}`);
    }
  }
  return manifest;
}

/** Creates `lockFile` holding our pid; takes over one whose holder is dead. Undefined when a live process holds it. */
async function takeLock(lockFile: string): Promise<string | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return lockFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number(await readFile(lockFile, 'utf8').catch(() => ''));
    if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) return undefined;
    await rm(lockFile, { force: true });
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
