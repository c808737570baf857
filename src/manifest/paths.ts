import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { Diagnostic } from '../diagnostics.js';
import { fieldDiagnostic, isPlainObject, type Origins } from './layers.js';
import { fieldsMarked } from './schema.js';
import { joinPath } from './yaml-source.js';

/** True when `path` is `root` or inside it (both absolute). */
export function isInside(path: string, root: string): boolean {
  // Fast path for the common case (graph building calls this for every image of every target).
  if (path.startsWith(root + sep) && !path.includes(`${sep}..`)) return true;
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** How a resolved path is stored: workspace-relative POSIX when inside the workspace, absolute otherwise. */
export function toStoredPath(absolute: string, workspaceRoot: string): string {
  return isInside(absolute, workspaceRoot) ? relative(workspaceRoot, absolute).split(sep).join('/') || '.' : absolute;
}

/** The absolute path of a stored path. */
export const fromStoredPath = (stored: string, workspaceRoot: string): string =>
  isAbsolute(stored) ? stored : resolve(workspaceRoot, stored);

const readAt = (value: Record<string, unknown>, field: string): unknown =>
  field.split('.').reduce<unknown>((node, key) => (isPlainObject(node) ? node[key] : undefined), value);

/** Every path-valued field present in a manifest, as [field path, value] (list items expanded). */
export function pathFields(value: Record<string, unknown>): [string, string][] {
  const out: [string, string][] = [];
  for (const field of fieldsMarked('x-arr-path')) {
    if (field === 'extends') continue;
    const v = readAt(value, field);
    if (typeof v === 'string') out.push([field, v]);
    else if (Array.isArray(v)) v.forEach((item, i) => typeof item === 'string' && out.push([joinPath(field, i), item]));
  }
  return out;
}

/**
 * Resolves every path field against the folder of the file that declared it, then refuses data paths
 * outside the workspace unless they sit under `data.allowed_roots`. Mutates `value` to stored paths.
 */
export function resolvePaths(
  value: Record<string, unknown>,
  origins: Origins,
  workspaceRoot: string,
  manifestFile: string,
): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const absolute = new Map<string, string>();
  for (const [field, raw] of pathFields(value)) {
    const declaredIn = origins.get(field)?.file ?? manifestFile;
    absolute.set(field, isAbsolute(raw) ? resolve(raw) : resolve(dirname(declaredIn), raw));
  }
  const allowedRoots = [
    workspaceRoot,
    ...[...absolute].filter(([f]) => f.startsWith('data.allowed_roots[')).map(([, p]) => p),
  ];
  for (const [field, path] of absolute) {
    const isRootList = field.startsWith('data.allowed_roots[') || field.startsWith('reward.allowed_roots[');
    if (!isRootList && !allowedRoots.some((root) => isInside(path, root))) {
      diagnostics.push(
        fieldDiagnostic(
          origins,
          field,
          manifestFile,
          `${path} is outside the workspace (${workspaceRoot}); add its folder to data.allowed_roots to use it`,
        ),
      );
    }
    writeAt(value, field, toStoredPath(path, workspaceRoot));
  }
  return diagnostics;
}

function writeAt(value: Record<string, unknown>, field: string, stored: string): void {
  const list = /^(.*)\[(\d+)\]$/.exec(field);
  if (list) {
    (readAt(value, list[1]) as string[])[Number(list[2])] = stored;
    return;
  }
  const keys = field.split('.');
  const parent = readAt(value, keys.slice(0, -1).join('.')) ?? value;
  (keys.length === 1 ? value : (parent as Record<string, unknown>))[keys[keys.length - 1]] = stored;
}
