import { parse as parseYamlScalar } from 'yaml';
import type { Diagnostic } from '../diagnostics.js';
import { fieldDiagnostic, isPlainObject, type Origin, type Origins } from './layers.js';
import { joinPath } from './yaml-source.js';

/** `${VAR}` or `${VAR:-default}`; `$${` writes a literal `${`. */
const REFERENCE = /\$?\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE_REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/;

export interface EnvReference {
  name: string;
  default?: string;
  /** Dotted path of the field that holds the reference. */
  field: string;
}

/** Every `${VAR}` reference in a (merged, unresolved) manifest, with the field that holds it. */
export function findEnvReferences(value: unknown, path = ''): EnvReference[] {
  if (typeof value === 'string') {
    const refs: EnvReference[] = [];
    for (const m of value.matchAll(REFERENCE)) {
      if (m[0].startsWith('$$')) continue;
      refs.push({ name: m[1], default: m[2], field: path });
    }
    return refs;
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => findEnvReferences(v, joinPath(path, i)));
  if (isPlainObject(value)) return Object.entries(value).flatMap(([k, v]) => findEnvReferences(v, joinPath(path, k)));
  return [];
}

export type Env = Record<string, string | undefined>;

function scalarFrom(text: string): unknown {
  try {
    const parsed = parseYamlScalar(text);
    return parsed === null || ['string', 'number', 'boolean'].includes(typeof parsed) ? parsed : text;
  } catch {
    return text;
  }
}

/**
 * Replaces env references with their values. A whole-value reference is read as a YAML scalar
 * (`${N:-8}` is the number 8); one inside a longer string is substituted as text.
 */
export function resolveEnv(
  value: Record<string, unknown>,
  origins: Origins,
  env: Env,
  manifestFile: string,
): { value: Record<string, unknown>; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];

  const substitute = (text: string, field: string): unknown => {
    const used: NonNullable<Origin['env']> = [];
    const lookup = (name: string, fallback: string | undefined): string => {
      const set = env[name];
      if (set !== undefined && set !== '') {
        used.push({ name, usedDefault: false });
        return set;
      }
      if (fallback !== undefined) {
        used.push({ name, usedDefault: true });
        return fallback;
      }
      diagnostics.push(
        fieldDiagnostic(
          origins,
          field,
          manifestFile,
          `environment variable ${name} is not set and has no default (write \${${name}:-value} to give one)`,
        ),
      );
      return '';
    };
    const whole = WHOLE_REFERENCE.exec(text);
    const result = whole
      ? scalarFrom(lookup(whole[1], whole[2]))
      : text.replace(REFERENCE, (match, name: string, fallback?: string) =>
          match.startsWith('$$') ? match.slice(1) : lookup(name, fallback),
        );
    if (used.length > 0) {
      const origin = origins.get(field);
      origins.set(field, { ...(origin ?? { kind: 'file', file: manifestFile }), env: used });
    }
    return result;
  };

  const walk = (node: unknown, path: string): unknown => {
    if (typeof node === 'string') return node.includes('${') ? substitute(node, path) : node;
    if (Array.isArray(node)) return node.map((v, i) => walk(v, joinPath(path, i)));
    if (isPlainObject(node)) {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, joinPath(path, k))]));
    }
    return node;
  };

  return { value: walk(value, '') as Record<string, unknown>, diagnostics };
}
