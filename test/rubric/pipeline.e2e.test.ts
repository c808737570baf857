// Resuming a rubric generation killed mid-run (the arr CLI in a child process): only the calls in flight
// at the kill are asked again.
import { execa } from 'execa';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeRubricSimRule } from '../helpers/rubric-sim.js';
import { startSimVlm, type SimVlm } from '../helpers/sim-vlm.js';
import { makeWorkspace, repoRoot, type TestWorkspace } from '../helpers/workspace.js';
import { writePipelineWorkspace } from './pipeline-workspace.js';

let ws: TestWorkspace;
let sim: SimVlm | undefined;
beforeEach(() => {
  ws = makeWorkspace();
});
afterEach(async () => {
  await sim?.close();
  ws.cleanup();
});

describe('resuming a killed generation', () => {
  it('repeats few calls after a kill', async () => {
    await writePipelineWorkspace(ws);
    const s = await startSimVlm({ rule: makeRubricSimRule(), latencyMs: 60 });
    sim = s;
    const signature = (r: (typeof s.requests)[number]) => JSON.stringify(r.body.messages);
    const args = [join(repoRoot, 'bin/arr.mjs'), 'build', 'rubric-generate', 'exp'];
    const env = { SIM_URL: s.url, NO_COLOR: '1' };
    const child = execa('node', args, { cwd: ws.root, env, reject: false });
    await expect.poll(() => s.requests.length, { timeout: 30_000, interval: 10 }).toBeGreaterThanOrEqual(20);
    child.kill('SIGKILL');
    await child;
    const first = new Set(s.requests.map(signature));
    const before = s.requests.length;
    const rerun = await execa('node', args, { cwd: ws.root, env, reject: false });
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    const second = s.requests.slice(before);
    const repeated = second.filter((r) => first.has(signature(r))).length;
    // Only calls in flight at the kill (at most judge.concurrency) are asked again.
    expect(repeated).toBeLessThanOrEqual(4);
    console.log(
      `resume: ${repeated} of ${second.length} calls repeated (${((repeated / (before + second.length - repeated)) * 100).toFixed(1)}% of the build's calls)`,
    );
  }, 90_000);
});
