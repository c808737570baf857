// Judge calls (and wall time) of one rubric-generate build against two builds of the same key started at
// the same moment in two processes, each from empty caches: with the per-key lock the second waits and reuses, so the ratio of
// calls should be about 1.00 (one build's own count varies by a call between runs; before the lock the
// ratio was about 2). Against the simulated judge, in a throwaway
// workspace; prints the figures measured in this run (it is not a test).
// Run: npx tsx bench/concurrent-builds.ts
import { execa } from 'execa';
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { makeRubricSimRule } from '../test/helpers/rubric-sim.js';
import { startSimVlm } from '../test/helpers/sim-vlm.js';
import { makeWorkspace, writePng, repoRoot, writeT2iExperiment } from '../test/helpers/workspace.js';

const ws = makeWorkspace();
const sim = await startSimVlm({ rule: makeRubricSimRule() });
const arr = (args: string[]) =>
  execa(process.execPath, [join(repoRoot, 'bin/arr.mjs'), ...args], {
    cwd: ws.root,
    env: { ...process.env, ARR_JUDGE_URL: sim.url, NO_COLOR: '1' },
    all: true,
  });
const manifest = `task: t2i\nextends: ./base/judge.yaml\nrubric: { seed: ../data/bright/pairs.jsonl, per_pair: 2, max_epochs: 1, task_description: Which picture is lighter? }\n`;

try {
  await writeT2iExperiment(ws);
  for (let i = 0; i < 8; i++) await writePng(ws.path(`data/bright/b/${i}.png`), 0);
  const lines = [...Array(8).keys()].map((i) =>
    JSON.stringify({ query: `pair ${i}`, response: [`../t2i/images/${i}.png`, `b/${i}.png`], label_rank: [1, 2] }),
  );
  ws.write('data/bright/pairs.jsonl', lines.join('\n') + '\n');
  ws.write('experiments/exp-b.yaml', manifest);
  await arr(['build', 'resolve', 'exp-b']);
  console.log(`bench/concurrent-builds.ts: ${process.version}; load average ${loadavg()[0].toFixed(2)} (1 min)`);

  let before = sim.stats.requests;
  let t = performance.now();
  await arr(['build', 'rubric-generate', 'exp-b']);
  const oneMs = performance.now() - t;
  const oneCalls = sim.stats.requests - before;

  // The same key again from nothing: no artifact, no copy in the Nx output, no cached judge response.
  for (const dir of ['cache/artifacts/rubric-generate', 'cache/experiments/exp-b/rubric-generate', 'cache/judge'])
    rmSync(ws.path(dir), { recursive: true });
  before = sim.stats.requests;
  t = performance.now();
  const both = await Promise.all([
    arr(['build', 'rubric-generate', 'exp-b']),
    arr(['build', 'rubric-generate', 'exp-b']),
  ]);
  const twoMs = performance.now() - t;
  const twoCalls = sim.stats.requests - before;
  const waited = both.filter((r) => /waiting for rubric-generate\//.test(r.all ?? '')).length;

  console.log(`one build:                 ${oneCalls} judge calls, ${(oneMs / 1000).toFixed(1)} s`);
  console.log(
    `two concurrent builds:     ${twoCalls} judge calls, ${(twoMs / 1000).toFixed(1)} s (${waited} process waited for the other)`,
  );
  console.log(`calls, two at once vs one: ${(twoCalls / oneCalls).toFixed(2)}x`);
} finally {
  await sim.close();
  ws.cleanup();
}
