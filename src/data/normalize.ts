// Raw dataset record → DatasetItem, following the reference's split_image_paths
// (docs/architecture.md, "Dataset records") exactly, with two
// deliberate differences: image paths resolve against the dataset file's folder (not the process
// cwd), and labels are validated strictly (label_rank a permutation of 1..N; label_score an integer
// in range).
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Diagnostic } from '../diagnostics.js';
import type { FieldPath, RawRecord } from './read-records.js';
import { describe } from './read-records.js';
import type { DatasetItem, ImageRef, Label } from './types.js';

export type TaskType = 't2i' | 'edit';
export type EvalMode = 'pairwise' | 'listwise' | 'pointwise';

export const QUERY_KEYS = ['query', 'prompt', 'instruction'] as const;
/** t2i candidates: the first key with a non-empty value wins. */
export const T2I_IMAGE_KEYS = [
  'image_paths',
  'response',
  'responses',
  'images',
  'image',
  'generated_image',
  'generated_images',
] as const;
/** Edit base image: the first non-empty key wins; of a list only the first image is used. */
export const EDIT_SOURCE_KEYS = [
  'source_image',
  'base_image',
  'original_image',
  'input_image',
  'reference_image',
  'ref_image',
] as const;
/** Edit outputs that never hold the base. */
export const EDIT_OUTPUT_KEYS = [
  'edited_image',
  'edited_images',
  'target_image',
  'target_images',
  'output_image',
  'output_images',
  'result_image',
  'result_images',
] as const;
/** Edit fallback list (may start with the base when no source key is set). */
export const EDIT_RESPONSE_KEYS = ['response', 'responses', 'images', 'image_paths', 'image'] as const;

/** Every key the record format defines; anything else is metadata. Mirrors the schema's `properties`. */
export const KNOWN_RECORD_KEYS: ReadonlySet<string> = new Set<string>([
  ...QUERY_KEYS,
  ...T2I_IMAGE_KEYS,
  ...EDIT_SOURCE_KEYS,
  ...EDIT_OUTPUT_KEYS,
  'label_rank',
  'label_score',
  'task_type',
  'response_includes_base',
]);
const IMAGE_KEYS: ReadonlySet<string> = new Set<string>([...T2I_IMAGE_KEYS, ...EDIT_SOURCE_KEYS, ...EDIT_OUTPUT_KEYS]);

const T2I_ALIASES = new Set(['t2i', 'text_to_image', 'text2image', 'image_generation', 'gen']);
const EDIT_ALIASES = new Set(['edit', 'image_edit', 'image_editing', 'i2i', 'image_to_image']);

/**
 * The reference's task aliases, case-insensitive with `-` read as `_`: `text-to-image`, `gen`, … → `t2i`;
 * `image_edit`, `i2i`, … → `edit`. Undefined for anything else.
 */
export function normalizeTaskType(value: string): TaskType | undefined {
  const v = value.trim().toLowerCase().replace(/-/g, '_');
  if (T2I_ALIASES.has(v)) return 't2i';
  if (EDIT_ALIASES.has(v)) return 'edit';
  return undefined;
}

export interface NormalizeOptions {
  task: TaskType;
  /** Which label the experiment needs. Unset: take label_rank when present, else label_score. */
  mode?: EvalMode;
  /** Pointwise score range (defaults 1 and 5, like the reference). */
  minScore?: number;
  maxScore?: number;
  /** A record without the label the mode needs is an error (seed and test sets). */
  requireLabel?: boolean;
}

/** Where a diagnostic points. */
export type Location = Pick<Diagnostic, 'file' | 'line' | 'col' | 'field'>;

/** One image reference in a record, with where it is written. */
export interface ImageUse {
  ref: ImageRef;
  /** Where the image is written (computed when first read). */
  readonly at: Location;
  /** `source` for the edit base image, else `candidate`. */
  role: 'source' | 'candidate';
}

export interface NormalizedRecord {
  /** Present when the record has no errors (warnings allowed). */
  item?: DatasetItem;
  /** Every image the record names, base first, even when the record has other errors. */
  images: ImageUse[];
  diagnostics: Diagnostic[];
}

/** Where one image string came from in the record: `key`, and the list index when the value is a list. */
export interface ImageSlot {
  key: string;
  index?: number;
  value: string;
}

export interface SplitImages {
  base?: ImageSlot;
  candidates: ImageSlot[];
}

/**
 * The reference's split_image_paths on an (already type-checked) record. Non-string entries are
 * skipped, as are null entries and empty strings.
 */
export function splitImages(record: Record<string, unknown>, task: TaskType): SplitImages {
  if (task === 't2i') return { candidates: firstSlots(record, T2I_IMAGE_KEYS) };

  const bases = firstSlots(record, EDIT_SOURCE_KEYS);
  const edits = firstSlots(record, EDIT_OUTPUT_KEYS);
  if (bases.length) {
    return { base: bases[0], candidates: edits.length ? edits : firstSlots(record, EDIT_RESPONSE_KEYS) };
  }
  if (edits.length) return { candidates: edits };

  const r = firstSlots(record, EDIT_RESPONSE_KEYS);
  if (!r.length) return { candidates: [] };
  const withBase = (): SplitImages => ({ base: r[0], candidates: r.slice(1) });
  const rank = record.label_rank;
  if (Array.isArray(rank)) return r.length === rank.length + 1 ? withBase() : { candidates: r };
  if (Object.hasOwn(record, 'label_score') && r.length === 2) return withBase();
  if (record.response_includes_base && r.length >= 2) return withBase();
  if (r.length >= 3) return withBase(); // the legacy [base, edit1, edit2, …] layout
  return { candidates: r };
}

function firstSlots(record: Record<string, unknown>, keys: readonly string[]): ImageSlot[] {
  for (const key of keys) {
    const v = record[key];
    const slots: ImageSlot[] = [];
    if (typeof v === 'string') {
      if (v.trim() !== '') slots.push({ key, value: v });
    } else if (Array.isArray(v)) {
      v.forEach((e, index) => {
        if (typeof e === 'string' && e.trim() !== '') slots.push({ key, index, value: e });
      });
    }
    if (slots.length) return slots;
  }
  return [];
}

/**
 * An image string as written in a dataset → an ImageRef. Local paths resolve against `baseDir`
 * (absolute and `~/` paths kept); http(s) and data: URLs pass through; `file:` URLs become paths.
 */
export function resolveImageRef(value: string, baseDir: string): ImageRef | { error: string } {
  const v = value.trim();
  if (/^https?:\/\//i.test(v)) return { kind: 'url', url: v };
  if (/^data:/i.test(v)) {
    const comma = v.indexOf(',');
    if (comma < 0) return { error: 'is not a valid data: URL (no comma before the data)' };
    const mime = v.slice(5, comma).split(';')[0].trim().toLowerCase() || 'text/plain';
    return { kind: 'data', url: v, mime };
  }
  if (/^file:/i.test(v)) {
    try {
      return { kind: 'file', path: fileURLToPath(v) };
    } catch (err) {
      return { error: `is not a valid file: URL (${(err as Error).message})` };
    }
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(v);
  if (scheme)
    return { error: `uses the unsupported URL scheme ${scheme[1]}:// (use a local path, http(s):// or data:)` };
  if (v === '~' || v.startsWith('~/')) return { kind: 'file', path: resolve(homedir(), v.slice(2)) };
  return { kind: 'file', path: isAbsolute(v) ? resolve(v) : resolve(baseDir, v) };
}

/** Field path text: `records[3].response[1]`. */
export function fieldName(index: number, path: FieldPath = []): string {
  let s = `records[${index}]`;
  for (const seg of path) s += typeof seg === 'number' ? `[${seg}]` : `.${seg}`;
  return s;
}

/** Normalizes one raw record of `file` (absolute path of the dataset). */
/** Most candidate images one record may hold: a judge compares them in one prompt. */
export const MAX_CANDIDATES = 64;

export function normalizeRecord(record: RawRecord, file: string, opts: NormalizeOptions): NormalizedRecord {
  const diagnostics: Diagnostic[] = [];
  const images: ImageUse[] = [];
  const at = (path: FieldPath = []): Location => {
    const p = path.length
      ? record.locate(path)
      : record.line !== undefined
        ? { line: record.line, col: record.col }
        : undefined;
    return { file, line: p?.line, col: p?.col, field: fieldName(record.index, path) };
  };
  const error = (path: FieldPath, message: string) => diagnostics.push({ ...at(path), message });
  const warn = (path: FieldPath, message: string) => diagnostics.push({ ...at(path), message, severity: 'warning' });

  const value = record.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    error([], `a record must be an object, found ${describe(value)}`);
    return { images, diagnostics };
  }
  const rec = value as Record<string, unknown>;

  // 1. Types (the same rules as schemas/dataset-record.schema.json).
  if (!checkTypes(rec, error)) return { images, diagnostics };

  // 2. Images.
  const baseDir = dirname(file);
  const split = splitImages(rec, opts.task);
  if (split.candidates.length > MAX_CANDIDATES) {
    const slot = split.candidates[0];
    error(
      [slot.key],
      `${split.candidates.length} candidate images in one record; at most ${MAX_CANDIDATES} can be ranked or judged together`,
    );
    return { images, diagnostics };
  }
  const toRef = (slot: ImageSlot, role: ImageUse['role']): ImageRef | undefined => {
    const path: FieldPath = slot.index === undefined ? [slot.key] : [slot.key, slot.index];
    const ref = resolveImageRef(slot.value, baseDir);
    if ('error' in ref) {
      error(path, `${JSON.stringify(slot.value)} ${ref.error}`);
      return undefined;
    }
    let where: Location | undefined;
    images.push({
      ref,
      role,
      // Located on first read: finding a field's column can mean parsing the line again, and only
      // images that turn out to be bad are ever reported.
      get at() {
        return (where ??= at(path));
      },
    });
    return ref;
  };
  const source = split.base ? toRef(split.base, 'source') : undefined;
  const candidates = split.candidates.map((s) => toRef(s, 'candidate')).filter((r): r is ImageRef => r !== undefined);
  const ignored =
    opts.task === 't2i' ? [...EDIT_SOURCE_KEYS, ...EDIT_OUTPUT_KEYS] : ['generated_image', 'generated_images'];
  for (const key of ignored) {
    if (firstSlots(rec, [key]).length) warn([key], `${key} is ignored for ${opts.task} datasets`);
  }
  if (!split.candidates.length) {
    const looked = opts.task === 't2i' ? T2I_IMAGE_KEYS : [...EDIT_OUTPUT_KEYS, ...EDIT_RESPONSE_KEYS];
    error([], `record has no candidate images (looked for ${looked.join(', ')})`);
  }

  // 3. Query.
  const queryKey = QUERY_KEYS.find((k) => typeof rec[k] === 'string' && (rec[k] as string).trim() !== '');
  if (!queryKey) error([], `record has no query (set ${QUERY_KEYS.join(', ')})`);

  // 4. Label.
  const label = checkLabel(rec, split.candidates.length, opts, error, warn);

  const meta: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rec)) if (!KNOWN_RECORD_KEYS.has(k)) meta[k] = v;

  if (diagnostics.some((d) => d.severity !== 'warning')) return { images, diagnostics };
  const item: DatasetItem = { index: record.index, query: (rec[queryKey!] as string).trim(), candidates, meta };
  if (record.line !== undefined) item.line = record.line;
  if (source) item.source = source;
  if (label) item.label = label;
  if (typeof rec.task_type === 'string' && rec.task_type.trim() !== '') item.taskType = rec.task_type;
  return { item, images, diagnostics };
}

type Report = (path: FieldPath, message: string) => void;

function checkTypes(rec: Record<string, unknown>, error: Report): boolean {
  let ok = true;
  const fail = (path: FieldPath, message: string) => {
    ok = false;
    error(path, message);
  };
  for (const [key, v] of Object.entries(rec)) {
    if (v === null || v === undefined || !KNOWN_RECORD_KEYS.has(key)) continue;
    if ((QUERY_KEYS as readonly string[]).includes(key) || key === 'task_type') {
      if (typeof v !== 'string') fail([key], `${key} must be a string, found ${describe(v)}`);
    } else if (IMAGE_KEYS.has(key)) {
      if (Array.isArray(v)) {
        v.forEach((e, i) => {
          if (e !== null && typeof e !== 'string')
            fail([key, i], `an image must be a path or URL string (or null), found ${describe(e)}`);
        });
      } else if (typeof v !== 'string') {
        fail([key], `${key} must be an image path or URL, or a list of them, found ${describe(v)}`);
      }
    } else if (key === 'label_rank') {
      if (!Array.isArray(v)) fail([key], `label_rank must be a list of integers, found ${describe(v)}`);
      else if (!v.every((e) => Number.isInteger(e)))
        fail([key], `label_rank must be a list of integers, found ${JSON.stringify(v)}`);
    } else if (key === 'label_score') {
      if (!Number.isInteger(v))
        fail([key], `label_score must be an integer, found ${typeof v === 'number' ? v : describe(v)}`);
    } else if (key === 'response_includes_base') {
      if (typeof v !== 'boolean') fail([key], `response_includes_base must be true or false, found ${describe(v)}`);
    }
  }
  return ok;
}

function checkLabel(
  rec: Record<string, unknown>,
  n: number,
  opts: NormalizeOptions,
  error: Report,
  warn: Report,
): Label | undefined {
  const rank = Array.isArray(rec.label_rank) ? (rec.label_rank as number[]) : undefined;
  const score = typeof rec.label_score === 'number' ? rec.label_score : undefined;
  const mode = opts.mode;
  const wantScore = mode === 'pointwise' || (mode === undefined && rank === undefined && score !== undefined);

  if (mode === 'pairwise' && n > 0 && n !== 2) {
    warn([], `pairwise mode expects 2 candidate images; the record has ${n} (it is judged listwise)`);
  }
  if (mode === 'pointwise' && n > 1) {
    warn([], `pointwise mode scores one candidate image; the record has ${n}`);
  }

  if (wantScore) {
    if (score === undefined) {
      if (opts.requireLabel)
        error(
          [],
          mode === 'pointwise'
            ? 'record has no label_score (required in pointwise mode)'
            : 'record has no label (label_rank or label_score)',
        );
      return undefined;
    }
    if (mode === 'pointwise') {
      const min = opts.minScore ?? 1;
      const max = opts.maxScore ?? 5;
      if (score < min || score > max) {
        error(['label_score'], `label_score ${score} is outside [${min}, ${max}] (rubric.min_score..rubric.max_score)`);
        return undefined;
      }
    }
    return { score };
  }

  if (rank === undefined) {
    if (opts.requireLabel)
      error(
        [],
        mode
          ? `record has no label_rank (required in ${mode} mode)`
          : 'record has no label (label_rank or label_score)',
      );
    return undefined;
  }
  if (n === 0) return undefined; // already reported: no candidates
  if (rank.length !== n) {
    error(
      ['label_rank'],
      `label_rank has ${rank.length} ${rank.length === 1 ? 'entry' : 'entries'} but the record has ${n} candidate ${n === 1 ? 'image' : 'images'}`,
    );
    return undefined;
  }
  const seen = new Set(rank);
  if (seen.size !== n || rank.some((r) => r < 1 || r > n)) {
    error(['label_rank'], `label_rank [${rank.join(', ')}] is not a permutation of 1..${n}`);
    return undefined;
  }
  return { rank: [...rank] };
}
