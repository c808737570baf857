// How a finished trainer maps to a run status and to the exit status `arr train` ends with.
import { constants as osConstants } from 'node:os';

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'interrupted';

/** What the trainer process did, as the supervisor saw it. */
export interface TrainerExit {
  /** The trainer's exit code; null when a signal ended it or it never started. */
  exitCode: number | null;
  signal: string | null;
  /** Why it could not run, when it never started. */
  error?: string;
  /** Signals this process received and forwarded to the trainer. */
  received: string[];
}

export interface RunOutcome {
  status: Exclude<RunStatus, 'running'>;
  /** The trainer's code, else 128 + the number of the signal that ended it (or that we forwarded), else 1. */
  processExitCode: number;
  /** `exit code 3`, `killed by SIGTERM`, `did not start (…)`. */
  how: string;
}

const signalNumber = (name: string): number => (osConstants.signals as Record<string, number>)[name] ?? 0;

/** The run's status and the process exit status for a trainer's exit. */
export function runOutcome(exit: TrainerExit): RunOutcome {
  const how = exit.signal
    ? `killed by ${exit.signal}`
    : exit.exitCode !== null
      ? `exit code ${exit.exitCode}`
      : `did not start (${exit.error ?? 'unknown reason'})`;
  const interrupted = exit.received.length > 0;
  if (exit.exitCode === 0 && !exit.signal && !interrupted) return { status: 'succeeded', processExitCode: 0, how };
  const status = interrupted ? 'interrupted' : 'failed';
  if (exit.exitCode !== null && exit.exitCode !== 0) return { status, processExitCode: exit.exitCode, how };
  if (exit.signal) return { status, processExitCode: 128 + signalNumber(exit.signal), how };
  if (interrupted) return { status, processExitCode: 128 + signalNumber(exit.received[0]), how };
  return { status, processExitCode: 1, how };
}
