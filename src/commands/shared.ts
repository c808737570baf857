import { parse } from 'yaml';
import { InvalidInputError, formatDiagnostic } from '../diagnostics.js';
import { ArrError, exitCodeOf } from '../util/errors.js';
import { findWorkspaceRoot } from '../workspace.js';

/** `--set judge.concurrency=16` (repeatable) → overrides by field; values read as YAML scalars. */
export function collectSet(pair: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = pair.indexOf('=');
  if (eq <= 0) throw new Error(`--set expects field=value, got ${pair}`);
  return { ...previous, [pair.slice(0, eq)]: parse(pair.slice(eq + 1)) };
}

/** `--set` kept as given, repeats included (`arr build` sweeps a field set more than once). */
export function collectSetList(pair: string, previous: [string, unknown][] = []): [string, unknown][] {
  const [[field, value]] = Object.entries(collectSet(pair));
  return [...previous, [field, value]];
}

/**
 * Repeated `--set` fields as an ad-hoc matrix: every combination of the repeated fields' values (in
 * first-seen field order), each with the fields given once. One combination when nothing repeats.
 */
export function setCombinations(pairs: [string, unknown][]): Record<string, unknown>[] {
  const values = new Map<string, unknown[]>();
  for (const [field, value] of pairs) values.set(field, [...(values.get(field) ?? []), value]);
  let combos: Record<string, unknown>[] = [{}];
  for (const [field, list] of values) combos = combos.flatMap((c) => list.map((v) => ({ ...c, [field]: v })));
  return combos;
}

export function workspace(): string {
  return findWorkspaceRoot(process.cwd());
}

/** Prints an error the way every command does and sets a failing exit code. */
export function reportFailure(error: unknown, json = false): void {
  process.exitCode = exitCodeOf(error);
  const hint = error instanceof ArrError ? error.hint : undefined;
  if (json) {
    const located = error instanceof ArrError && error.diagnostics.length > 0;
    const diagnostics = located ? error.diagnostics : [{ message: (error as Error).message }];
    console.log(
      JSON.stringify({ ok: false, exit_code: process.exitCode, diagnostics, ...(hint ? { hint } : {}) }, null, 2),
    );
    return;
  }
  if (error instanceof InvalidInputError) {
    for (const d of error.diagnostics) console.error(formatDiagnostic(d));
  } else {
    console.error(`arr: ${(error as Error).message}`);
  }
  if (hint) console.error(`hint: ${hint}`);
}
