// The judge's GGUF files: judge.local.model / judge.local.mmproj resolved to files on disk with their
// sha256, downloading what is missing when allowed. Missing files and an unreachable Hub end in one
// error that names what to fetch and where to put it.
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { HashMemo } from '../../store/hash.js';
import { ArrError } from '../../util/errors.js';
import { writeFileAtomic } from '../../store/atomic.js';
import {
  cachedListing,
  downloadVerified,
  gib,
  sha256File,
  HubUnreachableError,
  listRepository,
  type DownloadProgress,
  type HubFile,
  type HubListing,
  type HubOptions,
} from './hub.js';
import {
  MMPROJ_PATTERN,
  parseModelRef,
  pickModelFile,
  pickProjectorFile,
  quantPattern,
  type HubRef,
  type ModelRef,
} from './model-ref.js';
import { hubUrl, modelsDir, repoDir } from './models-dir.js';

export interface ModelFile {
  /** File name (the Hub path's last part, or the local file's name). */
  name: string;
  path: string;
  sha256: string;
  size: number;
  /** `hf://owner/repo@revision/file`, or the path as written. */
  source: string;
}
export interface JudgeFiles {
  model: ModelFile;
  mmproj: ModelFile;
}

export interface LocalModelSettings {
  model: string;
  mmproj: string | null;
  quant: string;
}

export interface ResolveOptions {
  /** Download missing files (default true). */
  pull?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Where relative paths are resolved from. */
  base?: string;
  onProgress?: (p: DownloadProgress) => void;
}

/** The model files are not on disk and could not be fetched. */
export class LocalModelMissingError extends ArrError {
  override name = 'LocalModelMissingError';
}

/** The identity of the local judge in keys: the two files' content hashes. */
export const judgeIdentity = (files: JudgeFiles) => `gguf:${files.model.sha256}+${files.mmproj.sha256}`;

interface Wanted {
  ref: ModelRef;
  /** For repository references: the pattern the file is picked by. */
  pattern?: string;
  pick?: (paths: string[]) => string | undefined;
}

/** Resolves judge.local to two verified files on disk. */
export async function resolveJudgeFiles(
  settings: LocalModelSettings,
  options: ResolveOptions = {},
): Promise<JudgeFiles> {
  const env = options.env ?? process.env;
  const hub: HubOptions = { hubUrl: hubUrl(env), modelsDir: modelsDir(env), accessToken: env.HF_TOKEN || undefined };
  const modelRef = parseModelRef(settings.model, options.base);
  const mmprojRef: ModelRef | undefined = settings.mmproj
    ? parseModelRef(settings.mmproj, options.base)
    : modelRef.kind === 'hub'
      ? { ...modelRef, file: undefined }
      : undefined;
  if (!mmprojRef) {
    throw new LocalModelMissingError(
      `judge.local.mmproj is not set and judge.local.model (${settings.model}) is a file, so there is no repository to take the projector from`,
      {
        hint: 'set judge.local.mmproj to the mmproj*.gguf file that belongs to the model',
      },
    );
  }
  const wanted: Wanted[] = [
    { ref: modelRef, pattern: quantPattern(settings.quant), pick: (p) => pickModelFile(p, settings.quant) },
    { ref: mmprojRef, pattern: MMPROJ_PATTERN, pick: pickProjectorFile },
  ];
  const memo = new HashMemo(hub.modelsDir);
  const [model, mmproj] = await resolveAll(wanted, hub, memo, options);
  await memo.flush().catch(() => undefined);
  return { model, mmproj };
}

async function resolveAll(
  wanted: Wanted[],
  hub: HubOptions,
  memo: HashMemo,
  options: ResolveOptions,
): Promise<ModelFile[]> {
  const out: ModelFile[] = [];
  const listings = new Map<string, Promise<HubListing>>();
  for (const w of wanted) {
    if (w.ref.kind === 'file') {
      out.push(await localFile(w.ref.path, w.ref.text, memo));
      continue;
    }
    const ref = w.ref;
    const key = `${ref.repo}@${ref.revision}`;
    if (!listings.has(key)) listings.set(key, listOrCached(hub, ref));
    let listing: HubListing;
    try {
      listing = await listings.get(key)!;
    } catch (error) {
      // Offline: files already in the models folder (downloaded, or copied in by hand) are still usable.
      const present = ref.file ?? w.pick!(await readdir(repoDir(hub.modelsDir, ref.repo)).catch(() => [] as string[]));
      const offline = present ? await downloadedFile(hub, ref, present) : undefined;
      if (offline) {
        out.push(offline);
        continue;
      }
      throw await missingError(hub, wanted, error as Error);
    }
    const path = ref.file ?? w.pick!(listing.files.map((f) => f.path));
    const entry = listing.files.find((f) => f.path === path);
    if (!path || !entry) {
      const names = listing.files.map((f) => f.path).join(', ') || 'no .gguf files';
      throw new LocalModelMissingError(
        `${ref.repo}@${ref.revision} has no file matching ${ref.file ?? w.pattern} (it holds ${names})`,
        {
          hint: ref.file
            ? 'check the file name in judge.local.model / judge.local.mmproj'
            : 'set judge.local.quant to one the repository has, or name the file: hf://<owner>/<repo>/<file>',
        },
      );
    }
    const have = await downloadedFile(hub, ref, entry.path, entry);
    if (have) {
      out.push(have);
      continue;
    }
    if (options.pull === false)
      throw await missingError(hub, wanted, new Error('not downloaded yet (run: npx arr models pull)'));
    try {
      await downloadVerified(
        hub,
        ref.repo,
        ref.revision,
        entry,
        join(repoDir(hub.modelsDir, ref.repo), entry.path),
        options.onProgress,
      );
    } catch (error) {
      if (error instanceof HubUnreachableError) throw await missingError(hub, wanted, error);
      throw error;
    }
    out.push((await downloadedFile(hub, ref, entry.path, entry))!);
  }
  return out;
}

/** The listing from the Hub; when the Hub cannot be reached, the cached one is used only to name files. */
async function listOrCached(hub: HubOptions, ref: HubRef): Promise<HubListing> {
  try {
    return await listRepository(hub, ref.repo, ref.revision);
  } catch (error) {
    const cached = await cachedListing(hub, ref.repo, ref.revision);
    if (cached) return Object.assign(cached, { offline: true });
    throw error;
  }
}

/**
 * A file already in the models folder. Its sha256 is the one its download was verified against
 * (`<file>.sha256`); a file put there by hand is hashed once and checked against the listing.
 */
async function downloadedFile(
  hub: HubOptions,
  ref: HubRef,
  path: string,
  entry?: HubFile,
): Promise<ModelFile | undefined> {
  const file = join(repoDir(hub.modelsDir, ref.repo), path);
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    return undefined;
  }
  let sha256 = await readFile(`${file}.sha256`, 'utf8').then(
    (t) => t.trim(),
    () => '',
  );
  if (!sha256) {
    sha256 = await sha256File(file);
    if (!entry?.sha256 || entry.sha256 === sha256) await writeFileAtomic(`${file}.sha256`, `${sha256}\n`);
  }
  if (entry?.sha256 && entry.sha256 !== sha256) return undefined; // another revision's file, or a damaged one: fetch it again
  return { name: basename(path), path: file, sha256, size, source: `hf://${ref.repo}@${ref.revision}/${path}` };
}

async function localFile(path: string, text: string, memo: HashMemo): Promise<ModelFile> {
  try {
    const { sha256, size } = await memo.hashFile(path);
    return { name: basename(path), path, sha256, size, source: text };
  } catch (error) {
    throw new LocalModelMissingError(
      `judge model file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      {
        hint: 'point judge.local.model / judge.local.mmproj at GGUF files that exist',
      },
    );
  }
}

/** One message naming every file the judge needs, where they go and which settings point elsewhere. */
async function missingError(hub: HubOptions, wanted: Wanted[], cause: Error): Promise<LocalModelMissingError> {
  const lines: string[] = [];
  for (const w of wanted) {
    if (w.ref.kind === 'file') continue;
    const ref = w.ref;
    const listing = await cachedListing(hub, ref.repo, ref.revision);
    const exact = listing?.files.find((f) => f.path === (ref.file ?? w.pick!(listing.files.map((x) => x.path))));
    const what = exact ? `${exact.path} (${gib(exact.size)})` : (ref.file ?? w.pattern);
    lines.push(
      `  ${what} from ${hub.hubUrl}/${ref.repo}${ref.revision === 'main' ? '' : ` (revision ${ref.revision})`} into ${repoDir(hub.modelsDir, ref.repo)}`,
    );
  }
  return new LocalModelMissingError(
    `the local judge's model files are missing and cannot be fetched (${cause.message}). Needed:\n${lines.join('\n')}\nARR_MODELS_DIR is ${hub.modelsDir}.`,
    {
      cause,
      hint: 'download them there (npx arr models pull, or copy them in by hand), point judge.local.model / judge.local.mmproj at GGUF files you have, or set ARR_JUDGE_URL to use an endpoint',
    },
  );
}

const resolved = new Map<string, Promise<JudgeFiles>>();

/** `resolveJudgeFiles`, once per process for the same settings (keys and the judge share the result). */
export function judgeFiles(settings: LocalModelSettings, options: ResolveOptions = {}): Promise<JudgeFiles> {
  const key = JSON.stringify([
    settings,
    modelsDir(options.env ?? process.env),
    hubUrl(options.env ?? process.env),
    options.base ?? process.cwd(),
    options.pull !== false,
  ]);
  let files = resolved.get(key);
  if (!files) {
    files = resolveJudgeFiles(settings, options);
    files.catch(() => resolved.delete(key));
    resolved.set(key, files);
  }
  return files;
}
