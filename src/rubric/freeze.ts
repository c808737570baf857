// Freezing a verified rubric: rubrics/<name>.v<version>.txt plus its lock (.lock.json), both committed.
//
// Rules:
// - The text file is written first and the lock last, each atomically, so a crash never leaves a lock
//   that points at a missing or partial text. The text is created without replacing (hard link of a temp
//   file), so two processes freezing different texts under one version cannot both win.
// - Same text again (the version's lock and file already record this sha256) → status `unchanged` and
//   nothing is written, even when the new metrics differ: the lock records the verification the rubric was
//   frozen with; later measurements belong in verify reports, not in a reviewed file that changes under it.
// - A crash between the two writes is repaired: a text without its lock (or a lock with the same sha256
//   whose file is missing) gets the missing half written (status `written`). A lock that no longer
//   validates against the schema while naming this text's sha256 is rewritten too.
// - A different text under an existing version is refused, naming both sha256s: bump freeze.version.
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { link, mkdir, open, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InvalidInputError, type Diagnostic } from '../diagnostics.js';
import { joinPath, parseYaml, pointerToField, type Position } from '../manifest/yaml-source.js';
import { errorWithPath, writeFileAtomic, writeJsonAtomic } from '../store/atomic.js';
import { sha256Hex } from '../store/canonical-json.js';
import type { RubricLock } from '../types/rubric-lock.js';
import { schemas } from '../types/schemas.js';
import { parseRubricStrict } from './text.js';

export const RUBRIC_NAME = /^[a-z0-9][a-z0-9._-]*$/;

/** What the caller supplies; the name, version, text hash and time are filled in by freezeRubric. */
export type RubricLockInput = Omit<RubricLock, 'schema' | 'name' | 'version' | 'rubric_sha256' | 'frozen_at'>;

export interface FreezeInput {
  name: string;
  version: number;
  text: string;
  lock: RubricLockInput;
  /** Time recorded as frozen_at (default now). */
  now?: Date;
}

export interface FreezeResult {
  /** Absolute path of rubrics/<name>.v<version>.txt. */
  txt: string;
  /** Absolute path of rubrics/<name>.v<version>.lock.json. */
  lockFile: string;
  /** `unchanged`: this version already held this exact text and its lock; nothing was written. */
  status: 'written' | 'unchanged';
  /** sha256 of the text. */
  sha256: string;
}

/** `rubrics/<name>.v<version>.txt` and `.lock.json` under a workspace. */
export function frozenRubricPaths(
  workspaceRoot: string,
  name: string,
  version: number,
): { txt: string; lockFile: string } {
  const base = join(workspaceRoot, 'rubrics', `${name}.v${version}`);
  return { txt: `${base}.txt`, lockFile: `${base}.lock.json` };
}

/** The lock that sits beside a frozen text: `x.v1.txt` → `x.v1.lock.json`. */
export const lockPathFor = (txt: string): string =>
  join(dirname(txt), `${basename(txt).replace(/\.txt$/i, '')}.lock.json`);

/** `x.v1.txt` → { name: 'x', version: 1 }, or undefined when the file is not named like a frozen rubric. */
export function parseFrozenName(file: string): { name: string; version: number } | undefined {
  const m = /^(.+)\.v(\d+)\.txt$/.exec(basename(file));
  if (!m || !RUBRIC_NAME.test(m[1]) || Number(m[2]) < 1) return undefined;
  return { name: m[1], version: Number(m[2]) };
}

export const shortSha = (sha: string): string => `${sha.slice(0, 12)}…`;

/** Writes a verified rubric and its lock; see the rules at the top of this file. */
export async function freezeRubric(workspaceRoot: string, input: FreezeInput): Promise<FreezeResult> {
  const { name, version, text } = input;
  if (!RUBRIC_NAME.test(name)) throw new Error(`freeze.name ${JSON.stringify(name)} must match ${RUBRIC_NAME.source}`);
  if (!Number.isInteger(version) || version < 1)
    throw new Error(`freeze.version must be an integer >= 1, got ${version}`);
  const { txt, lockFile } = frozenRubricPaths(workspaceRoot, name, version);
  if (text.trim() === '') throw new Error(`refusing to freeze an empty rubric as ${txt}`);
  // Texts generated here must keep their format; a reused one (rubric.from) is any text, as the reference takes it.
  const parsed = input.lock.source_artifact === null ? { diagnostics: [] } : parseRubricStrict(text, txt);
  if (parsed.diagnostics.length)
    throw new InvalidInputError(
      parsed.diagnostics.map((d) => ({ ...d, message: `rubric to freeze: ${d.message}` })),
      workspaceRoot,
    );

  const sha256 = sha256Hex(text);
  const lock: RubricLock = {
    schema: 1,
    name,
    version,
    rubric_sha256: sha256,
    ...input.lock,
    frozen_at: (input.now ?? new Date()).toISOString(),
  };
  // Key order as the schema lists it, whatever order the caller built `input.lock` in.
  const ordered = Object.fromEntries(
    Object.keys(schemas.rubricLock.properties).map((k) => [k, lock[k as keyof RubricLock]]),
  ) as unknown as RubricLock;
  const problems = validateLockValue(ordered);
  if (problems.length)
    throw new Error(
      `cannot freeze ${name} v${version}: the lock would be invalid: ${problems.map((p) => `${p.field || 'lock'} ${p.message}`).join('; ')}`,
    );

  const existing = readExisting(txt, lockFile);
  const bump = `bump freeze.version (to ${version + 1} or later) to freeze a new version`;
  if (existing.lockSha !== undefined && existing.lockSha !== sha256) {
    throw new Error(
      `${name} v${version} is already frozen with a different text: the lock records sha256 ${existing.lockSha}, the new text has sha256 ${sha256}; ${bump}`,
    );
  }
  if (existing.txtSha !== undefined && existing.txtSha !== sha256) {
    const why =
      existing.lockSha === sha256
        ? ' (the frozen file was edited after freezing; restore it from version control)'
        : '';
    throw new Error(
      `${txt} already holds a different text: sha256 ${existing.txtSha} on disk, the new text has sha256 ${sha256}${why}; ${bump}`,
    );
  }
  if (existing.txtSha === sha256 && existing.lockSha === sha256 && existing.lockValid)
    return { txt, lockFile, status: 'unchanged', sha256 };

  await mkdir(dirname(txt), { recursive: true });
  if (existing.txtSha === undefined) await writeNewFile(txt, text, sha256, bump);
  if (!(existing.lockSha === sha256 && existing.lockValid)) await writeJsonAtomic(lockFile, ordered);
  return { txt, lockFile, status: 'written', sha256 };
}

function readExisting(txt: string, lockFile: string): { txtSha?: string; lockSha?: string; lockValid: boolean } {
  const txtSha = existsSync(txt) ? sha256Hex(readFileSync(txt)) : undefined;
  if (!existsSync(lockFile)) return { txtSha, lockValid: false };
  const read = readLockFile(lockFile);
  if (read.value === undefined) {
    throw new InvalidInputError([
      ...read.diagnostics,
      {
        file: lockFile,
        message:
          'the existing lock cannot be read; restore it from version control or delete it together with its .txt',
      },
    ]);
  }
  const recorded = (read.value as { rubric_sha256?: unknown }).rubric_sha256;
  return {
    txtSha,
    lockSha: typeof recorded === 'string' ? recorded : undefined,
    lockValid: read.diagnostics.length === 0,
  };
}

/** Creates `path` with `text`, never replacing a file: on a race, the file already there must hold the same text. */
async function writeNewFile(path: string, text: string, sha256: string, bump: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    // ENOSPC and friends: leave no temp file behind, and say which file could not be written.
    await rm(tmp, { force: true }).catch(() => {});
    throw errorWithPath(error, path);
  }
  try {
    await link(tmp, path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      const there = sha256Hex(readFileSync(path));
      if (there !== sha256)
        throw new Error(
          `${path} was frozen by another process with a different text (sha256 ${there}, this text ${sha256}); ${bump}`,
        );
    } else if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV' || code === 'ENOSYS') {
      await writeFileAtomic(path, text); // filesystems without hard links: atomic, though not race-proof
    } else {
      throw error;
    }
  } finally {
    await rm(tmp, { force: true });
  }
}

// ---- lock validation (shared with `arr rubric check`) ----

let validator: ValidateFunction | undefined;
function lockValidator(): ValidateFunction {
  if (!validator) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictTuples: false });
    // RFC 3339 date-time, checked here rather than through ajv-formats (whose default export differs
    // between the ESM and CommonJS loaders the engine runs under).
    ajv.addFormat('date-time', {
      type: 'string',
      validate: (s: string) =>
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i.test(s) && !Number.isNaN(Date.parse(s)),
    });
    validator = ajv.compile(schemas.rubricLock);
  }
  return validator;
}

function lockMessage(error: ErrorObject): { field: string; message: string } {
  const field = pointerToField(error.instancePath);
  switch (error.keyword) {
    case 'required':
      return { field: joinPath(field, String(error.params.missingProperty)), message: 'is required' };
    case 'additionalProperties':
      return {
        field: joinPath(field, String(error.params.additionalProperty)),
        message: 'unknown key (not in schemas/rubric-lock.schema.json)',
      };
    case 'const':
      return { field, message: `must be ${JSON.stringify(error.params.allowedValue)}` };
    case 'pattern':
      return {
        field,
        message: field.endsWith('name')
          ? `must match ${String(error.params.pattern)}`
          : 'must be a sha256 (64 lowercase hex characters)',
      };
    default:
      return { field, message: error.message ?? 'is invalid' };
  }
}

/** Schema problems of a lock value, as diagnostics with a field (and a line when `positions` is given). */
export function validateLockValue(value: unknown, file = '<lock>', positions?: Map<string, Position>): Diagnostic[] {
  const validate = lockValidator();
  if (validate(value)) return [];
  const errors = validate.errors ?? [];
  // A failed oneOf also reports each branch; keep the oneOf itself, phrased by the branch that was meant.
  const oneOf = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const error of errors) {
    if (error.keyword === 'oneOf') continue;
    const underOneOf = [...oneOf].some((p) => error.instancePath === p || error.instancePath.startsWith(`${p}/`));
    // Inside a oneOf, the branch that says "must be null" is noise next to the real branch's error.
    if (underOneOf && error.keyword === 'type' && (error.params.type === 'null' || error.params.type === 'object'))
      continue;
    const { field, message } = lockMessage(error);
    const key = `${field}\0${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const at = positionOf(positions, field);
    out.push({ file, ...(at ? { line: at.line, col: at.col } : {}), field, message });
  }
  // A oneOf whose branches were all filtered out above still must say something.
  for (const p of oneOf) {
    const field = pointerToField(p);
    if (!out.some((d) => d.field === field || d.field?.startsWith(`${field}.`))) {
      const at = positionOf(positions, field);
      out.push({
        file,
        ...(at ? { line: at.line, col: at.col } : {}),
        field,
        message: 'must be null or match the schema (see schemas/rubric-lock.schema.json)',
      });
    }
  }
  return out;
}

function positionOf(positions: Map<string, Position> | undefined, field: string): Position | undefined {
  if (!positions) return undefined;
  for (let f = field; ; ) {
    const at = positions.get(f);
    if (at || !f) return at;
    const cut = Math.max(f.lastIndexOf('.'), f.lastIndexOf('['));
    f = cut > 0 ? f.slice(0, cut) : '';
  }
}

/**
 * Reads and validates a lock file. `value` is undefined when the file cannot be read or is not JSON
 * (the diagnostics say where); otherwise it is the parsed value and `diagnostics` its schema problems.
 */
export function readLockFile(lockFile: string): { value?: unknown; lock?: RubricLock; diagnostics: Diagnostic[] } {
  let text: string;
  try {
    text = readFileSync(lockFile, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message;
    return { diagnostics: [{ file: lockFile, message: `cannot read the lock: ${reason}` }] };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const at = /position (\d+)/.exec((error as Error).message);
    const offset = at ? Number(at[1]) : undefined;
    const before = offset === undefined ? undefined : text.slice(0, offset).split('\n');
    return {
      diagnostics: [
        {
          file: lockFile,
          ...(before ? { line: before.length, col: before[before.length - 1].length + 1 } : {}),
          message: `the lock is not valid JSON: ${(error as Error).message}`,
        },
      ],
    };
  }
  const positions = parseYaml(lockFile, text).source?.positions;
  const diagnostics = validateLockValue(value, lockFile, positions);
  return { value, lock: diagnostics.length ? undefined : (value as RubricLock), diagnostics };
}

/** Where a field of a lock file is written (1-based), for diagnostics about its values. */
export function lockFieldPosition(lockFile: string, field: string): Position | undefined {
  try {
    return positionOf(parseYaml(lockFile, readFileSync(lockFile, 'utf8')).source?.positions, field);
  } catch {
    return undefined;
  }
}
