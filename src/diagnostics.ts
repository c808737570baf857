import { relative } from 'node:path';
import type { Diagnostic } from './util/diagnostic.js';
import { ArrError } from './util/errors.js';

export type { Diagnostic };

/** `experiments/exp-flux.yaml:14:3 judge.concurrency: must be >= 1` (paths shown relative to `base`). */
export function formatDiagnostic(d: Diagnostic, base: string = process.cwd()): string {
  const rel = relative(base, d.file);
  const shown = rel && !rel.startsWith('..') ? rel : d.file;
  const where = d.line ? `${shown}:${d.line}${d.col ? `:${d.col}` : ''}` : shown;
  const field = d.field ? ` ${d.field}:` : '';
  const level = d.severity === 'warning' ? ' warning:' : '';
  return `${where}${level}${field} ${d.message}`;
}

/** Thrown when input is invalid; carries every diagnostic found, not just the first. */
export class InvalidInputError extends ArrError {
  constructor(diagnostics: Diagnostic[], base?: string) {
    super(diagnostics.map((d) => formatDiagnostic(d, base)).join('\n'), { diagnostics });
  }
}

export const isError = (d: Diagnostic): boolean => d.severity !== 'warning';
