import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat, mkdir, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { writeJsonAtomic } from './atomic.js';
import { keyOf } from './canonical-json.js';
import { hashFile, type FileHash, type HashMemo } from './hash.js';
import { acquireKeyLock, describeHolder, type KeyLockOptions } from './key-lock.js';
import type { ArtifactSource } from './sources.js';
import { ArrError } from '../util/errors.js';
import { processAlive } from '../util/process.js';

export const MANIFEST = 'artifact.json';

export interface ArtifactManifest {
  schema: 1;
  kind: string;
  key: string;
  /** ISO time the artifact was built. */
  created: string;
  /** The object the key was computed from, as given to `build`. */
  inputs: unknown;
  /** The experiment whose build produced it (not part of the key); absent for artifacts built outside one. */
  built_by?: string;
  /** Every file of the artifact (relative `/` paths) except artifact.json itself. */
  files: Record<string, FileHash>;
}

export interface ArtifactProblem {
  file: string;
  reason: string;
  expected?: string;
  actual?: string;
}

export class ArtifactCorruptError extends ArrError {
  constructor(
    readonly kind: string,
    readonly key: string,
    readonly dir: string,
    readonly problems: ArtifactProblem[],
  ) {
    super(`artifact ${kind}/${key} in ${dir} is corrupt: ${problems.map(describeProblem).join('; ')}`);
    this.name = 'ArtifactCorruptError';
  }
}

export function describeProblem(p: ArtifactProblem): string {
  const hashes = p.expected !== undefined ? ` (expected ${p.expected}, actual ${p.actual ?? 'none'})` : '';
  return `${p.file}: ${p.reason}${hashes}`;
}

export interface BuildResult {
  key: string;
  dir: string;
  /** True when the returned artifact was not produced by this call (it existed, or a concurrent build won). */
  reused: boolean;
  manifest: ArtifactManifest;
}

export interface ArtifactInfo {
  kind: string;
  key: string;
  created: string;
  /** When the artifact was last built or read (artifact.json's mtime). */
  lastUsed: string;
  bytes: number;
  files: number;
}

export type VerifyResult =
  | { kind: string; key: string; dir: string; ok: true }
  | { kind: string; key: string; dir: string; ok: false; problems: ArtifactProblem[] };

export interface GcOptions {
  /** `kind/key` strings of artifacts still referenced; with it, every other artifact may be removed. */
  keep?: Set<string>;
  /** Only remove unreferenced artifacts not used (built or read) for this many days. */
  olderThanDays?: number;
  dryRun?: boolean;
  /** Age after which an abandoned `.tmp-*` build directory is removed (default 10 minutes). */
  staleTmpMs?: number;
}

export interface GcRemoval {
  kind: string;
  name: string;
  path: string;
  reason: 'stale-tmp' | 'corrupt' | 'unreferenced' | 'old';
  bytes: number;
}

export interface GcResult {
  removed: GcRemoval[];
  bytesFreed: number;
  dryRun: boolean;
}

const KIND = /^[a-z0-9][a-z0-9_-]*$/i;
const KEY = /^[0-9a-f]{64}$/;
const TMP = /^\.tmp-([0-9a-f]{64})-(\d+)-/;
const CORRUPT = /^\.corrupt-[0-9a-f]{64}-/;
const DEFAULT_STALE_TMP_MS = 10 * 60_000;
const HEARTBEAT_MS = 30_000;

/**
 * Content-addressed artifacts under `<cacheDir>/artifacts/<kind>/<key>/`. An artifact appears by one
 * rename of a complete directory whose artifact.json (written last) records every file's sha256, and
 * readers check those hashes before trusting it. Pass a HashMemo to make those checks cost a stat per
 * unchanged file; `verify()` always reads every byte.
 */
export interface ArtifactStoreOptions {
  /** Makes verifying an unchanged file cost a stat. */
  memo?: HashMemo;
  /**
   * Where a missing artifact is fetched from, in order, before it is rebuilt (see artifactFallbacks in
   * src/state/). Each copy is verified against its artifact.json before it enters the store.
   */
  sources?: ArtifactSource[];
  /** Recorded as `built_by` in what this store builds: the experiment building it. */
  owner?: string;
  /** One-line notices: a corrupt artifact moved aside, a refused copy, a wait for another builder. */
  warn?: (line: string) => void;
  /** Per-key build lock timing (tests shorten it). */
  lock?: KeyLockOptions;
}

/** What a cheap look at one key finds, for `arr status`: nothing is moved or rebuilt. */
export type ArtifactState =
  | { state: 'present'; manifest: ArtifactManifest; adopted: boolean }
  | { state: 'corrupt'; problems: ArtifactProblem[] }
  | { state: 'absent' };

export class ArtifactStore {
  readonly root: string;
  private readonly memo?: HashMemo;
  private readonly sources: ArtifactSource[];
  private readonly owner?: string;
  private readonly warn: (line: string) => void;
  private readonly lockOptions: KeyLockOptions;
  /** Keys discarded by this store: never adopted again from a source, whose copy would be the same one. */
  private readonly discarded = new Set<string>();

  constructor(cacheDir: string, options: ArtifactStoreOptions = {}) {
    this.root = join(cacheDir, 'artifacts');
    this.memo = options.memo;
    this.sources = options.sources ?? [];
    this.owner = options.owner;
    this.warn = options.warn ?? ((line) => console.error(line));
    this.lockOptions = options.lock ?? {};
  }

  keyFor(inputs: unknown): string {
    return keyOf(inputs);
  }

  path(kind: string, key: string): string {
    checkKind(kind);
    if (!KEY.test(key)) throw new Error(`invalid artifact key ${JSON.stringify(key)}: expected 64 hex characters`);
    return join(this.root, kind, key);
  }

  /**
   * Whether a valid artifact is available: verified in place (a stat per unchanged file with a memo), or
   * adopted from a source. A corrupt one is moved aside first, so the caller rebuilds it. Unlike `read`,
   * it does not count as a use for `gc --older-than`.
   */
  async has(kind: string, key: string): Promise<boolean> {
    return ((await this.readOrDiscard(kind, key)) ?? (await this.adopt(kind, key))) !== undefined;
  }

  /**
   * The verified manifest, or undefined when there is no valid artifact (then the caller builds it).
   * A miss tries the sources in order; an artifact whose files do not match is moved aside
   * (`.corrupt-<key>-*`, removed by gc) and treated as a miss.
   */
  async read(kind: string, key: string): Promise<ArtifactManifest | undefined> {
    const manifest = (await this.readOrDiscard(kind, key)) ?? (await this.adopt(kind, key));
    if (manifest) await touch(join(this.path(kind, key), MANIFEST));
    return manifest;
  }

  /** Looks without repairing: present (adopting from a source on a miss), corrupt, or absent. */
  async inspect(kind: string, key: string): Promise<ArtifactState> {
    const checked = await this.check(kind, key, this.memo);
    if (checked && 'manifest' in checked) return { state: 'present', manifest: checked.manifest, adopted: false };
    if (checked) return { state: 'corrupt', problems: checked.problems };
    const adopted = await this.adopt(kind, key);
    return adopted ? { state: 'present', manifest: adopted, adopted: true } : { state: 'absent' };
  }

  /**
   * Tries each source for a missing artifact; the first copy that verifies is installed. Returns its
   * manifest, or undefined when no source has a valid copy. Also the entry point for `arr cache push`
   * and `arr status`, which adopt what Nx restored before looking further.
   */
  async adopt(kind: string, key: string): Promise<ArtifactManifest | undefined> {
    if (this.discarded.has(`${kind}/${key}`)) return undefined;
    for (const source of this.sources) {
      if (source.kinds && !source.kinds.includes(kind)) continue;
      await mkdir(join(this.root, kind), { recursive: true });
      const tmp = join(this.root, kind, `.tmp-${key}-${process.pid}-${randomBytes(4).toString('hex')}`);
      await mkdir(tmp);
      try {
        if (!(await source.fetch(kind, key, tmp))) continue;
        const installed = await this.install(kind, key, tmp);
        if ('problems' in installed) {
          this.warn(
            `warning: refused ${kind}/${key} from ${source.name}: ${installed.problems.map(describeProblem).join('; ')}`,
          );
          continue;
        }
        return installed.manifest;
      } finally {
        await rm(tmp, { recursive: true, force: true }).catch(() => {});
      }
    }
    return undefined;
  }

  /** Verifies a complete artifact folder staged in this kind's folder and renames it into place. */
  private async install(
    kind: string,
    key: string,
    staged: string,
  ): Promise<{ manifest: ArtifactManifest } | { problems: ArtifactProblem[] }> {
    const checked = await checkDir(staged, kind, key);
    if (!checked || 'problems' in checked) return checked ?? { problems: [{ file: MANIFEST, reason: 'missing' }] };
    try {
      await rename(staged, this.path(kind, key));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EPERM') throw error;
      const theirs = await this.readOrDiscard(kind, key);
      if (theirs) return { manifest: theirs };
      await rename(staged, this.path(kind, key));
    }
    return checked;
  }

  /**
   * Returns the artifact for `inputs`, calling `producer` to write its files into a fresh temp
   * directory only when no valid artifact exists. A producer error removes the temp directory.
   */
  async build(kind: string, inputs: unknown, producer: (tmpDir: string) => Promise<void>): Promise<BuildResult> {
    const key = this.keyFor(inputs);
    const dir = this.path(kind, key);
    const existing = await this.read(kind, key);
    if (existing) return { key, dir, reused: true, manifest: existing };

    // One builder per key: a second process waits here, then finds the first one's artifact.
    await mkdir(join(this.root, kind), { recursive: true });
    const lock = await acquireKeyLock(join(this.root, kind, `.lock-${key}`), {
      ...this.lockOptions,
      onWait: (holder) =>
        this.warn(`waiting for ${kind}/${key.slice(0, 12)}: ${describeHolder(holder)} is building it`),
    });
    try {
      const built = await this.read(kind, key);
      if (built) return { key, dir, reused: true, manifest: built };
      return await this.produce(kind, key, inputs, producer);
    } finally {
      await lock.release();
    }
  }

  private async produce(
    kind: string,
    key: string,
    inputs: unknown,
    producer: (tmpDir: string) => Promise<void>,
  ): Promise<BuildResult> {
    const dir = this.path(kind, key);
    await this.sweepTmp(kind, key);
    const tmp = join(this.root, kind, `.tmp-${key}-${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(tmp);
    // Touch the temp dir while the producer runs so gc (here or on another host) never takes it for abandoned.
    const heartbeat = setInterval(() => void touch(tmp), HEARTBEAT_MS).unref();
    try {
      await producer(tmp);
      const manifest: ArtifactManifest = {
        schema: 1,
        kind,
        key,
        created: new Date().toISOString(),
        inputs,
        ...(this.owner ? { built_by: this.owner } : {}),
        files: await hashOutputs(tmp),
      };
      await writeJsonAtomic(join(tmp, MANIFEST), manifest);
      for (let attempt = 0; ; attempt++) {
        try {
          await rename(tmp, dir);
          return { key, dir, reused: false, manifest };
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if ((code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EPERM') || attempt >= 3) throw error;
        }
        // Another process installed this key first: use theirs if it verifies, else replace it with ours.
        const theirs = await this.readOrDiscard(kind, key);
        if (theirs) {
          await rm(tmp, { recursive: true, force: true });
          return { key, dir, reused: true, manifest: theirs };
        }
      }
    } catch (error) {
      await rm(tmp, { recursive: true, force: true }).catch(() => {});
      // Our own errors already say what failed and what to do; others get the artifact named.
      throw error instanceof ArrError ? error : prefixed(error, `building artifact ${kind}/${key} in ${dir} failed`);
    } finally {
      clearInterval(heartbeat);
    }
  }

  /**
   * Removes an artifact so the next `build` makes it again (e.g. one built with more failed judge
   * calls than today's limit accepts). It is moved aside first, so readers never see half of it.
   */
  async discard(kind: string, key: string): Promise<void> {
    this.discarded.add(`${kind}/${key}`);
    const dir = this.path(kind, key);
    const aside = join(this.root, kind, `.tmp-${key}-${process.pid}-${randomBytes(4).toString('hex')}-discarded`);
    try {
      await rename(dir, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw prefixed(error, `cannot remove artifact ${dir}`);
    }
    await rm(aside, { recursive: true, force: true });
  }

  async list(): Promise<ArtifactInfo[]> {
    const out: ArtifactInfo[] = [];
    for (const { kind, key, dir } of await this.entries()) {
      const manifest = await readManifest(dir).catch(() => undefined);
      const mtime = (await stat(join(dir, MANIFEST)).catch(() => undefined))?.mtime;
      if (!manifest || !mtime) continue;
      const sizes = Object.values(manifest.files ?? {}).map((f) => (isFileHash(f) ? f.size : 0));
      out.push({
        kind,
        key,
        created: String(manifest.created),
        lastUsed: mtime.toISOString(),
        bytes: sizes.reduce((a, b) => a + b, 0),
        files: sizes.length,
      });
    }
    return out;
  }

  /** Checks every artifact by reading all its bytes. A directory without artifact.json counts as corrupt. */
  async verify(): Promise<VerifyResult[]> {
    const out: VerifyResult[] = [];
    for (const { kind, key, dir } of await this.entries()) {
      const checked = await this.check(kind, key);
      if (checked === undefined) {
        out.push({ kind, key, dir, ok: false, problems: [{ file: MANIFEST, reason: 'missing' }] });
      } else if ('problems' in checked) {
        out.push({ kind, key, dir, ok: false, problems: checked.problems });
      } else out.push({ kind, key, dir, ok: true });
    }
    return out;
  }

  /**
   * Removes abandoned `.tmp-*` build directories, corrupt artifacts, and, when `keep` or
   * `olderThanDays` is given, artifacts outside `keep` (and not used for that many days).
   */
  async gc(options: GcOptions = {}): Promise<GcResult> {
    const dryRun = options.dryRun ?? false;
    const removed: GcRemoval[] = [];
    const remove = async (r: Omit<GcRemoval, 'bytes'>) => {
      const bytes = await diskUsage(r.path);
      if (!dryRun) await rm(r.path, { recursive: true, force: true });
      removed.push({ ...r, bytes });
    };
    for (const kind of await listDir(this.root)) {
      const kindDir = join(this.root, kind);
      if (!KIND.test(kind) || !(await isDir(kindDir))) continue;
      for (const name of await listDir(kindDir)) {
        const path = join(kindDir, name);
        if (TMP.test(name)) {
          if (await isStaleTmp(path, name, options.staleTmpMs)) await remove({ kind, name, path, reason: 'stale-tmp' });
          continue;
        }
        if (CORRUPT.test(name)) {
          await remove({ kind, name, path, reason: 'corrupt' });
          continue;
        }
        if (!KEY.test(name) || !(await isDir(path))) continue;
        const checked = await this.check(kind, name);
        if (checked === undefined || 'problems' in checked) {
          await remove({ kind, name, path, reason: 'corrupt' });
          continue;
        }
        if (options.keep === undefined && options.olderThanDays === undefined) continue;
        if (options.keep?.has(`${kind}/${name}`)) continue;
        if (options.olderThanDays !== undefined) {
          const lastUsed = (await stat(join(path, MANIFEST))).mtimeMs;
          if (Date.now() - lastUsed < options.olderThanDays * 86_400_000) continue;
        }
        await remove({ kind, name, path, reason: options.keep ? 'unreferenced' : 'old' });
      }
    }
    return { removed, bytesFreed: removed.reduce((a, r) => a + r.bytes, 0), dryRun };
  }

  /** undefined: absent; { problems }: corrupt; { manifest }: every recorded file matches its hash. */
  private check(
    kind: string,
    key: string,
    memo?: HashMemo,
  ): Promise<{ manifest: ArtifactManifest } | { problems: ArtifactProblem[] } | undefined> {
    return checkDir(this.path(kind, key), kind, key, memo);
  }

  /** The verified manifest; a corrupt artifact is moved aside (kept for a look, removed by gc) instead of thrown. */
  private async readOrDiscard(kind: string, key: string): Promise<ArtifactManifest | undefined> {
    const dir = this.path(kind, key);
    const checked = await this.check(kind, key, this.memo);
    if (checked && 'manifest' in checked) return checked.manifest;
    if (!(await isDir(dir))) return undefined;
    const aside = join(this.root, kind, `.corrupt-${key}-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await rename(dir, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // someone else moved it
      throw prefixed(error, `cannot move corrupt artifact ${dir} aside`);
    }
    const why =
      checked && 'problems' in checked ? checked.problems.map(describeProblem).join('; ') : `${MANIFEST} missing`;
    this.warn(
      `warning: artifact ${kind}/${key.slice(0, 12)} was corrupt (${why}); moved it to ${aside} and rebuilding`,
    );
    return undefined;
  }

  /** Removes this key's temp directories left by builds that died (see isStaleTmp). */
  /**
   * Temp folders left in a kind's folder when this store first built there. Listing the folder on
   * every build would cost O(n) per build, O(n²) for a kind with many small artifacts (embeddings);
   * folders made later belong to live builds anyway.
   */
  private readonly tmpNames = new Map<string, Promise<string[]>>();

  private async sweepTmp(kind: string, key: string): Promise<void> {
    const kindDir = join(this.root, kind);
    let names = this.tmpNames.get(kind);
    if (!names) {
      names = listDir(kindDir).then((all) => all.filter((n) => n.startsWith('.tmp-')));
      this.tmpNames.set(kind, names);
    }
    for (const name of await names) {
      if (name.startsWith(`.tmp-${key}-`) && (await isStaleTmp(join(kindDir, name), name))) {
        await rm(join(kindDir, name), { recursive: true, force: true }).catch(() => {});
      }
    }
  }

  private async entries(): Promise<{ kind: string; key: string; dir: string }[]> {
    const out: { kind: string; key: string; dir: string }[] = [];
    for (const kind of (await listDir(this.root)).filter((k) => KIND.test(k))) {
      for (const key of (await listDir(join(this.root, kind))).filter((k) => KEY.test(k))) {
        const dir = join(this.root, kind, key);
        if (await isDir(dir)) out.push({ kind, key, dir });
      }
    }
    return out;
  }
}

/** Checks a folder holding `kind/key` against its artifact.json: undefined when it has none. */
async function checkDir(
  dir: string,
  kind: string,
  key: string,
  memo?: HashMemo,
): Promise<{ manifest: ArtifactManifest } | { problems: ArtifactProblem[] } | undefined> {
  let manifest: ArtifactManifest;
  try {
    manifest = await readManifest(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return { problems: [{ file: MANIFEST, reason: (error as Error).message }] };
  }
  const problems: ArtifactProblem[] = [];
  if (manifest.schema !== 1)
    problems.push({ file: MANIFEST, reason: `unknown schema ${JSON.stringify(manifest.schema)}` });
  if (manifest.kind !== kind || manifest.key !== key) {
    problems.push({ file: MANIFEST, reason: `records ${manifest.kind}/${manifest.key}, not ${kind}/${key}` });
  }
  if (typeof manifest.files !== 'object' || manifest.files === null) {
    problems.push({ file: MANIFEST, reason: 'has no files table' });
    return { problems };
  }
  for (const [name, want] of Object.entries(manifest.files)) {
    if (!isSafeName(name) || !isFileHash(want)) {
      problems.push({ file: MANIFEST, reason: `malformed files entry ${JSON.stringify(name)}` });
      continue;
    }
    const path = join(dir, ...name.split('/'));
    const s = await stat(path).catch(() => undefined);
    if (!s?.isFile()) {
      problems.push({ file: name, reason: 'missing', expected: want.sha256 });
    } else if (s.size !== want.size) {
      problems.push({ file: name, reason: `size ${s.size} bytes, expected ${want.size}` });
    } else {
      const got = memo ? await memo.hashFile(path) : await hashFile(path);
      if (got.sha256 !== want.sha256) {
        problems.push({ file: name, reason: 'sha256 mismatch', expected: want.sha256, actual: got.sha256 });
      }
    }
  }
  return problems.length ? { problems } : { manifest };
}

async function readManifest(dir: string): Promise<ArtifactManifest> {
  const text = await readFile(join(dir, MANIFEST), 'utf8');
  try {
    return JSON.parse(text) as ArtifactManifest;
  } catch (error) {
    throw new Error(`not valid JSON (${(error as Error).message})`);
  }
}

/** Hashes everything the producer wrote; only regular files and folders are allowed. */
async function hashOutputs(root: string): Promise<Record<string, FileHash>> {
  const files: Record<string, FileHash> = {};
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(rel ? join(root, rel) : root, { withFileTypes: true });
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const name = rel ? `${rel}/${entry.name}` : entry.name;
      if (name === MANIFEST) throw new Error(`the producer wrote ${MANIFEST}, a name the store reserves`);
      if (entry.isDirectory()) await walk(name);
      else if (entry.isFile()) files[name] = await hashFile(join(root, name));
      else
        throw new Error(
          `the producer wrote ${name}, which is not a regular file (symlinks and devices are not allowed)`,
        );
    }
  };
  await walk('');
  return files;
}

/** A temp dir is abandoned when nothing touched it for `maxAgeMs` and its builder is not running here. */
async function isStaleTmp(path: string, name: string, maxAgeMs = DEFAULT_STALE_TMP_MS): Promise<boolean> {
  const s = await lstat(path).catch(() => undefined);
  if (!s || Date.now() - s.mtimeMs < maxAgeMs) return false;
  const pid = Number(TMP.exec(name)?.[2]);
  return !(pid !== process.pid && processAlive(pid));
}

/** Sets mtime to now: the last-used time gc reads, and the heartbeat of a running build. Best effort. */
async function touch(path: string): Promise<void> {
  const now = new Date();
  await utimes(path, now, now).catch(() => {});
}

function isSafeName(name: string): boolean {
  return name.split('/').every((part) => part !== '' && part !== '.' && part !== '..' && !part.includes('\\'));
}

function isFileHash(x: unknown): x is FileHash {
  const f = x as Partial<FileHash> | null;
  return typeof f === 'object' && f !== null && typeof f.sha256 === 'string' && typeof f.size === 'number';
}

async function diskUsage(path: string): Promise<number> {
  const s: Stats | undefined = await lstat(path).catch(() => undefined);
  if (!s) return 0;
  if (!s.isDirectory()) return s.size;
  let total = 0;
  for (const name of await listDir(path)) total += await diskUsage(join(path, name));
  return total;
}

async function listDir(dir: string): Promise<string[]> {
  return readdir(dir).catch((error) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw prefixed(error, `cannot list ${dir}`);
  });
}

async function isDir(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined))?.isDirectory() ?? false;
}

function checkKind(kind: string): void {
  if (!KIND.test(kind)) {
    throw new Error(`invalid artifact kind ${JSON.stringify(kind)}: use letters, digits, '-' and '_'`);
  }
}

function prefixed(error: unknown, prefix: string): unknown {
  if (error instanceof Error && !error.message.startsWith(prefix)) error.message = `${prefix}: ${error.message}`;
  return error;
}
