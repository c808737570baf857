// Loads a seed/test dataset: read → normalize every record → check the images. User-input problems
// come back as diagnostics (every one found, not just the first); only programming errors throw.
import { realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics.js';
import { checkImages, isInside } from './images.js';
import {
  normalizeRecord,
  normalizeTaskType,
  resolveImageRef,
  splitImages,
  type EvalMode,
  type ImageUse,
  type TaskType,
} from './normalize.js';
import { readRecords } from './read-records.js';
import type { DatasetItem } from './types.js';

export interface LoadDatasetOptions {
  /** `t2i` or `edit` (the reference's aliases, e.g. `image_edit`, are accepted too). */
  task: TaskType | string;
  /** Which label the experiment needs; unset takes label_rank when present, else label_score. */
  mode?: EvalMode;
  /** Pointwise score range (defaults 1 and 5). */
  minScore?: number;
  maxScore?: number;
  /** A record without the label the mode needs is an error (default false). */
  requireLabel?: boolean;
  /**
   * Folders the dataset file and its local images must resolve into (after symlinks): the workspace
   * root plus `data.allowed_roots`, absolute.
   */
  allowedRoots: string[];
  /** Check that every local image exists, is allowed and decodes (default true). */
  checkImages?: boolean;
  /** Images decoded at once (default 4). */
  concurrency?: number;
}

export interface LoadedDataset {
  /** Every record that normalized without errors, in file order. */
  items: DatasetItem[];
  /** Errors and warnings, in the order found (parse, records, then images). */
  diagnostics: Diagnostic[];
  /** Distinct absolute local image paths the dataset names (as resolved, not realpath'd), sorted. */
  imageFiles: string[];
}

function taskOf(task: string): TaskType {
  const t = normalizeTaskType(task);
  if (!t) throw new TypeError(`unknown task ${JSON.stringify(task)}; expected t2i or edit`);
  return t;
}

/** Reads, normalizes and checks a dataset. Never throws for problems in the dataset or its images. */
export async function loadDataset(file: string, opts: LoadDatasetOptions): Promise<LoadedDataset> {
  const task = taskOf(opts.task);
  const abs = resolve(file);
  const diagnostics: Diagnostic[] = [];
  const empty = (): LoadedDataset => ({ items: [], diagnostics, imageFiles: [] });

  const outside = datasetOutsideRoots(abs, opts.allowedRoots);
  if (outside) {
    diagnostics.push({ file: abs, message: outside });
    return empty();
  }

  const read = readRecords(abs);
  for (const d of read.diagnostics) diagnostics.push(d);
  if (!read.records.length) {
    if (!read.diagnostics.length) diagnostics.push({ file: abs, message: 'the dataset holds no records' });
    return empty();
  }

  const items: DatasetItem[] = [];
  const uses: ImageUse[] = [];
  for (const record of read.records) {
    const r = normalizeRecord(record, abs, {
      task,
      mode: opts.mode,
      minScore: opts.minScore,
      maxScore: opts.maxScore,
      requireLabel: opts.requireLabel,
    });
    // A loop, not push(...x): spreading a huge list as arguments overflows the stack.
    for (const d of r.diagnostics) diagnostics.push(d);
    for (const use of r.images) uses.push(use);
    if (r.item) items.push(r.item);
  }

  if (opts.checkImages ?? true) {
    const checked = await checkImages(uses, { allowedRoots: opts.allowedRoots, concurrency: opts.concurrency });
    diagnostics.push(...checked.diagnostics);
  }

  const files = new Set<string>();
  for (const u of uses) if (u.ref.kind === 'file') files.add(u.ref.path);
  return { items, diagnostics, imageFiles: [...files].sort() };
}

/**
 * The distinct absolute local image paths a dataset names, sorted: parsing only, no validation, no
 * image access, no throwing (an unreadable or malformed dataset gives what could be read, possibly
 * nothing). Meant for declaring Nx task inputs while the project graph is built.
 */
export function listDatasetImageFiles(file: string, task: TaskType | string): string[] {
  const t = normalizeTaskType(task);
  if (!t) return [];
  const abs = resolve(file);
  const baseDir = dirname(abs);
  const files = new Set<string>();
  for (const record of readRecords(abs).records) {
    const v = record.value;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) continue;
    const split = splitImages(v as Record<string, unknown>, t);
    for (const slot of split.base ? [split.base, ...split.candidates] : split.candidates) {
      const ref = resolveImageRef(slot.value, baseDir);
      if ('kind' in ref && ref.kind === 'file') files.add(ref.path);
    }
  }
  return [...files].sort();
}

function datasetOutsideRoots(abs: string, roots: readonly string[]): string | undefined {
  let real: string;
  try {
    real = realpathSync(abs);
  } catch {
    return undefined; // readRecords reports the missing file with its OS reason
  }
  const inside = roots.some((root) => {
    let r = resolve(root);
    try {
      r = realpathSync(r);
    } catch {
      /* keep the lexical path */
    }
    return isInside(r, real);
  });
  if (inside) return undefined;
  const shown = real === abs ? 'the dataset' : `the dataset (a link to ${real})`;
  return `${shown} is outside the allowed roots (${roots.length ? roots.join(', ') : 'none'}); add its folder to data.allowed_roots`;
}
