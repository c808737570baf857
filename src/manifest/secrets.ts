import type { Diagnostic } from '../diagnostics.js';
import { fieldDiagnostic, isPlainObject, type Origins } from './layers.js';
import { joinPath } from './yaml-source.js';
import { urlSecretProblem } from '../util/url-secrets.js';

const WHOLE_REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}$/;
/** Values that mean "no key" to local OpenAI-compatible servers such as vLLM. */
const NO_KEY = new Set(['', 'EMPTY', 'none', 'None']);

/**
 * Secrets may appear only as env references. The message names the field and never the value.
 * Runs on the merged manifest before env resolution, so it sees what the user wrote.
 */
export function checkSecrets(
  value: Record<string, unknown>,
  origins: Origins,
  file: string,
  secretFields: string[],
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const at = (field: string, message: string): Diagnostic => fieldDiagnostic(origins, field, file, message);
  for (const field of secretFields) {
    const raw = field.split('.').reduce<unknown>((n, k) => (isPlainObject(n) ? n[k] : undefined), value);
    if (raw === undefined || raw === null || typeof raw !== 'string' || NO_KEY.has(raw)) continue;
    const ref = WHOLE_REFERENCE.exec(raw);
    if (!ref) {
      out.push(
        at(
          field,
          'a literal secret is not allowed in a manifest (value not shown); write ${ARR_JUDGE_API_KEY} and set that variable',
        ),
      );
    } else if (ref[2] !== undefined && !NO_KEY.has(ref[2])) {
      out.push(
        at(field, `the default of \${${ref[1]}} must not be a secret (value not shown); use \${${ref[1]}:-EMPTY}`),
      );
    }
  }
  return out;
}

/**
 * Refuses credentials inside any URL-valued field (user info, `?api-key=`, `?token=` …). Runs on the
 * manifest after env resolution, so a URL that arrives through `${ARR_JUDGE_URL}` is caught too; the
 * message names the field and the variable, never the value.
 */
export function checkUrlSecrets(value: Record<string, unknown>, origins: Origins, file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const walk = (node: unknown, path: string): void => {
    if (typeof node === 'string') {
      const env = origins
        .get(path)
        ?.env?.filter((e) => !e.usedDefault)
        .map((e) => e.name);
      const problem = urlSecretProblem(node, env?.length ? `the variable ${env.join(', ')}` : undefined);
      if (problem) out.push(fieldDiagnostic(origins, path, file, problem));
    } else if (Array.isArray(node)) node.forEach((v, i) => walk(v, joinPath(path, i)));
    else if (isPlainObject(node)) for (const [k, v] of Object.entries(node)) walk(v, joinPath(path, k));
  };
  walk(value, '');
  return out;
}
