import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyInputs } from '../keys/compute.js';
import type { CachedTarget } from '../keys/slices.js';
import { writeJsonAtomic } from '../store/atomic.js';
import { workspaceCacheDir } from '../workspace.js';

/**
 * A stamp records which key an experiment's target was last built with, and from what inputs. It is
 * the target's Nx output, and what `arr status` diffs against to say which field or file changed.
 */
export interface Stamp {
  schema: 1;
  experiment: string;
  target: CachedTarget;
  key: string;
  inputs: KeyInputs;
  built: string;
}

export const targetOutputDir = (workspaceRoot: string, experiment: string, target: string): string =>
  join(workspaceCacheDir(workspaceRoot), 'experiments', experiment, target);

export async function writeStamp(workspaceRoot: string, stamp: Omit<Stamp, 'schema' | 'built'>): Promise<void> {
  const full: Stamp = { schema: 1, ...stamp, built: new Date().toISOString() };
  await mkdir(targetOutputDir(workspaceRoot, stamp.experiment, stamp.target), { recursive: true });
  await writeJsonAtomic(join(targetOutputDir(workspaceRoot, stamp.experiment, stamp.target), 'stamp.json'), full);
}

export async function readStamp(
  workspaceRoot: string,
  experiment: string,
  target: CachedTarget,
): Promise<Stamp | undefined> {
  try {
    const stamp = JSON.parse(
      await readFile(join(targetOutputDir(workspaceRoot, experiment, target), 'stamp.json'), 'utf8'),
    ) as Stamp;
    return stamp.schema === 1 && stamp.target === target ? stamp : undefined;
  } catch {
    return undefined;
  }
}
