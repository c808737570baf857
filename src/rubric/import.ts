// `arr import <config.yaml>`: turns the reference's judge config (docs/architecture.md, "Judge configuration") into an experiment
// manifest, experiments/<name>.yaml.
//
// Mapping (values in NONE_VALUES — null, "", "none", "null", "None" — count as absent, as in the reference):
//   model_name → judge.model            base_url → judge.base_url (absent: ${OPENAI_BASE_URL:-http://localhost:8000/v1})
//   api_key → judge.api_key: EMPTY stays EMPTY, ${ENV} references stay, a literal key is never written:
//             it becomes ${OPENAI_API_KEY} (absent: ${OPENAI_API_KEY:-EMPTY}, the reference's env fallback)
//   temperature → judge.temperature     task_type | task → task (the task aliases of docs/architecture.md; absent: `edit` when the
//                                        file name contains "edit", else `t2i`, like the reference)
//   eval_mode | grader_mode | mode → rubric.mode: pointwise → pointwise, pairwise or absent → pairwise,
//                                        anything else → listwise
//   language, min_score, max_score, task_description, max_epochs → rubric.<same>
//   query_specific_generate_number → rubric.per_pair (absent: 1, the reference's default; ours is 5)
//   enable_categorization → rubric.categorize.enabled (absent: false, the reference's default)
//   categories_number → rubric.categorize.max_categories
//   rubrics_file → rubric.from; rubrics (inline) → rubrics/imported/<name>.txt, named by rubric.from;
//   seed_dataset → rubric.seed. Precedence as the reference: rubrics_file, then rubrics, then seed_dataset.
//   File paths resolve like the reference (absolute; else relative to the working directory when the file
//   exists there; else relative to the config's folder) and are rewritten relative to the new manifest.
//   Also read when present (CLI flags of the reference's judger.py): test_dataset → verify.test,
//   concurrency_limit → judge.concurrency. grader_name is only a label: it goes into the header comment.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Document, isScalar, type Scalar } from 'yaml';
import { InvalidInputError, isError, type Diagnostic } from '../diagnostics.js';
import { normalizeTaskType } from '../data/normalize.js';
import type { Env } from '../manifest/env.js';
import { isPlainObject } from '../manifest/layers.js';
import { isInside } from '../manifest/paths.js';
import { parseYaml, type Position } from '../manifest/yaml-source.js';
import { byteLimit, decodeUtf8, InputFileProblem, readRegularFileSync } from '../util/input-files.js';
import { writeFileAtomic } from '../store/atomic.js';
import { isFrozenLocation, loadExperimentForCheck } from './check.js';
import { lockPathFor, RUBRIC_NAME } from './freeze.js';
import { writeImportedLock } from './locked.js';
import { renderRubric } from './text.js';

/** Values the reference reads as "not set". */
export const NONE_VALUES: ReadonlySet<unknown> = new Set([null, undefined, '', 'none', 'null', 'None']);

/** Every key the reference's Judger reads from its config, plus its CLI flags we accept in a config. */
const KNOWN_KEYS = new Set([
  'grader_name',
  'model_name',
  'base_url',
  'api_key',
  'temperature',
  'task_type',
  'task',
  'eval_mode',
  'grader_mode',
  'mode',
  'language',
  'min_score',
  'max_score',
  'task_description',
  'rubrics',
  'rubrics_file',
  'seed_dataset',
  'query_specific_generate_number',
  'enable_categorization',
  'categories_number',
  'max_retries',
  'max_epochs',
  'test_dataset',
  'concurrency_limit',
]);

const NO_KEY = new Set(['EMPTY', 'empty']);
const WHOLE_REF = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/;

export interface ImportOptions {
  workspaceRoot: string;
  /** Where relative rubrics_file / seed_dataset paths are tried first, as the reference does (default process.cwd()). */
  cwd?: string;
  /** Experiment name (default: the config's file stem, lower-cased and sanitised). */
  name?: string;
  /** Overwrite an existing experiments/<name>.yaml (and rubrics/imported/<name>.txt). */
  force?: boolean;
  /** Environment used to check the written manifest loads (unset variables get placeholders). */
  env?: Env;
}

export interface ImportResult {
  name: string;
  /** Absolute path of the written manifest. */
  manifest: string;
  /** Absolute path of the rubric text written under rubrics/imported/, when the config held one inline (or outside the workspace). */
  rubricFile: string | null;
  /** Absolute path of the lock written beside the rubric (`source: imported`), when the config named or held one. */
  lockFile: string | null;
  /** What the user should know: replaced secrets, defaults filled in, files not found, keys ignored. */
  notes: string[];
  /** The manifest text as written. */
  text: string;
}

/** `Qwen3VL_8B instruct-T2I.yaml` → `qwen3vl_8b-instruct-t2i`. */
export function experimentNameFromConfig(configPath: string): string {
  const stem = basename(configPath, extname(configPath)).toLowerCase();
  const name = stem
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/[-.]+$/, '');
  return name || 'imported';
}

/** The reference's `_resolve_path`: absolute (after ~), else CWD-relative when it exists there, else config-relative. */
export function resolveReferencePath(raw: string, configFile: string, cwd: string): string {
  const expanded = raw === '~' || raw.startsWith('~/') ? join(homedir(), raw.slice(1)) : raw;
  if (isAbsolute(expanded)) return resolve(expanded);
  const fromCwd = resolve(cwd, expanded);
  if (existsSync(fromCwd)) return fromCwd;
  return resolve(dirname(configFile), expanded);
}

const toPosix = (p: string) => p.split(sep).join('/');
/** `$VAR` (the reference expands those too) → `${VAR}`, which is what our manifests understand. */
const braceEnv = (s: string) => s.replace(/\$(?![{$])([A-Za-z_][A-Za-z0-9_]*)/g, '${$1}');

interface Built {
  value: Record<string, any>;
  /** Our field → the config key it came from (for diagnostics and comments). */
  from: Map<string, string>;
  /** Our field → a comment to write after its value. */
  comments: Map<string, string>;
  notes: string[];
  rubricText: string | null;
  /** The config's rubrics_file when it lies inside the workspace (used in place, locked where it is). */
  rubricsFileInside: string | null;
  /** A rubric file outside the workspace, to copy into rubrics/imported/. */
  copyRubric: string | null;
}

/** Reads the reference's config (YAML, or JSON for other extensions) as a mapping with key positions. */
function readConfig(configFile: string): { config: Record<string, unknown>; positions: Map<string, Position> } {
  let text: string;
  try {
    text = decodeUtf8(readRegularFileSync(configFile, byteLimit('ARR_MAX_MANIFEST_BYTES'), 'ARR_MAX_MANIFEST_BYTES'));
  } catch (error) {
    if (!(error instanceof InputFileProblem)) throw error;
    if (error.line !== undefined)
      throw new InvalidInputError([{ file: configFile, line: error.line, col: error.col, message: error.message }]);
    throw new InvalidInputError([{ file: configFile, message: `cannot read the config: ${error.message}` }]);
  }
  const parsed = parseYaml(configFile, text);
  if (!parsed.source) throw new InvalidInputError(parsed.diagnostics);
  if (!isPlainObject(parsed.source.value))
    throw new InvalidInputError([
      {
        file: configFile,
        line: 1,
        col: 1,
        message: 'the config must be a mapping of keys (grader_name, model_name, …)',
      },
    ]);
  return { config: parsed.source.value, positions: parsed.source.positions };
}

function build(
  config: Record<string, unknown>,
  positions: Map<string, Position>,
  configFile: string,
  name: string,
  workspaceRoot: string,
  cwd: string,
): Built {
  const get = (key: string): unknown => (NONE_VALUES.has(config[key] as never) ? undefined : config[key]);
  const problems: Diagnostic[] = [];
  const problem = (key: string, message: string) => {
    const at = positions.get(key);
    problems.push({ file: configFile, ...(at ? { line: at.line, col: at.col } : {}), field: key, message });
  };
  const experimentsDir = join(workspaceRoot, 'experiments');
  const from = new Map<string, string>();
  const comments = new Map<string, string>();
  const notes: string[] = [];
  const value: Record<string, any> = { task: undefined, judge: {}, rubric: {} };
  const set = (field: string, v: unknown, source?: string, comment?: string) => {
    const keys = field.split('.');
    let node = value;
    for (const k of keys.slice(0, -1)) node = node[k] ??= {};
    node[keys[keys.length - 1]] = v;
    if (source) from.set(field, source);
    if (comment) comments.set(field, comment);
  };
  const num = (v: unknown) => (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v);
  const bool = (v: unknown) => (typeof v === 'string' && /^(true|false)$/i.test(v) ? v.toLowerCase() === 'true' : v);

  // task
  const taskKey = get('task_type') !== undefined ? 'task_type' : get('task') !== undefined ? 'task' : undefined;
  if (taskKey) {
    const task = normalizeTaskType(String(get(taskKey)));
    if (!task)
      problem(
        taskKey,
        `unknown task ${JSON.stringify(get(taskKey))}: expected t2i or edit (or an alias such as text_to_image, image_edit, i2i)`,
      );
    set('task', task ?? 't2i', taskKey);
  } else {
    const stem = basename(configFile, extname(configFile)).toLowerCase();
    const task = stem.includes('edit') ? 'edit' : 't2i';
    set('task', task, undefined, `inferred from the config's file name, like the reference`);
    notes.push(
      `task_type is absent: ${task}, inferred from the file name (it ${task === 'edit' ? 'contains' : 'does not contain'} "edit") as the reference does`,
    );
  }

  // judge
  const model = get('model_name');
  if (model === undefined) problem('model_name', 'is required (the reference refuses a config without it)');
  else set('judge.model', braceEnv(String(model)), 'model_name');
  const baseUrl = get('base_url');
  if (baseUrl === undefined)
    set(
      'judge.base_url',
      '${OPENAI_BASE_URL:-http://localhost:8000/v1}',
      undefined,
      'base_url absent: the reference falls back to OPENAI_BASE_URL',
    );
  else set('judge.base_url', braceEnv(String(baseUrl)), 'base_url');
  const apiKey = get('api_key');
  if (apiKey === undefined) {
    set(
      'judge.api_key',
      '${OPENAI_API_KEY:-EMPTY}',
      undefined,
      'api_key absent: the reference falls back to OPENAI_API_KEY',
    );
  } else {
    const raw = braceEnv(String(apiKey).trim());
    const ref = WHOLE_REF.exec(raw);
    if (NO_KEY.has(raw)) set('judge.api_key', 'EMPTY', 'api_key');
    else if (ref && (ref[2] === undefined || ref[2] === '' || NO_KEY.has(ref[2]))) set('judge.api_key', raw, 'api_key');
    else if (ref) {
      set('judge.api_key', `\${${ref[1]}}`, 'api_key', 'the default in the config was a key; not copied');
      notes.push(
        `api_key: \${${ref[1]}} had a default that looks like a key; it was not copied (value not shown). Set ${ref[1]} in the environment instead`,
      );
    } else {
      set('judge.api_key', '${OPENAI_API_KEY}', 'api_key', 'the config held a literal key; it was not copied');
      notes.push(
        'api_key: the config holds a literal API key; it was NOT copied (value not shown). The manifest reads ${OPENAI_API_KEY}: export OPENAI_API_KEY=<your key> before running, and consider rotating a key that was committed to a file',
      );
    }
  }
  if (get('temperature') !== undefined) set('judge.temperature', num(get('temperature')), 'temperature');
  if (get('concurrency_limit') !== undefined)
    set('judge.concurrency', num(get('concurrency_limit')), 'concurrency_limit');

  // rubric source: rubrics_file, then inline rubrics, then seed_dataset (the reference's precedence)
  const rel = (abs: string) => toPosix(relative(experimentsDir, abs)) || '.';
  let rubricText: string | null = null;
  let copyRubric: string | null = null;
  let rubricsFileInside: string | null = null;
  const importedRel = `../rubrics/imported/${name}.txt`;
  const rubricsFile = get('rubrics_file');
  const inline = get('rubrics');
  const seed = get('seed_dataset');
  if (rubricsFile !== undefined) {
    const abs = resolveReferencePath(String(rubricsFile), configFile, cwd);
    if (!existsSync(abs)) {
      set('rubric.from', rel(abs), 'rubrics_file', 'not found when imported');
      notes.push(
        `rubrics_file ${String(rubricsFile)} was not found (looked in the working directory, then at ${abs}); rubric.from names ${rel(abs)}: put the rubric there`,
      );
    } else if (!isInside(abs, workspaceRoot)) {
      copyRubric = abs;
      set('rubric.from', importedRel, 'rubrics_file', `copied from ${abs}`);
      notes.push(`rubrics_file ${abs} is outside the workspace: copied to rubrics/imported/${name}.txt`);
    } else {
      set('rubric.from', rel(abs), 'rubrics_file');
      rubricsFileInside = abs;
    }
    if (inline !== undefined)
      notes.push('rubrics (inline) is ignored: rubrics_file takes precedence, as in the reference');
  } else if (inline !== undefined) {
    rubricText = Array.isArray(inline)
      ? renderRubric({ kind: 'list', items: inline.map(String) })
      : renderRubric({ kind: 'free', text: String(inline) });
    set('rubric.from', importedRel, 'rubrics', "the config's inline rubrics");
    notes.push(`rubrics (inline): written to rubrics/imported/${name}.txt`);
  }
  const datasetPath = (key: string, field: string) => {
    const raw = String(get(key));
    const abs = resolveReferencePath(raw, configFile, cwd);
    if (!notes.some((n) => n.startsWith('image paths'))) {
      notes.push(
        "image paths inside the reference's datasets are relative to the working directory; ours resolve relative to the dataset file: check with `arr validate`",
      );
    }
    if (!existsSync(abs))
      notes.push(
        `${key} ${raw} was not found (looked in the working directory, then at ${abs}); ${field} names it anyway`,
      );
    if (isInside(abs, workspaceRoot)) {
      set(field, rel(abs), key);
    } else {
      set(field, abs, key);
      const roots: string[] = ((value.data ??= {}).allowed_roots ??= []);
      if (!roots.includes(dirname(abs))) roots.push(dirname(abs));
      notes.push(`${key} ${abs} is outside the workspace: its folder was added to data.allowed_roots`);
    }
  };
  if (seed !== undefined) {
    if (value.rubric.from !== undefined)
      notes.push(
        'seed_dataset is ignored: the config already names a rubric (rubrics_file or rubrics), which the reference uses instead',
      );
    else datasetPath('seed_dataset', 'rubric.seed');
  }
  if (value.rubric.from === undefined && value.rubric.seed === undefined) {
    const placeholder = `../examples/${value.task === 'edit' ? 'edit' : 't2i'}/seed.jsonl`;
    set(
      'rubric.seed',
      placeholder,
      undefined,
      'the config names no rubric source: point this at your labelled seed pairs',
    );
    notes.push(
      `the config has no rubrics, rubrics_file or seed_dataset (the reference would refuse it): rubric.seed is a placeholder, ${placeholder}; point it at your labelled pairs`,
    );
  }

  // rubric settings
  if (get('task_description') !== undefined)
    set('rubric.task_description', String(get('task_description')), 'task_description');
  if (get('language') !== undefined) set('rubric.language', String(get('language')).toLowerCase(), 'language');
  const modeKey = ['eval_mode', 'grader_mode', 'mode'].find((k) => get(k) !== undefined);
  const mode = modeKey ? String(get(modeKey)).trim().toLowerCase() : 'pairwise';
  set('rubric.mode', mode === 'pointwise' ? 'pointwise' : mode === 'pairwise' ? 'pairwise' : 'listwise', modeKey);
  if (modeKey && !['pointwise', 'pairwise', 'listwise'].includes(mode))
    notes.push(
      `${modeKey} ${JSON.stringify(get(modeKey))} is read as listwise, as the reference does for any mode other than pointwise`,
    );
  if (get('min_score') !== undefined) set('rubric.min_score', num(get('min_score')), 'min_score');
  if (get('max_score') !== undefined) set('rubric.max_score', num(get('max_score')), 'max_score');
  const perPair = get('query_specific_generate_number');
  if (perPair !== undefined) set('rubric.per_pair', num(perPair), 'query_specific_generate_number');
  else set('rubric.per_pair', 1, undefined, "query_specific_generate_number absent: the reference's default");
  if (get('max_epochs') !== undefined) set('rubric.max_epochs', num(get('max_epochs')), 'max_epochs');
  const categorize = get('enable_categorization');
  if (categorize !== undefined) set('rubric.categorize.enabled', bool(categorize), 'enable_categorization');
  else set('rubric.categorize.enabled', false, undefined, "enable_categorization absent: the reference's default");
  if (get('categories_number') !== undefined)
    set('rubric.categorize.max_categories', num(get('categories_number')), 'categories_number');
  if (get('test_dataset') !== undefined) datasetPath('test_dataset', 'verify.test');

  if (get('max_retries') !== undefined)
    notes.push(
      'max_retries is not imported: judge.retries (transient errors) and judge.reasks (invalid answers) replace it; their defaults apply',
    );
  const unknown = Object.keys(config).filter((k) => !KNOWN_KEYS.has(k));
  if (unknown.length) notes.push(`ignored (not keys of the reference's config): ${unknown.join(', ')}`);
  if (problems.length) throw new InvalidInputError(problems);
  if (value.data === undefined) delete value.data;
  return { value, from, comments, notes, rubricText, rubricsFileInside, copyRubric };
}

function render(built: Built, header: string[]): string {
  const doc = new Document(built.value);
  for (const [field, comment] of built.comments) {
    const node = doc.getIn(field.split('.'), true);
    if (isScalar(node)) (node as Scalar).comment = ` ${comment}`;
  }
  const body = doc.toString({ lineWidth: 0 });
  return `${header.map((l) => `# ${l}`.trimEnd()).join('\n')}\n${body}`;
}

/**
 * Imports a reference judge config as experiments/<name>.yaml (and rubrics/imported/<name>.txt for inline
 * rubrics). The manifest is checked with loadExperiment before anything is written (missing data files
 * are allowed); problems come back as diagnostics on the config's keys.
 */
export async function importReferenceConfig(configPath: string, options: ImportOptions): Promise<ImportResult> {
  const ws = options.workspaceRoot;
  const cwd = options.cwd ?? process.cwd();
  const configFile = resolve(cwd, configPath);
  const name = options.name ?? experimentNameFromConfig(configFile);
  if (!RUBRIC_NAME.test(name))
    throw new Error(`experiment name ${JSON.stringify(name)} must match ${RUBRIC_NAME.source}; pass --name`);
  const manifest = join(ws, 'experiments', `${name}.yaml`);
  const { config, positions } = readConfig(configFile);
  const built = build(config, positions, configFile, name, ws, cwd);
  const rubricFile =
    built.rubricText !== null || built.copyRubric ? join(ws, 'rubrics', 'imported', `${name}.txt`) : null;
  const relWs = (p: string) => relative(ws, p) || p;
  if (!options.force) {
    const existing = [manifest, ...(rubricFile ? [rubricFile] : [])].filter((p) => existsSync(p));
    if (existing.length)
      throw new Error(
        `${existing.map(relWs).join(' and ')} already exist${existing.length > 1 ? '' : 's'}; pass --force to overwrite, or --name to import under another name`,
      );
  }

  const source = isInside(configFile, ws) ? relWs(configFile) : configFile;
  const grader = config.grader_name;
  const header = [
    'yaml-language-server: $schema=../schemas/experiment.schema.json',
    `Imported by \`arr import\` from the reference judge config ${source}${NONE_VALUES.has(grader as never) ? '' : ` (grader_name: ${JSON.stringify(String(grader))})`}.`,
    ...built.notes.map((n) => `Note: ${n}`),
  ];
  const text = render(built, header);

  // Check it loads before writing anything: a temp file beside the target, so relative paths resolve the same.
  mkdirSync(dirname(manifest), { recursive: true });
  const probe = join(dirname(manifest), `.${name}.import-${process.pid}.tmp`);
  try {
    await writeFileAtomic(probe, text);
    const loaded = loadExperimentForCheck(probe, ws, options.env);
    const errors = loaded.diagnostics.filter(isError);
    if (errors.length) {
      throw new InvalidInputError(
        errors.map((d) => {
          const key = d.field ? built.from.get(d.field) : undefined;
          const at = key ? positions.get(key) : undefined;
          return key
            ? {
                file: configFile,
                ...(at ? { line: at.line, col: at.col } : {}),
                field: key,
                message: `${d.message} (imported as ${d.field})`,
              }
            : { file: configFile, field: d.field, message: `the imported manifest would be invalid: ${d.message}` };
        }),
      );
    }
  } finally {
    await rm(probe, { force: true });
  }

  if (rubricFile) {
    mkdirSync(dirname(rubricFile), { recursive: true });
    await writeFileAtomic(rubricFile, built.copyRubric ? readFileSync(built.copyRubric) : built.rubricText!);
  }
  // Every rubric the manifest reuses gets a lock, so serve, train and rubric.from can tell if it changes.
  let lockFile: string | null = null;
  const lockTarget =
    rubricFile ?? (built.rubricsFileInside && existsSync(built.rubricsFileInside) ? built.rubricsFileInside : null);
  if (lockTarget) {
    const existingLock = lockPathFor(lockTarget);
    // A frozen rubric (rubrics/<name>.v<N>.txt) keeps the lock its verification wrote.
    if (!isFrozenLocation(lockTarget, ws) && (rubricFile || options.force || !existsSync(existingLock))) {
      lockFile = await writeImportedLock(lockTarget, {
        name,
        importedFrom: built.copyRubric ?? (rubricFile ? source : lockTarget),
      });
    }
  }
  await writeFileAtomic(manifest, text);
  return { name, manifest, rubricFile, lockFile, notes: built.notes, text };
}
