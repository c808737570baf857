// Sweeps as data: a manifest's `matrix:` (field path → list of values) stands for one experiment per
// combination, named `<manifest name>--<slug>`. This module reads the matrix, checks it, and expands it;
// applying a member's values to a manifest is the loader's job (load.ts) and the planner's (project-plan.ts).
import { readFileSync } from 'node:fs';
import { closest, distance } from 'fastest-levenshtein';
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Diagnostic } from '../diagnostics.js';
import { isPlainObject, type Origins } from './layers.js';
import { allFieldPaths, fieldSchema } from './schema.js';
import { joinPath } from './yaml-source.js';

export type MatrixValue = string | number | boolean;

/** One combination of a matrix: the experiment it stands for and the values it sets. */
export interface MatrixMember {
  /** `<manifest name>--<slug>`. */
  name: string;
  slug: string;
  /** Field path → value, in `matrix:` key order. */
  values: [string, MatrixValue][];
}

export interface MatrixExpansion {
  members: MatrixMember[];
  diagnostics: Diagnostic[];
}

/** Fields a matrix may not sweep: they shape the graph itself or the sweep. */
const NOT_SWEEPABLE = new Set(['extends', 'matrix']);

/** Separator between a manifest's name and a member's slug, and between slug parts. */
export const MEMBER_SEPARATOR = '--';

/** One value's part of a slug: lower-cased, each run of characters outside [a-z0-9.] replaced by `-`. */
export const slugPart = (text: string): string => text.toLowerCase().replace(/[^a-z0-9.]+/g, '-');

/**
 * The text of each listed value as written in the file (`1.0e-5`, not `0.00001`), so slugs read like
 * the manifest. Falls back to String(value) when the file cannot be read again.
 */
function writtenValues(file: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  try {
    const doc = parseDocument(readFileSync(file, 'utf8'));
    const matrix = doc.get('matrix', true);
    if (!isMap(matrix)) return out;
    for (const pair of matrix.items) {
      if (!isScalar(pair.key) || !isSeq(pair.value)) continue;
      out.set(
        String(pair.key.value),
        pair.value.items.map((item) =>
          isScalar(item)
            ? typeof item.value === 'string'
              ? item.value
              : (item.source ?? String(item.value))
            : String(item),
        ),
      );
    }
  } catch {
    // the loader reports unreadable files; the slug then uses the parsed values
  }
  return out;
}

/**
 * Reads and checks the `matrix:` of a merged manifest and lists its members. Problems are located
 * errors: a matrix in a base (it would multiply every experiment that extends it), a field the schema
 * does not know, a value that is not a list of scalars, two combinations with the same slug.
 * Returns undefined when the manifest has no matrix.
 */
export function expandMatrix(
  value: Record<string, unknown>,
  origins: Origins,
  leafFile: string,
  name: string,
): MatrixExpansion | undefined {
  if (value.matrix === undefined) return undefined;
  const diagnostics: Diagnostic[] = [];
  const at = (field: string, message: string): Diagnostic => {
    const origin = origins.get(field) ?? origins.get('matrix');
    return { file: origin?.file ?? leafFile, line: origin?.line, col: origin?.col, field, message };
  };
  for (const [field, origin] of origins) {
    if ((field === 'matrix' || field.startsWith('matrix.')) && origin.file && origin.file !== leafFile) {
      diagnostics.push(
        at(
          field,
          `is read from the experiment's own manifest only, never from a base (it would multiply every experiment that extends ${origin.file}); move it to the leaf manifest`,
        ),
      );
      return { members: [], diagnostics };
    }
  }
  const matrix = value.matrix;
  if (!isPlainObject(matrix) || Object.keys(matrix).length === 0) {
    diagnostics.push(at('matrix', 'must be a mapping of field paths to lists of values, e.g. rubric.per_pair: [3, 5]'));
    return { members: [], diagnostics };
  }
  const known = allFieldPaths();
  const axes: { field: string; values: MatrixValue[]; texts: string[] }[] = [];
  const written = writtenValues(leafFile);
  for (const [field, list] of Object.entries(matrix)) {
    const where = `matrix.${field}`;
    const schema = fieldSchema(field);
    if (!schema || NOT_SWEEPABLE.has(field) || field.includes('[')) {
      const near = closest(field, known);
      const hint =
        near && distance(field, near) <= Math.max(2, Math.floor(field.length / 4)) ? ` (did you mean ${near}?)` : '';
      diagnostics.push(
        at(where, NOT_SWEEPABLE.has(field) ? `${field} cannot be swept` : `unknown field ${field}${hint}`),
      );
      continue;
    }
    if (
      !Array.isArray(list) ||
      list.length === 0 ||
      !list.every((v) => ['string', 'number', 'boolean'].includes(typeof v))
    ) {
      diagnostics.push(at(where, 'must be a non-empty list of values (strings, numbers or booleans)'));
      continue;
    }
    const texts = written.get(field);
    axes.push({ field, values: list as MatrixValue[], texts: list.map((v, i) => texts?.[i] ?? String(v)) });
  }
  if (diagnostics.length) return { members: [], diagnostics };

  let combos: { values: [string, MatrixValue][]; parts: string[] }[] = [{ values: [], parts: [] }];
  for (const axis of axes) {
    combos = combos.flatMap((c) =>
      axis.values.map((v, i) => ({
        values: [...c.values, [axis.field, v] as [string, MatrixValue]],
        parts: [...c.parts, slugPart(axis.texts[i])],
      })),
    );
  }
  const members: MatrixMember[] = [];
  const bySlug = new Map<string, [string, MatrixValue][]>();
  for (const combo of combos) {
    const slug = combo.parts.join(MEMBER_SEPARATOR);
    const earlier = bySlug.get(slug);
    if (earlier) {
      const show = (vs: [string, MatrixValue][]) => vs.map(([f, v]) => `${f}=${JSON.stringify(v)}`).join(', ');
      diagnostics.push(
        at(
          'matrix',
          `two combinations get the same name ${name}${MEMBER_SEPARATOR}${slug}: ${show(earlier)} and ${show(combo.values)}; make the values differ after lower-casing and replacing characters outside [a-z0-9.]`,
        ),
      );
      continue;
    }
    bySlug.set(slug, combo.values);
    members.push({ name: `${name}${MEMBER_SEPARATOR}${slug}`, slug, values: combo.values });
  }
  return { members: diagnostics.length ? [] : members, diagnostics };
}

/** Sets `a.b.c` in a plain manifest value, creating mappings on the way. */
export function setField(value: Record<string, unknown>, field: string, v: unknown): void {
  const keys = field.split('.');
  let node = value;
  for (const key of keys.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = v;
}

/**
 * Turns a merged matrix manifest into one member's manifest: `matrix` removed, the member's values set,
 * each value's origin the line of its list item in the leaf manifest (so `arr show` says where it came from).
 */
export function applyMember(value: Record<string, unknown>, origins: Origins, member: MatrixMember): void {
  for (const [field, v] of member.values) {
    const listOrigin = origins.get(joinPath('matrix', field));
    const index = (value.matrix as Record<string, MatrixValue[]>)[field].indexOf(v);
    const itemOrigin = origins.get(`${joinPath('matrix', field)}[${index}]`) ?? listOrigin;
    setField(value, field, v);
    for (const key of [...origins.keys()])
      if (key === field || key.startsWith(`${field}.`) || key.startsWith(`${field}[`)) origins.delete(key);
    origins.set(field, {
      kind: 'file',
      file: itemOrigin?.file,
      line: itemOrigin?.line,
      col: itemOrigin?.col,
      note: `matrix ${field}`,
    });
  }
  delete value.matrix;
  for (const key of [...origins.keys()]) if (key === 'matrix' || key.startsWith('matrix.')) origins.delete(key);
}

/** `exp-flux--3--1.0e-5` → candidate (manifest name, slug) splits, longest manifest name first. */
export function memberSplits(ref: string): { manifest: string; slug: string }[] {
  const out: { manifest: string; slug: string }[] = [];
  for (let i = ref.lastIndexOf(MEMBER_SEPARATOR); i > 0; i = ref.lastIndexOf(MEMBER_SEPARATOR, i - 1)) {
    out.push({ manifest: ref.slice(0, i), slug: ref.slice(i + MEMBER_SEPARATOR.length) });
  }
  return out;
}
