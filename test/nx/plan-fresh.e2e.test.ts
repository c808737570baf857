// A real `nx` against manifests that break and get fixed: the plugin's plan cache must never hand back
// the plan of a file that has since changed, whether it parsed, failed to parse or did not exist.
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRubricSimRule } from '../helpers/rubric-sim.js';
import { startSimVlm, type SimVlm } from '../helpers/sim-vlm.js';
import { makeWorkspace, writePng, writeT2iExperiment, type TestWorkspace } from '../helpers/workspace.js';
import { runNx } from '../helpers/nx.js';

let ws: TestWorkspace;
let sim: SimVlm;
const nx = (args: string[], env: Record<string, string> = {}) => runNx(ws.root, args, env);
async function show(name: string): Promise<{ tags: string[]; description: string }> {
  const { code, out } = await nx(['show', 'project', name, '--json']);
  expect(code, out).toBe(0);
  const project = JSON.parse(out.slice(out.indexOf('{')));
  return { tags: project.tags, description: project.metadata?.description ?? '' };
}

const VALID = (description: string) =>
  `task: t2i\nextends: ./base/judge.yaml\nrubric:\n  seed: ../data/bright/pairs.jsonl\n  per_pair: 2\n  max_epochs: 1\n  task_description: ${description}\nverify: { test: ../data/bright/pairs.jsonl }\nfreeze: { name: tabbed, version: 1 }\n`;

beforeAll(async () => {
  ws = makeWorkspace({ nx: true });
  await writeT2iExperiment(ws);
  for (let i = 0; i < 4; i++) await writePng(ws.path(`data/bright/b/${i}.png`), 0);
  const lines = [0, 1, 2, 3].map((i) =>
    JSON.stringify({
      query: `pair ${i}`,
      response: i % 2 ? [`b/${i}.png`, `../t2i/images/${i}.png`] : [`../t2i/images/${i}.png`, `b/${i}.png`],
      label_rank: i % 2 ? [2, 1] : [1, 2],
    }),
  );
  ws.write('data/bright/pairs.jsonl', lines.join('\n') + '\n');
  sim = await startSimVlm({ rule: makeRubricSimRule() });
}, 60_000);
afterAll(async () => {
  await sim?.close();
  ws?.cleanup();
});

describe('plans after syntax errors and fixes (real nx)', () => {
  it('walks tab → fix → edit → rebuild: re-planned, re-hashed and rebuilt each time', async () => {
    ws.write('experiments/tabbed.yaml', VALID('Compare two images.').replace('  per_pair: 2', '\tper_pair: 2'));
    const broken = await show('tabbed');
    expect(broken.tags).toContain('invalid');
    const failed = await nx(['run', 'tabbed:resolve']);
    expect(failed.code).not.toBe(0);
    expect(failed.out).toMatch(/experiments\/tabbed\.yaml:\d+:\d+ invalid YAML/);

    ws.write('experiments/tabbed.yaml', VALID('Compare two images.'));
    const fixed = await show('tabbed');
    expect(fixed.tags).toEqual(expect.arrayContaining(['task:t2i']));
    expect(fixed.tags).not.toContain('invalid');
    expect(fixed.description).not.toMatch(/Tabs/);

    const env = { ARR_JUDGE_URL: sim.url };
    const first = await nx(['run', 'tabbed:freeze'], env);
    expect(first.code, first.out).toBe(0);
    const afterFirst = sim.stats.requests;
    expect(afterFirst).toBeGreaterThan(0);

    ws.write('experiments/tabbed.yaml', VALID('Which image is brighter?'));
    const edited = await nx(['run', 'tabbed:freeze'], env);
    expect(edited.code, edited.out).toBe(0);
    expect(edited.out).not.toMatch(/Cache:\s+4\/4 hit/);
    expect(edited.out).toMatch(/Cache:\s+0\/4 hit/);
    expect(sim.stats.requests).toBeGreaterThan(afterFirst);
    const lock = JSON.parse(readFileSync(ws.path('cache/experiments/tabbed/resolve/lock.json'), 'utf8'));
    expect(lock.resolved.rubric.task_description).toBe('Which image is brighter?');
    const status = await execa('node', [ws.path('bin/arr.mjs'), 'status', 'tabbed', '--check'], {
      cwd: ws.root,
      env,
      reject: false,
      all: true,
    });
    expect(status.exitCode, status.all).toBe(0);
  }, 240_000);

  it('re-plans an unclosed bracket once it is closed', async () => {
    ws.write('experiments/bracket.yaml', 'task: t2i\nrubric: { seed: [../data/t2i/seed.jsonl }\n');
    expect((await show('bracket')).tags).toContain('invalid');
    ws.write('experiments/bracket.yaml', 'task: t2i\nrubric: { seed: ../data/t2i/seed.jsonl }\n');
    const fixed = await show('bracket');
    expect(fixed.tags).toContain('task:t2i');
    expect(fixed.tags).not.toContain('invalid');
  }, 120_000);

  it('re-plans a manifest whose extends target appears later, and each later edit of that base', async () => {
    ws.write('experiments/late.yaml', 'extends: ./base/late-base.yaml\nrubric: { seed: ../data/t2i/seed.jsonl }\n');
    const missing = await show('late');
    expect(missing.tags).toContain('invalid');
    ws.write('experiments/base/late-base.yaml', 'task: edit\n');
    expect((await show('late')).tags).toContain('task:edit');
    ws.write('experiments/base/late-base.yaml', 'task: t2i\n');
    expect((await show('late')).tags).toContain('task:t2i');
  }, 120_000);

  it('nx reset clears the plan cache with the rest of Nx’s workspace data', async () => {
    const planFile = ws.path('.nx/workspace-data/arr-plans.json');
    expect(readFileSync(planFile, 'utf8')).toContain('late');
    const reset = await nx(['reset']);
    expect(reset.code, reset.out).toBe(0);
    expect(() => readFileSync(planFile)).toThrow();
  }, 120_000);
});
