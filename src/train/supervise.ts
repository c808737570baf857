// Runs the trainer under supervision: its own process group (a signal reaches torchrun and every rank),
// every output line kept in the log and streamed with a prefix, SIGINT/SIGTERM/SIGHUP forwarded.
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import type { TrainerExit } from './outcome.js';

export interface SuperviseOptions {
  cwd: string;
  /** The trainer's whole environment. */
  env: Record<string, string | undefined>;
  /** Streams a trainer line (already prefixed). */
  log: (line: string) => void;
  /** Where stderr lines go when no `log` was given by the caller: the terminal's stderr. */
  stderrToTerminal: boolean;
  /** Appends a line to the run's train.log. */
  keep: (line: string) => void;
  prefix: string;
  forwardSignals: boolean;
  onSpawn?: (pid: number | undefined) => void;
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Spawns `program args`, waits for it and reports how it ended. Never throws for the trainer's failure. */
export async function superviseTrainer(
  program: string,
  args: string[],
  options: SuperviseOptions,
): Promise<TrainerExit> {
  const received: string[] = [];
  let pid: number | undefined;
  const forward = (signal: NodeJS.Signals) => {
    received.push(signal);
    if (!pid) return;
    // A third signal means "stop now".
    const sent = received.length >= 3 ? 'SIGKILL' : signal;
    options.log(`${options.prefix}${signal} received; sending ${sent} to the trainer (process group ${pid})`);
    options.keep(`# ${signal} received; sent ${sent} to process group ${pid}`);
    try {
      process.kill(-pid, sent);
    } catch {
      /* already gone */
    }
  };
  const handlers = options.forwardSignals ? FORWARDED.map((s) => [s, () => forward(s)] as const) : [];
  for (const [s, h] of handlers) process.on(s, h);
  try {
    const subprocess = execa(program, args, {
      cwd: options.cwd,
      env: options.env,
      extendEnv: false,
      detached: true,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      cleanup: false,
    });
    pid = subprocess.pid;
    options.onSpawn?.(pid);
    const [done] = await Promise.all([
      subprocess,
      pumpLines(subprocess.stdout, false, options),
      pumpLines(subprocess.stderr, true, options),
    ]);
    const neverRan = done.exitCode === undefined && !done.signal;
    return {
      exitCode: done.exitCode ?? null,
      signal: done.signal ?? null,
      received,
      ...(neverRan ? { error: done.originalMessage || done.shortMessage } : {}),
    };
  } catch (error) {
    return { exitCode: null, signal: null, received, error: (error as Error).message };
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
  }
}

function pumpLines(stream: NodeJS.ReadableStream | null, isStderr: boolean, options: SuperviseOptions): Promise<void> {
  return new Promise((resolveDone) => {
    if (!stream) return resolveDone();
    const rl = createInterface({ input: stream, crlfDelay: Infinity });
    rl.on('line', (line) => {
      options.keep(line);
      if (isStderr && options.stderrToTerminal) process.stderr.write(`${options.prefix}${line}\n`);
      else options.log(`${options.prefix}${line}`);
    });
    rl.on('close', () => resolveDone());
  });
}
