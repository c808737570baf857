import { execa } from 'execa';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { makeWorkspace, repoRoot, type TestWorkspace } from '../helpers/workspace.js';

let ws: TestWorkspace;
beforeEach(() => {
  ws = makeWorkspace();
  // The new manifest points at the example data and base, as in a real checkout.
  for (const dir of ['examples', 'experiments/base']) cpSync(join(repoRoot, dir), ws.path(dir), { recursive: true });
});
afterEach(() => ws.cleanup());

const arr = (args: string[]) =>
  execa('node', [join(repoRoot, 'bin/arr.mjs'), ...args], { cwd: ws.root, reject: false, env: { NO_COLOR: '1' } });

it('arr new writes a manifest that validates, and refuses to overwrite it', async () => {
  for (const task of ['t2i', 'edit']) {
    const made = await arr(['new', `my-${task}`, '--task', task]);
    expect(made.exitCode, made.stderr).toBe(0);
    expect(readFileSync(ws.path(`experiments/my-${task}.yaml`), 'utf8')).toContain(`task: ${task}`);
    const valid = await arr(['validate', `my-${task}`]);
    expect(valid.exitCode, valid.stdout).toBe(0);
  }
  const again = await arr(['new', 'my-t2i', '--task', 't2i']);
  expect(again.exitCode).toBe(1);
  expect(again.stderr).toContain('experiments/my-t2i.yaml already exists');
  expect((await arr(['new', 'Bad Name', '--task', 't2i'])).stderr).toContain('must match');
}, 60_000);
