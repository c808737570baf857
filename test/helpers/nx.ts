// The real nx binary of a test workspace, run as a user would in CI: no daemon, no cloud, no TUI,
// plugins in-process, no colours.
import { execa } from 'execa';

export const NX_ENV = {
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
  NX_ISOLATE_PLUGINS: 'false',
  NO_COLOR: '1',
  CI: 'true',
};

/** Runs `nx <args>` in `root` with NX_ENV plus `env`; returns the exit code and the interleaved output. */
export async function runNx(
  root: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | undefined; out: string }> {
  const result = await execa('node', [`${root}/node_modules/nx/dist/bin/nx.js`, ...args], {
    cwd: root,
    env: { ...NX_ENV, ...env },
    reject: false,
    all: true,
  });
  return { code: result.exitCode, out: result.all ?? '' };
}
