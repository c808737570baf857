// `arr rubric check`: the CI gate for frozen rubrics and the experiments that reuse them.
//
// A frozen rubric is a file directly under rubrics/ (`rubrics/<name>.v<N>.txt`). Each must have a lock
// beside it that validates against schemas/rubric-lock.schema.json, records the file's sha256, the name
// and version of its file name, and metrics that meet the thresholds recorded in the same lock; a text
// generated here must parse (one that starts as `Rubric 1:` blocks or a numbered list keeps that format),
// while a reused text (no source artifact) is any text, as the reference takes it.
// Files in subfolders (rubrics/imported/ from `arr import`) are not frozen: any text, as the reference
// takes it, vouched for by the lock `arr import` writes beside it (or, without one, only when the
// experiment sets rubric.allow_unlocked).
// Every experiment (experiments/*.yaml) whose rubric.from names a file: the file exists, and when it is a
// frozen rubric it passes the checks above.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { isError, type Diagnostic } from '../diagnostics.js';
import type { Env } from '../manifest/env.js';
import { fieldDiagnostic } from '../manifest/layers.js';
import { experimentsIn, listExperimentFiles, loadExperiment, type LoadedExperiment } from '../manifest/load.js';
import { fromStoredPath } from '../manifest/paths.js';
import { sha256Hex } from '../store/canonical-json.js';
import type { RubricLock } from '../types/rubric-lock.js';
import { lockFieldPosition, lockPathFor, parseFrozenName, readLockFile, shortSha } from './freeze.js';
import { parseRubricStrict } from './text.js';

/** Threshold comparisons allow this much floating-point noise (gain is a difference of two ratios). */
const EPSILON = 1e-9;

export interface RubricFileCheck {
  /** Absolute path of the rubric text. */
  file: string;
  /** Absolute path of its lock (whether or not it exists). */
  lock: string;
  ok: boolean;
  /** sha256 of the text, when it could be read. */
  sha256: string | null;
  /** The lock's metrics, when the lock is valid. */
  metrics: RubricLock['metrics'] | null;
  diagnostics: Diagnostic[];
}

export interface ExperimentRubricCheck {
  /** Absolute path of the manifest. */
  file: string;
  name: string;
  /** rubric.from as resolved (absolute), or null when the experiment does not reuse a rubric. */
  rubric: string | null;
  ok: boolean;
  diagnostics: Diagnostic[];
}

export interface RubricCheckReport {
  ok: boolean;
  rubrics: RubricFileCheck[];
  experiments: ExperimentRubricCheck[];
}

export interface RubricCheckOptions {
  /** Rubric texts and/or manifests to check (default: every rubrics/*.txt and every experiments/*.yaml). */
  files?: string[];
  /** Folder `files` are relative to (default process.cwd()). */
  cwd?: string;
  env?: Env;
}

/** Every frozen rubric text: `rubrics/*.txt` (not subfolders), sorted. */
export function listFrozenRubrics(workspaceRoot: string): string[] {
  const dir = join(workspaceRoot, 'rubrics');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && extname(e.name).toLowerCase() === '.txt' && !e.name.startsWith('.'))
    .map((e) => join(dir, e.name))
    .sort();
}

/** True for a file directly under `<workspace>/rubrics/`, the only place frozen rubrics live. */
export const isFrozenLocation = (file: string, workspaceRoot: string): boolean =>
  dirname(resolve(file)) === join(workspaceRoot, 'rubrics');

/** Checks one frozen rubric text against its lock. */
export function checkFrozenRubric(file: string, workspaceRoot: string): RubricFileCheck {
  const txt = resolve(file);
  const lockFile = lockPathFor(txt);
  const diagnostics: Diagnostic[] = [];
  const result = (sha256: string | null, metrics: RubricLock['metrics'] | null): RubricFileCheck => ({
    file: txt,
    lock: lockFile,
    ok: !diagnostics.some(isError),
    sha256,
    metrics,
    diagnostics,
  });
  const rel = (p: string) => relative(workspaceRoot, p) || p;

  let bytes: Buffer;
  try {
    bytes = readFileSync(txt);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message;
    diagnostics.push({ file: txt, message: `cannot read the rubric: ${reason}` });
    return result(null, null);
  }
  const sha256 = sha256Hex(bytes);
  const named = parseFrozenName(txt);
  if (!named) {
    diagnostics.push({
      file: txt,
      message:
        'a frozen rubric is named <name>.v<version>.txt (name matching ^[a-z0-9][a-z0-9._-]*$); keep other rubric texts in a subfolder such as rubrics/imported/',
    });
  }
  const strictFormat = () => diagnostics.push(...parseRubricStrict(bytes.toString('utf8'), txt).diagnostics);

  if (!existsSync(lockFile)) {
    strictFormat();
    diagnostics.push({
      file: txt,
      message: `has no lock beside it (expected ${rel(lockFile)}): frozen rubrics are written with their lock by the freeze target, not copied in by hand`,
    });
    return result(sha256, null);
  }
  const read = readLockFile(lockFile);
  diagnostics.push(...read.diagnostics);
  const lock = read.lock;
  // Only a text generated here (it has a source artifact) must keep the format it was generated in.
  if (!lock || lock.source_artifact !== null) strictFormat();
  if (!lock) return result(sha256, null);

  const at = (field: string, message: string, severity?: 'warning'): Diagnostic => {
    const pos = lockFieldPosition(lockFile, field);
    return {
      file: lockFile,
      ...(pos ? { line: pos.line, col: pos.col } : {}),
      field,
      message,
      ...(severity ? { severity } : {}),
    };
  };
  if (lock.rubric_sha256 !== sha256) {
    diagnostics.push({
      file: txt,
      message: `sha256 ${shortSha(sha256)} does not match its lock (expected ${shortSha(lock.rubric_sha256)}): the frozen file was edited; freeze a new version instead`,
    });
  }
  if (named && lock.name !== named.name)
    diagnostics.push(
      at(
        'name',
        `is ${JSON.stringify(lock.name)} but the file is ${basename(txt)} (expected ${JSON.stringify(named.name)})`,
      ),
    );
  if (named && lock.version !== named.version)
    diagnostics.push(at('version', `is ${lock.version} but the file is ${basename(txt)} (expected ${named.version})`));

  const { metrics: m, thresholds: t } = lock;
  if (!m || !t) {
    diagnostics.push(
      at(
        'source',
        'is imported (no verification recorded): a rubric directly under rubrics/ is frozen by the freeze target; keep imported rubrics in rubrics/imported/',
      ),
    );
    return result(sha256, null);
  }
  if (m.accuracy + EPSILON < t.min_accuracy) {
    diagnostics.push(
      at(
        'metrics.accuracy',
        `${m.accuracy} is below the lock's thresholds.min_accuracy ${t.min_accuracy}: this rubric did not pass verification`,
      ),
    );
  }
  if (m.agreement !== null && m.agreement + EPSILON < t.min_agreement) {
    diagnostics.push(
      at(
        'metrics.agreement',
        `${m.agreement} is below the lock's thresholds.min_agreement ${t.min_agreement}: the judge's verdicts depend on candidate order`,
      ),
    );
  }
  if (m.gain !== null && m.gain + EPSILON < t.min_gain) {
    diagnostics.push(
      at(
        'metrics.gain',
        `${m.gain} is below the lock's thresholds.min_gain ${t.min_gain}: the rubric does not beat the direct-judge baseline by enough`,
      ),
    );
  }
  if (m.ci95[0] > m.ci95[1])
    diagnostics.push(at('metrics.ci95', `[${m.ci95.join(', ')}] is not an interval (low > high)`));

  // The datasets behind the rubric may move on; that does not invalidate the frozen text, but say so.
  for (const kind of ['seed', 'test'] as const) {
    const d = lock.datasets[kind];
    if (!d) continue;
    const path = fromStoredPath(d.path, workspaceRoot);
    if (!existsSync(path)) {
      diagnostics.push(at(`datasets.${kind}`, `${d.path} no longer exists (the rubric was frozen with it)`, 'warning'));
    } else {
      const now = sha256Hex(readFileSync(path));
      if (now !== d.sha256)
        diagnostics.push(
          at(
            `datasets.${kind}`,
            `${d.path} changed since freezing (sha256 ${shortSha(now)}, lock ${shortSha(d.sha256)}); re-verify before relying on these metrics`,
            'warning',
          ),
        );
    }
  }
  return result(sha256, m);
}

/**
 * Loads an experiment for checks that do not run anything: a `${VAR}` with no default whose variable is
 * unset (an API key in CI) gets a placeholder rather than failing the load.
 */
export function loadExperimentForCheck(
  file: string,
  workspaceRoot: string,
  env: Env = process.env,
  member?: string,
): LoadedExperiment {
  const loaded = loadExperiment(file, { workspaceRoot, env, member });
  if (loaded.ok) return loaded;
  const unset = loaded.envRefs
    .filter((r) => r.default === undefined && (env[r.name] === undefined || env[r.name] === ''))
    .map((r) => r.name);
  if (unset.length === 0) return loaded;
  return loadExperiment(file, {
    workspaceRoot,
    member,
    env: { ...env, ...Object.fromEntries(unset.map((n) => [n, `unset-${n}`])) },
  });
}

/** Checks an experiment's rubric.from; `frozen` caches the checks of frozen rubrics by path. */
export function checkExperimentRubric(
  file: string,
  workspaceRoot: string,
  frozen: Map<string, RubricFileCheck>,
  env?: Env,
  member?: string,
): ExperimentRubricCheck {
  if (!existsSync(resolve(file))) {
    return {
      file: resolve(file),
      name: basename(file).replace(/\.ya?ml$/i, ''),
      rubric: null,
      ok: false,
      diagnostics: [{ file: resolve(file), message: 'manifest not found' }],
    };
  }
  const loaded = loadExperimentForCheck(resolve(file), workspaceRoot, env, member);
  const base = { file: loaded.file, name: loaded.name };
  if (!loaded.ok || !loaded.experiment) {
    const first = loaded.diagnostics.find(isError);
    return {
      ...base,
      rubric: null,
      ok: true,
      diagnostics: [
        {
          file: loaded.file,
          severity: 'warning',
          message: `not checked: the manifest does not load (${first?.message ?? 'invalid'}); run arr validate ${loaded.name}`,
        },
      ],
    };
  }
  const from = loaded.experiment.rubric.from;
  if (from === null) return { ...base, rubric: null, ok: true, diagnostics: [] };
  const path = fromStoredPath(from, workspaceRoot);
  const diagnostics: Diagnostic[] = [];
  const at = (message: string) => fieldDiagnostic(loaded.origins, 'rubric.from', loaded.file, message);
  if (!existsSync(path)) {
    const named = parseFrozenName(path);
    const versions =
      named && isFrozenLocation(path, workspaceRoot)
        ? listFrozenRubrics(workspaceRoot)
            .map((f) => parseFrozenName(f))
            .filter((n) => n?.name === named.name)
            .map((n) => `v${n!.version}`)
        : [];
    diagnostics.push(
      at(
        `${from} does not exist${versions.length ? ` (frozen versions of ${named!.name}: ${versions.join(', ')})` : ''}`,
      ),
    );
  } else if (isFrozenLocation(path, workspaceRoot)) {
    let check = frozen.get(path);
    if (!check) {
      check = checkFrozenRubric(path, workspaceRoot);
      frozen.set(path, check);
    }
    const firstError = check.diagnostics.find(isError);
    if (firstError)
      diagnostics.push(
        at(
          `${from} is not a valid frozen rubric: ${firstError.message}${check.diagnostics.filter(isError).length > 1 ? ' (and more; see its own check)' : ''}`,
        ),
      );
  } else {
    // Imported and hand-written rubrics are any text, as the reference takes them; their lock vouches for them.
    const lockFile = lockPathFor(path);
    if (existsSync(lockFile)) {
      const read = readLockFile(lockFile);
      diagnostics.push(
        ...read.diagnostics
          .filter(isError)
          .map((d) =>
            at(
              `${from}: its lock ${relative(workspaceRoot, lockFile)} is invalid: ${d.field ? `${d.field} ` : ''}${d.message}`,
            ),
          ),
      );
      if (read.lock && read.lock.rubric_sha256 !== sha256Hex(readFileSync(path))) {
        diagnostics.push(
          at(
            `${from} does not match its lock ${relative(workspaceRoot, lockFile)} (sha256 ${shortSha(sha256Hex(readFileSync(path)))}, lock ${shortSha(read.lock.rubric_sha256)}): the text changed after it was locked`,
          ),
        );
      }
    } else if (!loaded.experiment.rubric.allow_unlocked) {
      diagnostics.push(
        at(
          `${from} has no lock (expected ${relative(workspaceRoot, lockFile)}); re-import it with \`arr import\`, freeze it, or set rubric.allow_unlocked: true`,
        ),
      );
    }
  }
  return { ...base, rubric: path, ok: !diagnostics.some(isError), diagnostics };
}

/** Runs every check; `ok` is false when any error was found (warnings never fail). */
export function checkRubrics(workspaceRoot: string, options: RubricCheckOptions = {}): RubricCheckReport {
  const cwd = options.cwd ?? process.cwd();
  let rubricFiles: string[];
  let manifests: string[];
  if (options.files && options.files.length) {
    const abs = options.files.map((f) => resolve(cwd, f));
    manifests = abs.filter((f) => /\.ya?ml$/i.test(f));
    rubricFiles = abs.filter((f) => !/\.ya?ml$/i.test(f));
  } else {
    rubricFiles = listFrozenRubrics(workspaceRoot);
    manifests = listExperimentFiles(workspaceRoot);
  }
  const frozen = new Map<string, RubricFileCheck>();
  const rubrics = rubricFiles.map((f) => {
    const check = checkFrozenRubric(f, workspaceRoot);
    frozen.set(check.file, check);
    return check;
  });
  // A matrix manifest is checked member by member: each may name another rubric.from.
  const experiments = manifests.flatMap((m) =>
    (existsSync(m) ? experimentsIn(m) : [{ file: m, member: undefined }]).map((e) =>
      checkExperimentRubric(m, workspaceRoot, frozen, options.env, e.member),
    ),
  );
  return { ok: rubrics.every((r) => r.ok) && experiments.every((e) => e.ok), rubrics, experiments };
}
