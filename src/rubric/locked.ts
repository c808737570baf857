// Reading a rubric that a run will use (serve, train, rubric.from) the only safe way: checked against
// its lock. A frozen rubric (rubrics/<name>.v<N>.txt) must pass every check `arr rubric check` makes;
// any other file (rubrics/imported/… from `arr import`, a hand-written rubric.from) must match the lock
// beside it. A rubric without a lock is read only when the user opted in (rubric.allow_unlocked,
// `arr serve --allow-unlocked`); a lock that does not match is refused whatever the opt-in says.
// The text itself is taken as the reference takes it: any non-empty text.
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { isError, type Diagnostic } from '../diagnostics.js';
import { sha256Hex } from '../store/canonical-json.js';
import { ArrError } from '../util/errors.js';
import { checkFrozenRubric, isFrozenLocation } from './check.js';
import { lockPathFor, readLockFile, shortSha, validateLockValue } from './freeze.js';
import { writeJsonAtomic } from '../store/atomic.js';
import type { RubricLock } from '../types/rubric-lock.js';

export interface LockedRubric {
  /** Absolute path of the rubric text. */
  file: string;
  text: string;
  sha256: string;
  /** The lock it matched, or null when it has none and unlocked use was allowed. */
  lock: string | null;
  /** `verified`: frozen here; `imported`: locked by `arr import`; `unlocked`: no lock, allowed explicitly. */
  trust: 'verified' | 'imported' | 'unlocked';
}

export interface LockedRubricOptions {
  /** Read a rubric with no lock (the user opted in). */
  allowUnlocked?: boolean;
  /** How the user opts in, named in the refusal (default `rubric.allow_unlocked: true`). */
  optIn?: string;
}

/** A rubric that fails its lock check, or has none; names the lock. */
export class RubricLockError extends ArrError {
  override name = 'RubricLockError';
}

/** Reads `file` and verifies it against its lock; throws RubricLockError naming the lock when it fails. */
export function readLockedRubric(file: string, workspaceRoot: string, options: LockedRubricOptions = {}): LockedRubric {
  const rel = (p: string) => relative(workspaceRoot, p) || p;
  const lockFile = lockPathFor(file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message;
    throw new RubricLockError(`cannot read the rubric ${rel(file)}: ${reason}`);
  }
  const text = bytes.toString('utf8');
  const sha256 = sha256Hex(bytes);
  if (text.trim() === '') throw new RubricLockError(`the rubric ${rel(file)} is empty`);
  const optIn = options.optIn ?? 'rubric.allow_unlocked: true';

  if (!existsSync(lockFile)) {
    if (options.allowUnlocked) return { file, text, sha256, lock: null, trust: 'unlocked' };
    throw new RubricLockError(
      `the rubric ${rel(file)} has no lock (expected ${rel(lockFile)}), so nothing vouches for its text`,
      {
        hint: `freeze it (npx nx run <experiment>:freeze), import it with \`arr import\` (which writes a lock), or opt in with ${optIn}`,
      },
    );
  }
  const fail = (diagnostics: Diagnostic[]): never => {
    const errors = diagnostics.filter(isError);
    throw new RubricLockError(
      `the rubric ${rel(file)} fails its lock check (${rel(lockFile)}): ${errors.map((d) => `${d.field ? `${d.field} ` : ''}${d.message}`).join('; ')}`,
      {
        diagnostics: errors,
        hint: 'restore the text (or the lock) from version control; a changed rubric is frozen as a new version, or re-imported',
      },
    );
  };

  if (isFrozenLocation(file, workspaceRoot)) {
    const check = checkFrozenRubric(file, workspaceRoot);
    if (!check.ok) fail(check.diagnostics);
    return { file, text, sha256, lock: lockFile, trust: 'verified' };
  }
  const read = readLockFile(lockFile);
  if (!read.lock) fail(read.diagnostics);
  const lock = read.lock!;
  if (lock.rubric_sha256 !== sha256) {
    fail([
      {
        file,
        message: `sha256 ${shortSha(sha256)} does not match the lock's ${shortSha(lock.rubric_sha256)}: the text changed after it was locked`,
      },
    ]);
  }
  return { file, text, sha256, lock: lockFile, trust: lock.source === 'imported' ? 'imported' : 'verified' };
}

/**
 * Writes the lock of an imported rubric (`source: imported`): it records the text's sha256 and where
 * it came from, so later readers notice an edit; it vouches for no verification (metrics are null).
 * Returns the lock's path.
 */
export async function writeImportedLock(
  file: string,
  input: { name: string; importedFrom: string; now?: Date },
): Promise<string> {
  const lockFile = lockPathFor(file);
  const lock: RubricLock = {
    schema: 1,
    source: 'imported',
    name: input.name,
    version: 1,
    rubric_sha256: sha256Hex(readFileSync(file)),
    source_artifact: null,
    verify_key: null,
    prompt_version: null,
    judge_model: null,
    datasets: { seed: null, test: null },
    metrics: null,
    thresholds: null,
    frozen_at: (input.now ?? new Date()).toISOString(),
    imported_from: input.importedFrom,
  };
  const problems = validateLockValue(lock, lockFile);
  if (problems.length)
    throw new ArrError(
      `cannot lock the imported rubric ${file}: ${problems.map((p) => `${p.field || 'lock'} ${p.message}`).join('; ')}`,
    );
  await writeJsonAtomic(lockFile, lock);
  return lockFile;
}
