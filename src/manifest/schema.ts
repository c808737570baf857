import type { Ajv2020, ErrorObject, Options, ValidateFunction } from 'ajv/dist/2020.js';
import { createRequire } from 'node:module';
import { closest, distance } from 'fastest-levenshtein';
import type { Diagnostic } from '../diagnostics.js';
import { schemas } from '../types/schemas.js';
import { fieldDiagnostic, isPlainObject, type Origins } from './layers.js';
import { joinPath, pointerToField } from './yaml-source.js';

export type JsonSchema = Record<string, any>;

export const experimentSchema = (): JsonSchema => schemas.experiment;

/** The schema of the field at a dotted path (`judge.concurrency`, `data.allowed_roots[0]`), if any. */
export function fieldSchema(path: string, schema: JsonSchema = experimentSchema()): JsonSchema | undefined {
  let node: JsonSchema | undefined = schema;
  for (const part of path.match(/[^.[\]]+|\[\d+\]/g) ?? []) {
    if (!node) return undefined;
    if (part.startsWith('[')) node = node.items ?? node.oneOf?.find((s: JsonSchema) => s.items)?.items;
    else
      node =
        node.properties?.[part] ??
        (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined);
  }
  return node;
}

/** Dotted paths of every field the schema marks with `keyword` (`x-arr-path`, `x-arr-secret`). */
export function fieldsMarked(keyword: string, schema: JsonSchema = experimentSchema(), prefix = ''): string[] {
  const out: string[] = [];
  for (const [name, s] of Object.entries<JsonSchema>(schema.properties ?? {})) {
    const path = joinPath(prefix, name);
    if (s[keyword]) out.push(path);
    if (s.properties) out.push(...fieldsMarked(keyword, s, path));
  }
  return out;
}

/** Fills every missing field that has a schema default, recording `default` as its origin. */
export function applyDefaults(
  value: Record<string, unknown>,
  origins: Origins,
  schema: JsonSchema = experimentSchema(),
  prefix = '',
): void {
  for (const [name, s] of Object.entries<JsonSchema>(schema.properties ?? {})) {
    if (name === 'extends' && !prefix) continue;
    const path = joinPath(prefix, name);
    if (value[name] === undefined && 'default' in s) {
      value[name] = structuredClone(s.default);
      origins.set(path, { kind: 'default' });
    }
    if (s.properties && isPlainObject(value[name]))
      applyDefaults(value[name] as Record<string, unknown>, origins, s, path);
  }
}

const require = createRequire(import.meta.url);

/**
 * The Ajv instance the experiment schema is compiled with. Ajv's compiler is loaded only when this is
 * called: with the precompiled validator, `arr status` never loads it.
 */
export function experimentAjv(extra: Options = {}): Ajv2020 {
  const { Ajv2020 } = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
  const ajv = new Ajv2020({
    allErrors: true,
    verbose: true,
    strict: true,
    strictTypes: false,
    strictTuples: false,
    ...extra,
  });
  ajv.addKeyword({ keyword: 'x-arr-path', schemaType: 'boolean' });
  ajv.addKeyword({ keyword: 'x-arr-secret', schemaType: 'boolean' });
  return ajv;
}

/** The experiment validator as standalone CommonJS, which scripts/build.ts ships beside this module in dist/. */
export function experimentValidatorSource(): string {
  const standaloneCode = (require('ajv/dist/standalone/index.js') as typeof import('ajv/dist/standalone/index.js'))
    .default;
  const ajv = experimentAjv({ code: { source: true } });
  return standaloneCode(ajv, ajv.compile(experimentSchema()));
}

/** File name of the precompiled validator, beside the compiled schema.js. */
export const PRECOMPILED_VALIDATOR = 'experiment-validator.cjs';

// Compiling the schema takes most of `arr status`'s time, so the compiled CLI loads it precompiled; the
// sources (where no such file exists) compile it. dist/ is only used while built from the current src/.
function precompiledValidator(): ValidateFunction | undefined {
  try {
    return require(`./${PRECOMPILED_VALIDATOR}`) as ValidateFunction;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}

let validator: ValidateFunction | undefined;
function experimentValidator(): ValidateFunction {
  // From source, Ajv's code optimiser costs more at start-up than it saves on a few manifests.
  validator ??= precompiledValidator() ?? experimentAjv({ code: { optimize: false } }).compile(experimentSchema());
  return validator;
}

function describe(s: JsonSchema): string {
  if (s.oneOf) return s.oneOf.map(describe).join(' or ');
  if (s.enum) return `one of ${s.enum.join(', ')}`;
  const types: string[] = Array.isArray(s.type) ? s.type : [s.type];
  return types
    .map((t) =>
      t === 'array'
        ? `a list of ${s.items ? describe(s.items).replace(/^an? /, '') + 's' : 'values'}`
        : t === 'integer'
          ? 'an integer'
          : t === 'object'
            ? 'a mapping'
            : t === 'null'
              ? 'null'
              : `a ${t}`,
    )
    .join(' or ');
}

/** Every key the schema knows, as dotted paths, for "did you mean" across sections. */
export function allFieldPaths(schema: JsonSchema = experimentSchema(), prefix = ''): string[] {
  return Object.entries<JsonSchema>(schema.properties ?? {}).flatMap(([name, s]) => {
    const path = joinPath(prefix, name);
    return [path, ...(s.properties ? allFieldPaths(s, path) : [])];
  });
}

function suggestion(unknownKey: string, parentPath: string): string {
  const siblings = Object.keys(
    fieldSchema(parentPath)?.properties ?? (parentPath ? {} : experimentSchema().properties),
  );
  const near = siblings.length ? closest(unknownKey, siblings) : undefined;
  if (near && distance(unknownKey, near) <= Math.max(2, Math.floor(unknownKey.length / 3)))
    return ` (did you mean ${joinPath(parentPath, near)}?)`;
  const lastSegment = (p: string) => p.slice(p.lastIndexOf('.') + 1);
  const elsewhere = allFieldPaths()
    .map((p) => ({ p, d: distance(unknownKey, lastSegment(p)) }))
    .filter(({ d }) => d <= Math.max(2, Math.floor(unknownKey.length / 4)))
    .sort((a, b) => a.d - b.d)[0]?.p;
  if (elsewhere) return ` (did you mean ${elsewhere}?)`;
  return siblings.length ? ` (known keys here: ${siblings.join(', ')})` : '';
}

function messageFor(error: ErrorObject, path: string): { field: string; message: string } {
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(error.params.additionalProperty);
      return { field: joinPath(path, key), message: `unknown key${suggestion(key, path)}` };
    }
    case 'required':
      return { field: joinPath(path, String(error.params.missingProperty)), message: 'is required' };
    case 'enum': {
      const allowed = (error.params.allowedValues as unknown[]).map(String);
      const near = closest(String(error.data), allowed);
      const hint = typeof error.data === 'string' && distance(error.data, near) <= 2 ? ` (did you mean ${near}?)` : '';
      return { field: path, message: `must be one of ${allowed.join(', ')}${hint}` };
    }
    case 'type':
    case 'oneOf':
      return { field: path, message: `must be ${describe(fieldSchema(path) ?? (error.parentSchema as JsonSchema))}` };
    default:
      return { field: path, message: error.message ?? 'is invalid' };
  }
}

/** Validates a resolved manifest against the schema; errors point at the line that set the field. */
export function validateExperiment(value: unknown, origins: Origins, manifestFile: string): Diagnostic[] {
  const validate = experimentValidator();
  if (validate(value)) return [];
  const seen = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  const errors = validate.errors ?? [];
  // A failed oneOf also reports each branch's failure; the oneOf message alone says it better.
  const oneOfPaths = errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath);
  const underOneOf = (e: ErrorObject) =>
    e.keyword !== 'oneOf' && oneOfPaths.some((p) => e.instancePath === p || e.instancePath.startsWith(`${p}/`));
  for (const error of errors) {
    if (underOneOf(error)) continue;
    const { field, message } = messageFor(error, pointerToField(error.instancePath));
    if (seen.has(`${field}\0${message}`)) continue;
    seen.add(`${field}\0${message}`);
    diagnostics.push(fieldDiagnostic(origins, field, manifestFile, message));
  }
  return diagnostics;
}
