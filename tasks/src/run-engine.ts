import type { ExecutorContext } from '@nx/devkit';
import { join } from 'node:path';

export interface EngineOptions {
  manifest: string;
  /** A matrix member's name (`exp--3`): the experiment to build when the manifest stands for several. */
  experiment?: string;
  set?: Record<string, unknown>;
}

/**
 * Every executor is this call: run `arr build <target> <manifest>` as a child process in the
 * workspace, streaming its output. The engine stays plain ESM TypeScript with no Nx import.
 */
export async function runEngineTarget(
  target: string,
  options: EngineOptions,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  // Nx sets FORCE_COLOR for tasks; with NO_COLOR also set, loading execa's colours warns on every run.
  if (process.env.NO_COLOR) delete process.env.FORCE_COLOR;
  const { execa } = await import('execa');
  const args = ['build', target, options.experiment ?? options.manifest];
  // Whichever target actually runs first (the others may be Nx cache hits) checks before spending anything.
  if (!target.startsWith('train-') && trainingRequested(context)) args.push('--train-checks');
  for (const [field, value] of Object.entries(options.set ?? {}))
    args.push('--set', `${field}=${JSON.stringify(value)}`);
  const env = { ...process.env };
  const result = await execa(process.execPath, [join(context.root, 'bin', 'arr.mjs'), ...args], {
    cwd: context.root,
    env,
    extendEnv: false,
    stdio: 'inherit',
    reject: false,
  });
  return { success: result.exitCode === 0 };
}

/**
 * Whether this run will train the project: a `train-*` task of the same project is in the task graph.
 * Then each engine target runs the training checks that need nothing built before its own work, so a
 * machine that cannot train fails before any judge call or encoding instead of after them.
 */
function trainingRequested(context: ExecutorContext): boolean {
  const tasks = Object.values(context.taskGraph?.tasks ?? {});
  return tasks.some((t) => t.target.project === context.projectName && t.target.target.startsWith('train-'));
}
