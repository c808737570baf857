import type { Diagnostic } from './diagnostic.js';

export interface ArrErrorOptions {
  /** Process exit status when this error ends a command; 1 unless a child's status is passed on. */
  exitCode?: number;
  /** One line telling the user what to do next; printed after the message. */
  hint?: string;
  /** Located input problems, when the error is about a user's files. */
  diagnostics?: Diagnostic[];
  cause?: unknown;
}

/**
 * The one base of every error the engine throws on purpose. The CLI prints any `ArrError` the same
 * way (message, diagnostics, hint) and exits with its `exitCode`, so a trainer's status or a
 * "nothing was stored" failure reaches the shell unchanged. Anything else is a bug and says so.
 */
export class ArrError extends Error {
  readonly exitCode: number;
  readonly hint?: string;
  readonly diagnostics: Diagnostic[];

  constructor(message: string, options: ArrErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? 1;
    this.hint = options.hint;
    this.diagnostics = options.diagnostics ?? [];
  }
}

export const isArrError = (error: unknown): error is ArrError => error instanceof ArrError;

/** The exit status a failure should end the process with: an `ArrError`'s own, else 1. */
export function exitCodeOf(error: unknown): number {
  return error instanceof ArrError ? error.exitCode : 1;
}
