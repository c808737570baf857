// The pre-launch check of the embeddings a trainer reads: every file every metadata field names is
// opened, and one entry of each kind is loaded the way the reference loaders load it
// (torch.load(weights_only=True), through python3 + torch when present; a structural check otherwise).
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { decodeSafetensors } from '../preprocess/safetensors.js';
import type { Env } from '../manifest/env.js';
import type { TrainTask } from './plan.js';

/** What the reference loaders (LatentDataset) open per entry: metadata field → folder under the metadata's directory. */
export const LOADER_FIELDS: Record<TrainTask, Record<string, string>> = {
  t2i: { prompt_embed_path: 'prompt_embed', pooled_prompt_embeds_path: 'pooled_prompt_embeds', text_ids: 'text_ids' },
  edit: {
    prompt_embed_path: 'prompt_embed',
    prompt_attention_mask: 'prompt_attention_mask',
    image_latents: 'image_latents',
  },
};
/** Numbers the edit loader turns into long tensors. */
const EDIT_SCALARS = ['original_length', 'calculated_height', 'calculated_width'];
/** String fields that never name a tensor file. */
const NOT_TENSORS = new Set(['caption', 'source_image', 'sha256', 'prompt', 'instruction']);
const TENSOR_FILE = /\.(pt|pth|safetensors)$/i;

export interface TensorRef {
  entry: number;
  /** The metadata field (or `tensors.<name>`). */
  field: string;
  /** Files of one kind share this: the loader's folder, or the tensors map's name. */
  kind: string;
  /** Where the file is looked for, first the one the reference loader opens. */
  candidates: string[];
}

/** The tensor files one entry names: the loader's fields, any `*_path` or tensor-file-valued field, and our `tensors` map. */
export function tensorRefs(
  entry: Record<string, unknown>,
  index: number,
  dir: string,
  strictLoaderPaths: boolean,
): TensorRef[] {
  const refs: TensorRef[] = [];
  for (const [field, value] of Object.entries(entry)) {
    if (field === 'tensors' || NOT_TENSORS.has(field) || typeof value !== 'string') continue;
    if (!field.endsWith('_path') && !TENSOR_FILE.test(value) && !Object.values(LOADER_FIELDS).some((f) => field in f))
      continue;
    const kind = field.replace(/_path$/, '');
    // The reference loaders join <metadata dir>/<field without _path>/<value> and nothing else.
    const loaderPath = join(dir, kind, value);
    refs.push({
      entry: index,
      field,
      kind,
      candidates: isAbsolute(value) ? [value] : strictLoaderPaths ? [loaderPath] : [loaderPath, join(dir, value)],
    });
  }
  if (entry.tensors && typeof entry.tensors === 'object' && !Array.isArray(entry.tensors)) {
    for (const [name, value] of Object.entries(entry.tensors as Record<string, unknown>)) {
      if (typeof value === 'string')
        refs.push({
          entry: index,
          field: `tensors.${name}`,
          kind: `tensors.${name}`,
          candidates: [isAbsolute(value) ? value : join(dir, value)],
        });
    }
  }
  return refs;
}

/** Opens a file and reads its first bytes; null when it cannot be opened. */
function head(file: string, bytes = 8): Buffer | null {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n);
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const isZip = (b: Buffer) => b.length >= 4 && b.readUInt32LE(0) === 0x04034b50;

/** Member names of a zip archive, read from its central directory. */
export function zipMembers(buf: Buffer): string[] {
  const min = Math.max(0, buf.length - 65_557);
  let eocd = -1;
  for (let i = buf.length - 22; i >= min; i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('no zip end-of-directory record');
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(at) !== 0x02014b50) throw new Error('broken zip central directory');
    const nameLen = buf.readUInt16LE(at + 28);
    const extraLen = buf.readUInt16LE(at + 30);
    const commentLen = buf.readUInt16LE(at + 32);
    names.push(buf.subarray(at + 46, at + 46 + nameLen).toString('utf8'));
    at += 46 + nameLen + extraLen + commentLen;
  }
  return names;
}

/** Without torch: a torch.save file is a zip holding <name>/data.pkl and its storages under <name>/data/. */
export function structuralPtProblem(file: string): string | null {
  try {
    const names = zipMembers(readFileSync(file));
    if (!names.some((n) => n.endsWith('/data.pkl'))) return 'a zip without data.pkl: not a torch.save file';
    if (!names.some((n) => /\/data\/\d+$/.test(n))) return 'no tensor storage (data/0) in the archive';
    return null;
  } catch (error) {
    return `not a torch.save archive (${(error as Error).message})`;
  }
}

function structuralSafetensorsProblem(file: string): string | null {
  try {
    decodeSafetensors(readFileSync(file), file);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

const foundPython = new Map<string, string | null>();

/**
 * A python3 that imports torch: ARR_PYTHON, else python3 on PATH, else /usr/bin/python3; null when none
 * does. Remembered per ARR_PYTHON and PATH (importing torch takes seconds).
 */
export function torchPython(env: Env): string | null {
  const memo = `${env.ARR_PYTHON ?? ''}\0${env.PATH ?? ''}`;
  if (foundPython.has(memo)) return foundPython.get(memo)!;
  const candidates = [env.ARR_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => Boolean(c));
  let found: string | null = null;
  for (const python of [...new Set(candidates)]) {
    try {
      execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000, env: env as NodeJS.ProcessEnv });
      found = python;
      break;
    } catch {
      /* next */
    }
  }
  foundPython.set(memo, found);
  return found;
}

// Loads each file as LatentDataset does and reports, per file, its shape or the error.
const LOAD_SCRIPT = `
import json, sys, torch
out = []
for path in sys.argv[1:]:
    try:
        t = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(t, torch.Tensor):
            out.append({"path": path, "error": "holds a %s, not a tensor" % type(t).__name__})
        else:
            out.append({"path": path, "shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", "")})
    except Exception as e:
        out.append({"path": path, "error": "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")})
print(json.dumps(out))
`;

export interface LoadResult {
  path: string;
  shape?: number[];
  dtype?: string;
  error?: string;
}

/** torch.load(weights_only=True) on each file with `python`. */
export function torchLoad(python: string, files: string[], env: Env): LoadResult[] {
  const out = execFileSync(python, ['-c', LOAD_SCRIPT, ...files], {
    encoding: 'utf8',
    timeout: 300_000,
    env: env as NodeJS.ProcessEnv,
    maxBuffer: 16 << 20,
  });
  return JSON.parse(out.trim().split('\n').pop()!) as LoadResult[];
}

export interface EmbeddingsVerdict {
  ok: boolean;
  message: string;
}

export interface VerifyOptions {
  task: TrainTask;
  /** A reference trainer reads them (false: train.command replaces it, so only presence and readability are checked). */
  referenceTrainer: boolean;
  workspaceRoot: string;
  /** How to rebuild, e.g. `npx nx run exp:preprocess`. */
  rebuild: string;
  env: Env;
  /** Overrides finding a torch python (tests): a path, or null for the structural check. */
  python?: string | null;
}

/** Checks a parsed metadata.json's entries as the trainer will read them. */
export function verifyEmbeddingEntries(
  metadata: string,
  entries: unknown[],
  options: VerifyOptions,
): EmbeddingsVerdict {
  const rel = (p: string) => relative(options.workspaceRoot, p) || p;
  const dir = dirname(metadata);
  const problems: string[] = [];
  const refs: TensorRef[] = [];
  entries.forEach((raw, i) => {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return void problems.push(`entry ${i} is not an object`);
    const entry = raw as Record<string, unknown>;
    if (options.referenceTrainer) {
      for (const field of Object.keys(LOADER_FIELDS[options.task])) {
        if (typeof entry[field] !== 'string')
          problems.push(
            `entry ${i} has no ${field} (the ${options.task === 't2i' ? 'FLUX' : 'Qwen-Image-Edit'} loader reads it)`,
          );
      }
      if (options.task === 'edit')
        for (const field of EDIT_SCALARS)
          if (typeof entry[field] !== 'number') problems.push(`entry ${i} has no number ${field}`);
    }
    refs.push(...tensorRefs(entry, i, dir, options.referenceTrainer));
  });
  const found = new Map<TensorRef, string>();
  for (const ref of refs) {
    const file = ref.candidates.find((c) => head(c) !== null);
    if (file) found.set(ref, file);
    else problems.push(`entry ${ref.entry} ${ref.field}: ${rel(ref.candidates[0])} cannot be opened`);
  }
  if (problems.length)
    return {
      ok: false,
      message: `${rel(metadata)}: ${shorten(problems)}; rebuild the embeddings (${options.rebuild})`,
    };

  // The reference loaders read .pt only: a safetensors file among what they open is a set they cannot read.
  if (options.referenceTrainer) {
    const loaderKinds = new Set(Object.values(LOADER_FIELDS[options.task]));
    const unreadable = refs.filter((r) => loaderKinds.has(r.kind) && !isZip(head(found.get(r)!)!));
    if (unreadable.length) {
      const ex = unreadable[0];
      return {
        ok: false,
        message: `${rel(metadata)}: ${unreadable.length} file(s) the reference loader opens with torch.load(weights_only=True) are not torch files (e.g. entry ${ex.entry} ${ex.field}: ${rel(found.get(ex)!)}; a safetensors-only set?). Set preprocess.format: pt (the default) and rebuild (${options.rebuild}), or replace the trainer with train.command`,
      };
    }
  }

  // One entry of each kind, loaded as the loader does.
  const firstOfKind = new Map<string, string>();
  for (const ref of refs) if (!firstOfKind.has(ref.kind)) firstOfKind.set(ref.kind, found.get(ref)!);
  const python = options.python !== undefined ? options.python : torchPython(options.env);
  const loadProblems: string[] = [];
  const pts = [...firstOfKind.entries()].filter(([, f]) => isZip(head(f)!));
  const others = [...firstOfKind.entries()].filter(([, f]) => !isZip(head(f)!));
  let how: string;
  if (python && pts.length) {
    const results = torchLoad(
      python,
      pts.map(([, f]) => f),
      options.env,
    );
    results.forEach(
      (r, i) =>
        r.error && loadProblems.push(`${pts[i][0]}: torch.load(${rel(r.path)}, weights_only=True) failed: ${r.error}`),
    );
    how = `one file of each kind loaded with torch.load(weights_only=True) (${python})`;
  } else {
    for (const [kind, f] of pts) {
      const p = structuralPtProblem(f);
      if (p) loadProblems.push(`${kind}: ${rel(f)}: ${p}`);
    }
    how = pts.length
      ? 'structure of one file of each kind checked (no python3 with torch found; set ARR_PYTHON to one)'
      : 'headers of one file of each kind read';
  }
  for (const [kind, f] of others) {
    if (/\.safetensors$/i.test(f)) {
      const p = structuralSafetensorsProblem(f);
      if (p) loadProblems.push(`${kind}: ${rel(f)}: ${p}`);
    } else loadProblems.push(`${kind}: ${rel(f)} is neither a torch.save archive nor a .safetensors file`);
  }
  if (loadProblems.length)
    return {
      ok: false,
      message: `${rel(metadata)}: ${shorten(loadProblems)}; rebuild the embeddings (${options.rebuild})`,
    };
  return {
    ok: true,
    message: `${rel(metadata)}: ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, ${refs.length} file(s) opened; ${how}: ${[...firstOfKind.keys()].join(', ')}`,
  };
}

function shorten(problems: string[]): string {
  return problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; … ${problems.length - 5} more` : '');
}
