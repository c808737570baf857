// `arr judge`, `arr judge doctor` and `arr models` on the local backend, as a user runs them: real
// child processes on tiny GGUFs.
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeHub } from '../../helpers/fake-hub.js';
import { writeTinyVlm } from '../../helpers/tiny-vlm.js';
import { makeWorkspace, repoRoot, writeT2iExperiment, type TestWorkspace } from '../../helpers/workspace.js';

let ws: TestWorkspace;
const arr = (args: string[], env: Record<string, string> = {}) =>
  execa('node', [join(repoRoot, 'bin/arr.mjs'), ...args], {
    cwd: ws.root,
    reject: false,
    all: true,
    timeout: 240_000,
    env: {
      NO_COLOR: '1',
      ARR_JUDGE_URL: '',
      ARR_JUDGE_BACKEND: 'local',
      ARR_MODELS_DIR: ws.path('models'),
      HF_ENDPOINT: 'http://127.0.0.1:1',
      ...env,
    },
  });

beforeAll(async () => {
  ws = makeWorkspace();
  await writeT2iExperiment(
    ws,
    `judge:\n  max_tokens: 512\n  local: { model: models/tiny/Tiny-VL-Instruct-Q4_K_M.gguf, mmproj: models/tiny/mmproj-Tiny-VL-Instruct-F16.gguf, threads: 2, gpu_layers: 0, parallel: 2, context: 4096 }\n`,
  );
  writeTinyVlm(ws.path('models/tiny'));
}, 60_000);
afterAll(() => ws?.cleanup());

describe('arr on the local backend', () => {
  it('arr judge grades a labelled dataset in-process and prints the summary', async () => {
    const run = await arr([
      'judge',
      '--experiment',
      'exp-a',
      '--dataset',
      'data/t2i/test.jsonl',
      '--no-cache',
      '--out',
      'report.json',
    ]);
    // A random model may miss every pair; what matters is that both pairs were judged and counted.
    expect(run.all).toMatch(/Total Tests: 2/);
    expect(run.all).toMatch(/Judge calls: [1-9]/);
    const report = JSON.parse(readFileSync(ws.path('report.json'), 'utf8')) as {
      backend: string;
      model_files: { name: string; sha256: string }[];
    };
    expect(report.backend).toBe('local');
    expect(report.model_files.map((f) => f.name)).toEqual([
      'Tiny-VL-Instruct-Q4_K_M.gguf',
      'mmproj-Tiny-VL-Instruct-F16.gguf',
    ]);
    expect(report.model_files[0].sha256).toMatch(/^[0-9a-f]{64}$/);
  }, 240_000);

  it('arr judge doctor reports the local model, its build and GPU layers', async () => {
    const run = await arr(['judge', 'doctor', '--experiment', 'exp-a']);
    expect(run.all).toMatch(/local model loads/);
    expect(run.all).toMatch(
      /Tiny-VL-Instruct-Q4_K_M\.gguf \+ mmproj-Tiny-VL-Instruct-F16\.gguf loaded in \d+ ms \(CPU build, no GPU layers; 2 threads, 2 parallel sequences\)/,
    );
    expect(run.all).toMatch(/2 images in one request/);
  }, 240_000);

  it("arr models pull downloads an experiment's judge files with a progress bar, verified", async () => {
    const hub = await startFakeHub({
      'acme/Tiny-VL-GGUF': [
        { path: 'Tiny-VL-Q4_K_M.gguf', bytes: readFileSync(ws.path('models/tiny/Tiny-VL-Instruct-Q4_K_M.gguf')) },
        {
          path: 'mmproj-Tiny-VL-F16.gguf',
          bytes: readFileSync(ws.path('models/tiny/mmproj-Tiny-VL-Instruct-F16.gguf')),
        },
      ],
    });
    try {
      ws.write(
        'experiments/exp-pull.yaml',
        readFileSync(ws.path('experiments/exp-a.yaml'), 'utf8').replace(
          /local: \{[^}]*\}/,
          'local: { model: hf://acme/Tiny-VL-GGUF }',
        ),
      );
      const run = await arr(['models', 'pull', 'exp-pull'], {
        HF_ENDPOINT: hub.url,
        ARR_MODELS_DIR: ws.path('pulled'),
      });
      expect(run.exitCode, run.all).toBe(0);
      expect(run.all).toMatch(/Tiny-VL-Q4_K_M\.gguf \[#+\] 0\.4 MiB \/ 0\.4 MiB .*\/s {2}ETA/);
      expect(run.all).toContain(join(ws.path('pulled'), 'acme', 'Tiny-VL-GGUF', 'Tiny-VL-Q4_K_M.gguf'));
      expect(run.all).toMatch(/mmproj-Tiny-VL-F16\.gguf {2}0\.1 MiB {2}sha256 [0-9a-f]{64}/);
    } finally {
      await hub.close();
    }
  }, 60_000);

  it('arr models ls lists what ARR_MODELS_DIR holds', async () => {
    const run = await arr(['models', 'ls']);
    expect(run.exitCode).toBe(0);
    expect(run.all).toContain(`ARR_MODELS_DIR: ${ws.path('models')}`);
    expect(run.all).toMatch(/tiny\/Tiny-VL-Instruct-Q4_K_M\.gguf/);
  }, 60_000);
});
