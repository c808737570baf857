import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics.js';
import { joinPath, readYamlFile, type Position, type YamlSource } from './yaml-source.js';

/** Where a resolved value came from, for `arr show` and for error positions. */
export interface Origin {
  kind: 'file' | 'default' | 'derived' | 'cli';
  file?: string;
  line?: number;
  col?: number;
  /** Environment variables the value was read from, and whether their default was used. */
  env?: { name: string; usedDefault: boolean }[];
  note?: string;
}

export type Origins = Map<string, Origin>;

export interface MergedManifest {
  /** The experiment's own file, then every file it extends, nearest first. */
  chain: string[];
  /**
   * Every file the merge tried to read, whether it parsed, failed or did not exist: what a cached
   * result of this merge must be invalidated by (fixing a syntax error or creating a missing base).
   */
  tried: string[];
  value: Record<string, unknown>;
  origins: Origins;
  diagnostics: Diagnostic[];
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const isUnder = (path: string, prefix: string) =>
  path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);

function dropOrigins(origins: Origins, prefix: string): void {
  for (const key of [...origins.keys()]) if (isUnder(key, prefix)) origins.delete(key);
}

function fileOrigin(file: string, pos: Position | undefined): Origin {
  return { kind: 'file', file, line: pos?.line, col: pos?.col };
}

function mergeLayer(
  target: Record<string, unknown>,
  layer: YamlSource,
  value: Record<string, unknown>,
  path: string,
  origins: Origins,
): void {
  for (const [key, incoming] of Object.entries(value)) {
    if (!path && key === 'extends') continue;
    const childPath = joinPath(path, key);
    if (incoming === null) {
      delete target[key];
      dropOrigins(origins, childPath);
      continue;
    }
    const current = target[key];
    if (isPlainObject(incoming) && isPlainObject(current)) {
      if (!origins.has(childPath)) origins.set(childPath, fileOrigin(layer.file, layer.positions.get(childPath)));
      mergeLayer(current, layer, incoming, childPath, origins);
      continue;
    }
    target[key] = structuredClone(incoming);
    dropOrigins(origins, childPath);
    for (const [p, pos] of layer.positions) if (isUnder(p, childPath)) origins.set(p, fileOrigin(layer.file, pos));
  }
}

function extendsList(source: YamlSource, diagnostics: Diagnostic[]): { path: string; field: string }[] {
  const raw = isPlainObject(source.value) ? source.value.extends : undefined;
  if (raw === undefined || raw === null) return [];
  const entries = Array.isArray(raw) ? raw : [raw];
  const out: { path: string; field: string }[] = [];
  entries.forEach((entry, i) => {
    const field = Array.isArray(raw) ? `extends[${i}]` : 'extends';
    const pos = source.positions.get(field) ?? source.positions.get('extends');
    if (typeof entry !== 'string' || entry.length === 0) {
      diagnostics.push({
        file: source.file,
        ...pos,
        field,
        message: 'must be a path to a manifest (a non-empty string)',
      });
    } else if (entry.includes('${')) {
      diagnostics.push({
        file: source.file,
        ...pos,
        field,
        message: 'cannot use environment references: the graph is built from extends before any task runs',
      });
    } else {
      out.push({ path: isAbsolute(entry) ? entry : resolve(dirname(source.file), entry), field });
    }
  });
  return out;
}

/**
 * Reads a manifest and its `extends` chain and merges them: mappings merge key by key, scalars and
 * lists replace, `key: null` deletes. Bases apply left to right, then the file itself.
 */
export function loadMerged(
  file: string,
  read: (path: string) => ReturnType<typeof readYamlFile> = readYamlFile,
  options: { workspaceRoot?: string } = {},
): MergedManifest {
  const diagnostics: Diagnostic[] = [];
  const chain: string[] = [];
  const tried: string[] = [];
  const origins: Origins = new Map();
  const value: Record<string, unknown> = {};
  // Bases must sit under the workspace or the leaf manifest's data.allowed_roots, like data paths do.
  let roots: string[] | undefined;

  const visit = (path: string, stack: string[], via?: { file: string; field: string; pos?: Position }): void => {
    if (stack.includes(path)) {
      const cycle = [...stack.slice(stack.indexOf(path)), path].join(' → ');
      diagnostics.push({ file: via!.file, ...via!.pos, field: via!.field, message: `extends cycle: ${cycle}` });
      return;
    }
    if (!tried.includes(path)) tried.push(path);
    if (via && roots) {
      const outside = outsideRoots(path, roots);
      if (outside) {
        diagnostics.push({ file: via.file, ...via.pos, field: via.field, message: outside });
        return;
      }
    }
    const { source, diagnostics: readProblems } = read(path);
    if (!source) {
      if (via) {
        for (const p of readProblems) {
          diagnostics.push(
            p.line ? p : { file: via.file, ...via.pos, field: via.field, message: `${p.message}: ${path}` },
          );
        }
      } else diagnostics.push(...readProblems);
      return;
    }
    if (!chain.includes(path)) chain.push(path);
    if (source.value === null || source.value === undefined) {
      diagnostics.push({ file: path, line: 1, col: 1, message: 'the manifest is empty' });
      return;
    }
    if (!isPlainObject(source.value)) {
      diagnostics.push({ file: path, line: 1, col: 1, message: 'a manifest must be a mapping of keys to values' });
      return;
    }
    if (!via && options.workspaceRoot) roots = manifestRoots(options.workspaceRoot, source);
    for (const base of extendsList(source, diagnostics)) {
      visit(base.path, [...stack, path], { file: path, field: base.field, pos: source.positions.get(base.field) });
    }
    mergeLayer(value, source, source.value, '', origins);
  };

  visit(resolve(file), []);
  return { chain, tried, value, origins, diagnostics };
}

/** The workspace and the leaf manifest's `data.allowed_roots` (relative to the leaf), symlinks resolved. */
function manifestRoots(workspaceRoot: string, leaf: YamlSource): string[] {
  const data = isPlainObject(leaf.value) ? leaf.value.data : undefined;
  const listed = isPlainObject(data) && Array.isArray(data.allowed_roots) ? data.allowed_roots : [];
  const given = [
    workspaceRoot,
    ...listed
      .filter((r): r is string => typeof r === 'string' && r !== '' && !r.includes('${'))
      .map((r) => resolve(dirname(leaf.file), r)),
  ];
  return given.map(realOrSelf);
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** Why `path` may not be read as a manifest base (symlinks resolved first), or undefined when it may. */
function outsideRoots(path: string, roots: string[]): string | undefined {
  const real = realOrSelf(path);
  if (roots.some((root) => isInsideRoot(real, root))) return undefined;
  const shown = real === path ? path : `${path} (a link to ${real})`;
  return `${shown} is outside the workspace and data.allowed_roots; a base manifest must live under one of them (${roots.join(', ')})`;
}

const isInsideRoot = (path: string, root: string): boolean => {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

/** `judge.concurrency` → `judge`, `data.allowed_roots[0]` → `data.allowed_roots`, `task` → ``. */
export const parentField = (field: string): string => field.replace(/(\.[^.[\]]+|\[\d+\]|^[^.[\]]+)$/, '');

/** Where a field is written in a file, or where its nearest written ancestor is. */
export function nearestOrigin(origins: Origins, field: string): Origin | undefined {
  for (let path = field; path; path = parentField(path)) {
    const origin = origins.get(path);
    if (origin?.file) return origin;
  }
  return origins.get(field);
}

/** A diagnostic placed where the field (or its nearest set ancestor) is written; `fallbackFile` when nowhere. */
export function fieldDiagnostic(
  origins: Origins,
  field: string,
  fallbackFile: string,
  message: string,
  severity?: Diagnostic['severity'],
): Diagnostic {
  const origin = nearestOrigin(origins, field);
  return {
    file: origin?.file ?? fallbackFile,
    line: origin?.line,
    col: origin?.col,
    field,
    message,
    ...(severity ? { severity } : {}),
  };
}
