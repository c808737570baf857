// Done-when for training with the reference trainers: a stand-in that behaves as the reference FLUX
// trainer does (test/fixtures/trainers/reference_standin.py: ./images/ under its working directory,
// torch.load(weights_only=True) on every metadata file, its judge built from --arr_config_path with
// ${ARR_REWARD_TOKEN} expanded, chat completions to judge.yaml's base_url) runs under a real
// `nx run <exp>:train`, after resolve → rubric-generate → verify → freeze against a simulated judge.
import { execa } from 'execa';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRubricSimRule } from '../helpers/rubric-sim.js';
import { startSimVlm, type SimVlm } from '../helpers/sim-vlm.js';
import { makeWorkspace, writePng, repoRoot, writeT2iExperiment, type TestWorkspace } from '../helpers/workspace.js';
import { writeFluxEmbeddings } from './fixtures.js';

// Debian's python3 with python3-torch (scripts/system-deps.sh installs it).
const PYTHON = '/usr/bin/python3';
const NX_ENV = {
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
  NX_ISOLATE_PLUGINS: 'false',
  NO_COLOR: '1',
  CI: 'true',
};

let ws: TestWorkspace;
let sim: SimVlm;
beforeAll(async () => {
  const torch = await execa(PYTHON, ['-c', 'import torch'], { reject: false });
  if (torch.exitCode !== 0)
    throw new Error(`torch is missing for ${PYTHON}: run scripts/system-deps.sh (apt-get install -y python3-torch)`);
  ws = makeWorkspace({ nx: true });
  await writeT2iExperiment(ws);
  for (let i = 0; i < 4; i++) await writePng(ws.path(`data/bright/b/${i}.png`), 0); // black: always the darker image
  const pairs = [0, 1, 2, 3].map((i) =>
    JSON.stringify({
      query: `pair ${i}`,
      response: i % 2 ? [`b/${i}.png`, `../t2i/images/${i}.png`] : [`../t2i/images/${i}.png`, `b/${i}.png`],
      label_rank: i % 2 ? [2, 1] : [1, 2],
    }),
  );
  ws.write('data/bright/pairs.jsonl', pairs.join('\n') + '\n');
  writeFluxEmbeddings(ws, 'data/emb', ['a bright room', 'a dark alley']);
  ws.write('trainer/standin.py', readFileSync(join(repoRoot, 'test/fixtures/trainers/reference_standin.py'), 'utf8'));
  ws.write(
    'experiments/bright.yaml',
    `task: t2i
extends: ./base/judge.yaml
rubric: { seed: ../data/bright/pairs.jsonl, per_pair: 2, max_epochs: 1 }
verify: { test: ../data/bright/pairs.jsonl }
freeze: { name: bright, version: 1 }
train:
  command: [${PYTHON}, ${ws.path('trainer/standin.py')}]
  gpus_per_node: 1
  max_train_steps: 2
  embeddings: ../data/emb/metadata.json
`,
  );
  sim = await startSimVlm({ rule: makeRubricSimRule() });
}, 120_000);
afterAll(async () => {
  await sim?.close();
  ws?.cleanup();
});

describe('nx run <exp>:train with a reference-like trainer', () => {
  it('runs the stand-in to completion through the reward service', async () => {
    const run = await execa('node', [`${ws.root}/node_modules/nx/dist/bin/nx.js`, 'run', 'bright:train'], {
      cwd: ws.root,
      env: { ...NX_ENV, ARR_JUDGE_URL: sim.url, ARR_ALLOW_NO_GPU: '1' },
      reject: false,
      all: true,
    });
    const runs = readdirSync(ws.path('cache/runs'));
    expect(runs, run.all).toHaveLength(1);
    const dir = ws.path(`cache/runs/${runs[0]}`);
    const record = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
    expect(
      existsSync(join(dir, 'standin-report.json')),
      `${run.all}\n${readFileSync(join(dir, 'train.log'), 'utf8')}`,
    ).toBe(true);
    const report = JSON.parse(readFileSync(join(dir, 'standin-report.json'), 'utf8'));

    // Every metadata file opened with torch.load(weights_only=True): 2 entries × 3 fields.
    expect(report.loaded).toHaveLength(6);
    expect(report.loaded.map((l: { field: string }) => l.field)).toContain('text_ids');
    // The judge came from judge.yaml: the service's OpenAI base URL, the token only by reference on disk.
    expect(report.judge).toMatchObject({
      base_url: `${record.reward_service.url}/v1`,
      api_key_in_file: '${ARR_REWARD_TOKEN}',
      api_key_expanded: true,
    });
    // Samples saved relative to the working directory, which is the run directory.
    expect(existsSync(join(dir, 'images/flux_0_0.png'))).toBe(true);
    expect(existsSync(join(dir, 'images/flux_0_1.png'))).toBe(true);
    expect(record.cwd).toBe(dir);

    expect(run.exitCode, run.all).toBe(0);
    expect(record).toMatchObject({ status: 'succeeded', exit_code: 0, checkpoints: ['checkpoint-2-0'] });
    expect(report.problems).toEqual([]);
    // Both pairs judged through the service: rank 1 → 1.0, the other → -0.1 (the brighter image wins).
    expect(report.chat.map((c: { status: number }) => c.status)).toEqual([200, 200]);
    expect(report.chat[0].rewards).toEqual([1.0, -0.1]);
    // The service counted the trainer's calls (its /v1/stats, kept in run.json when the trainer ended).
    expect(record.reward_service.stats.chat).toMatchObject({ requests: 2, completions: 2 });
  }, 300_000);
});
