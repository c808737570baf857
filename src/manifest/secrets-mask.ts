import type { Origins } from './layers.js';
import { fieldsMarked } from './schema.js';

/** How a secret field is shown anywhere we write: which variable it comes from and whether it was set, never its value. */
export function describeSecret(field: string, value: unknown, origins: Origins): string {
  const env = origins.get(field)?.env?.[0];
  if (env) return `\${${env.name}} (${env.usedDefault ? 'not set; default used' : 'set'})`;
  return value === null || value === undefined || value === ''
    ? '(none)'
    : String(value) === 'EMPTY'
      ? 'EMPTY'
      : '(set)';
}

/** A deep copy of a resolved manifest with every secret field replaced by its description. */
export function maskSecrets<T extends object>(experiment: T, origins: Origins): T {
  const copy = structuredClone(experiment) as Record<string, any>;
  for (const field of fieldsMarked('x-arr-secret')) {
    const keys = field.split('.');
    const parent = keys.slice(0, -1).reduce((n, k) => n?.[k], copy);
    const last = keys[keys.length - 1];
    if (parent && last in parent) parent[last] = describeSecret(field, parent[last], origins);
  }
  return copy as T;
}
