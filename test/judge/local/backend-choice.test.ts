// Which backend judges: explicit settings win, ARR_JUDGE_BACKEND overrides the manifest, and auto is
// http only when there is an endpoint.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyedExperiment } from '../../../src/judge/key-model.js';
import { judgeBackend } from '../../../src/judge/settings.js';
import { parseModelRef, pickModelFile, pickProjectorFile } from '../../../src/judge/local/model-ref.js';
import type { Experiment } from '../../../src/types/experiment.js';
import { writeTinyVlm } from '../../helpers/tiny-vlm.js';

const experiment = (judge: Partial<Experiment['judge']>) =>
  ({ judge: { backend: 'auto', base_url: null, ...judge } }) as unknown as Experiment;

describe('judge backend choice', () => {
  it('auto is local without an endpoint and http with one from the manifest, the env or a flag', () => {
    expect(judgeBackend(experiment({}), { env: {} })).toBe('local');
    expect(judgeBackend(experiment({ base_url: '' as unknown as string }), { env: {} })).toBe('local');
    expect(judgeBackend(experiment({ base_url: 'http://gpu:8000/v1' }), { env: {} })).toBe('http');
    expect(judgeBackend(experiment({ base_url: ['http://a/v1', 'http://b/v1'] }), { env: {} })).toBe('http');
    expect(judgeBackend(experiment({}), { env: { ARR_JUDGE_URL: 'http://gpu:8000/v1' } })).toBe('http');
    expect(judgeBackend(experiment({}), { env: { ARR_JUDGE_URL: '' } })).toBe('local');
    expect(judgeBackend(experiment({}), { env: {}, baseUrl: 'http://gpu:8000/v1' })).toBe('http');
  });

  it('an explicit backend wins, and ARR_JUDGE_BACKEND overrides the manifest', () => {
    expect(judgeBackend(experiment({ backend: 'local', base_url: 'http://gpu:8000/v1' }), { env: {} })).toBe('local');
    expect(judgeBackend(experiment({ backend: 'http' }), { env: {} })).toBe('http');
    expect(judgeBackend(experiment({ backend: 'http' }), { env: { ARR_JUDGE_BACKEND: 'local' } })).toBe('local');
    expect(judgeBackend(experiment({ base_url: 'http://gpu:8000/v1' }), { env: { ARR_JUDGE_BACKEND: 'local' } })).toBe(
      'local',
    );
    expect(() => judgeBackend(experiment({}), { env: { ARR_JUDGE_BACKEND: 'vllm' } })).toThrow(
      /must be auto, http or local/,
    );
  });
});

describe('model references', () => {
  it('parses hf:// references with and without revision and file, and paths', () => {
    expect(parseModelRef('hf://Qwen/Qwen3-VL-2B-Instruct-GGUF')).toMatchObject({
      kind: 'hub',
      repo: 'Qwen/Qwen3-VL-2B-Instruct-GGUF',
      revision: 'main',
      file: undefined,
    });
    expect(parseModelRef('hf://Qwen/Qwen3-VL-8B-Instruct-GGUF@v1/sub/model-Q8_0.gguf')).toMatchObject({
      repo: 'Qwen/Qwen3-VL-8B-Instruct-GGUF',
      revision: 'v1',
      file: 'sub/model-Q8_0.gguf',
    });
    expect(parseModelRef('models/x.gguf', '/ws')).toEqual({
      kind: 'file',
      path: '/ws/models/x.gguf',
      text: 'models/x.gguf',
    });
    expect(() => parseModelRef('hf://just-a-name')).toThrow(/not a Hub reference/);
  });

  it('picks the quant among model files and the F16 projector, never a projector as the model', () => {
    const files = [
      'Qwen3VL-2B-Instruct-Q8_0.gguf',
      'Qwen3VL-2B-Instruct-Q4_K_M.gguf',
      'mmproj-Qwen3VL-2B-Instruct-Q8_0.gguf',
      'mmproj-Qwen3VL-2B-Instruct-F16.gguf',
      'mmproj-x-Q4_K_M.gguf',
    ];
    expect(pickModelFile(files, 'Q4_K_M')).toBe('Qwen3VL-2B-Instruct-Q4_K_M.gguf');
    expect(pickModelFile(files, 'q8_0')).toBe('Qwen3VL-2B-Instruct-Q8_0.gguf');
    expect(pickModelFile(files, 'Q5_K_M')).toBeUndefined();
    expect(pickProjectorFile(files)).toBe('mmproj-Qwen3VL-2B-Instruct-F16.gguf');
    expect(pickProjectorFile(['mmproj-a-Q8_0.gguf'])).toBe('mmproj-a-Q8_0.gguf');
  });
});

describe('the model identity in target keys', () => {
  it("replaces judge.model with the GGUF files' hashes for the local backend only", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arr-identity-'));
    try {
      const a = writeTinyVlm(join(dir, 'a'), 1);
      const b = writeTinyVlm(join(dir, 'b'), 5);
      const local = (t: { model: string; mmproj: string }) =>
        experiment({
          backend: 'local',
          model: 'Qwen/Qwen3-VL-8B-Instruct',
          local: { model: t.model, mmproj: t.mmproj, quant: 'Q4_K_M' } as Experiment['judge']['local'],
        });
      const ka = (await keyedExperiment(local(a), dir)).judge.model;
      expect(ka).toMatch(/^gguf:[0-9a-f]{64}\+[0-9a-f]{64}$/);
      expect((await keyedExperiment(local(a), dir)).judge.model).toBe(ka);
      expect((await keyedExperiment(local(b), dir)).judge.model).not.toBe(ka);
      const http = experiment({ backend: 'http', model: 'Qwen/Qwen3-VL-8B-Instruct', base_url: 'http://gpu:8000/v1' });
      expect((await keyedExperiment(http, dir)).judge.model).toBe('Qwen/Qwen3-VL-8B-Instruct');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
