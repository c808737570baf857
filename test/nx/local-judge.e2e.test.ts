// Real `nx run`s on the local judge backend: the README's main command with no endpoint and no network
// stops within seconds naming the model files to fetch; rubric-generate on tiny GGUFs ends in an
// artifact or in the named failure, never a hang.
import { execa } from 'execa';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeWorkspace, repoRoot, writeT2iExperiment, type TestWorkspace } from '../helpers/workspace.js';
import { writeTinyVlm, type TinyVlm } from '../helpers/tiny-vlm.js';
import { NX_ENV } from '../helpers/nx.js';

let ws: TestWorkspace;
let tiny: TinyVlm;
async function nx(args: string[], env: Record<string, string> = {}) {
  const started = Date.now();
  const result = await execa('node', [`${ws.root}/node_modules/nx/dist/bin/nx.js`, ...args], {
    cwd: ws.root,
    env: {
      ...NX_ENV,
      ARR_JUDGE_URL: '',
      ARR_JUDGE_BACKEND: '',
      ARR_MODELS_DIR: ws.path('models'),
      HF_ENDPOINT: 'http://127.0.0.1:1',
      ...env,
    },
    reject: false,
    all: true,
    timeout: 240_000,
  });
  return { code: result.exitCode, out: result.all ?? '', ms: Date.now() - started };
}

beforeAll(async () => {
  ws = makeWorkspace({ nx: true });
  cpSync(join(repoRoot, 'experiments'), ws.path('experiments'), { recursive: true });
  cpSync(join(repoRoot, 'examples'), ws.path('examples'), { recursive: true });
  await writeT2iExperiment(ws);
  // Few seeds, one epoch and short answers keep the real runtime's share of the test small.
  ws.write(
    'experiments/exp-local.yaml',
    `task: t2i
extends: ./base/judge.yaml
judge:
  backend: local
  max_tokens: 256
  reasks: 0
  local: { model: models/tiny/Tiny-VL-Instruct-Q4_K_M.gguf, mmproj: models/tiny/mmproj-Tiny-VL-Instruct-F16.gguf, threads: 2, gpu_layers: 0 }
rubric:
  seed: ../data/t2i/seed.jsonl
  task_description: Compare two images.
  per_pair: 2
  max_epochs: 1
verify:
  test: ../data/t2i/test.jsonl
`,
  );
  tiny = writeTinyVlm(ws.path('models/tiny'));
}, 60_000);
afterAll(() => ws?.cleanup());

describe('the local judge under nx', () => {
  it('the main command with no endpoint and no network fails fast, naming the model files to fetch', async () => {
    const run = await nx(['run', 'exp-flux:freeze']);
    expect(run.code).not.toBe(0);
    expect(run.out).toContain('Qwen/Qwen3-VL-2B-Instruct-GGUF');
    expect(run.out).toContain('*Q4_K_M.gguf');
    expect(run.out).toContain('mmproj*.gguf');
    expect(run.out).toContain(ws.path('models'));
    expect(run.out).toMatch(/judge\.local\.model \/ judge\.local\.mmproj/);
    // Nx itself takes a few seconds to start; the judge part adds well under one.
    expect(run.ms).toBeLessThan(60_000);
  }, 120_000);

  it('rubric-generate on tiny GGUFs ends in an artifact or the named failure', async () => {
    expect(existsSync(tiny.model)).toBe(true);
    const run = await nx(['run', 'exp-local:rubric-generate']);
    if (process.env.ARR_TEST_DEBUG)
      console.error(
        run.code,
        run.ms,
        run.out
          .split('\n')
          .filter((l) => !l.startsWith('[INFO]'))
          .slice(-40)
          .join('\n'),
      );
    if (run.code === 0) {
      const stats = JSON.parse(
        readFileSync(ws.path('cache/experiments/exp-local/rubric-generate/stats.json'), 'utf8'),
      ) as { judge: { backend: string; model_files: { name: string }[] } };
      expect(stats.judge.backend).toBe('local');
      expect(stats.judge.model_files.map((f) => f.name)).toEqual([
        'Tiny-VL-Instruct-Q4_K_M.gguf',
        'mmproj-Tiny-VL-Instruct-F16.gguf',
      ]);
    } else {
      expect(run.out, run.out.slice(-3000)).toMatch(/no seed pair produced criteria that pass verification/);
    }
    const lock = JSON.parse(readFileSync(ws.path('cache/experiments/exp-local/resolve/lock.json'), 'utf8')) as {
      resolved: { judge: { model: string } };
    };
    expect(lock.resolved.judge.model).toBeDefined();
  }, 300_000);
});
