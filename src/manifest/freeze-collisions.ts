// Two experiments whose `freeze` writes the same rubrics/<name>.v<N>.txt would overwrite (or refuse) each
// other's rubric silently; copying a manifest keeps its freeze.name, so this is easy to do by accident.
import { relative } from 'node:path';
import type { Diagnostic } from '../diagnostics.js';
import { isPlainObject, loadMerged } from './layers.js';
import { experimentName, listExperimentFiles } from './load.js';

/** The frozen file a manifest's `freeze` target writes, workspace-relative; undefined when it cannot be told. */
function frozenFileOf(file: string): { path: string; line?: number; col?: number; declaredIn?: string } | undefined {
  const merged = loadMerged(file);
  const freeze = isPlainObject(merged.value.freeze) ? merged.value.freeze : {};
  const name = freeze.name ?? experimentName(file).toLowerCase();
  const version = freeze.version ?? 1;
  if (typeof name !== 'string' || typeof version !== 'number') return undefined;
  const origin = merged.origins.get('freeze.name');
  return { path: `rubrics/${name}.v${version}.txt`, line: origin?.line, col: origin?.col, declaredIn: origin?.file };
}

/**
 * One error per manifest whose frozen rubric file is also written by another experiment in
 * `experiments/`, naming both manifests. `only`: report just for this manifest (a target's check).
 */
export function freezeCollisions(workspaceRoot: string, only?: string): Diagnostic[] {
  const files = listExperimentFiles(workspaceRoot);
  if (only && !files.includes(only)) files.push(only);
  const byPath = new Map<string, { file: string; at: NonNullable<ReturnType<typeof frozenFileOf>> }[]>();
  for (const file of files) {
    const at = frozenFileOf(file);
    if (!at) continue;
    byPath.set(at.path, [...(byPath.get(at.path) ?? []), { file, at }]);
  }
  const out: Diagnostic[] = [];
  for (const [path, writers] of byPath) {
    if (writers.length < 2) continue;
    for (const w of writers) {
      if (only && w.file !== only) continue;
      const others = writers.filter((o) => o !== w).map((o) => relative(workspaceRoot, o.file));
      out.push({
        file: w.file,
        ...(w.at.declaredIn === w.file ? { line: w.at.line, col: w.at.col } : {}),
        field: 'freeze.name',
        message: `freeze writes ${path}, and so does ${others.join(', ')}: give one of them another freeze.name or freeze.version`,
      });
    }
  }
  return out;
}
