// Checks before launch: each one tripped, each message saying what to fix.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareTrain } from '../../src/train/launch.js';
import type { TrainCheck } from '../../src/train/checks.js';
import { trainWorkspace, type ManifestOptions, type TrainWorkspace } from './fixtures.js';

let ws: TrainWorkspace;
afterEach(() => ws?.cleanup());

async function checks(options: ManifestOptions & { env?: Record<string, string>; gpus?: number | null; allowNoGpu?: boolean; frozen?: boolean; before?: () => void } = {}) {
  ws = trainWorkspace(options);
  if (options.frozen !== false) await ws.freeze();
  options.before?.();
  const { checks } = await prepareTrain(
    { experiment: 'exp-a', workspaceRoot: ws.root, env: options.env ?? {} },
    { countGpus: () => (options.gpus === undefined ? 1 : options.gpus), allowNoGpu: options.allowNoGpu },
  );
  return checks;
}

const failed = (cs: TrainCheck[]) => cs.filter((c) => !c.ok && c.severity === 'error').map((c) => c.name);
const named = (cs: TrainCheck[], name: string) => cs.find((c) => c.name === name)!;

describe('pre-launch checks', () => {
  it('all pass for a complete experiment with a stand-in trainer', async () => {
    const cs = await checks();
    expect(failed(cs)).toEqual([]);
    expect(named(cs, 'trainer').message).toContain('train.command replaces the reference trainer');
    expect(named(cs, 'rubric').message).toContain('matches its lock');
  });

  it('names the missing trainer checkout, reference script and base model when train.command is not given', async () => {
    let cs = await checks({ command: null });
    expect(failed(cs)).toEqual(['trainer', 'base-model']);
    expect(named(cs, 'trainer').message).toContain('set train.trainer_dir or ARR_TRAINER_DIR');
    expect(named(cs, 'base-model').message).toContain('set train.base_model');
    ws.cleanup();
    cs = await checks({ command: null, env: { ARR_TRAINER_DIR: '/nonexistent/arr' }, train: '  base_model: ../models/flux\n' });
    expect(named(cs, 'trainer').message).toContain('/nonexistent/arr/fastvideo/train_rpo_flux.py does not exist');
    expect(named(cs, 'base-model').message).toContain('models/flux does not exist');
    ws.cleanup();
    cs = await checks({
      command: null,
      train: '  trainer_dir: ../trainers\n  base_model: ../models/flux\n',
      before: () => {
        ws.write('trainers/fastvideo/train_rpo_flux.py', '# reference\n');
        ws.write('models/flux/model_index.json', '{}');
      },
    });
    expect(failed(cs)).toEqual([]);
  });

  it('refuses a missing embeddings metadata.json, naming the preprocess target', async () => {
    const cs = await checks({ before: () => rmSync(ws.path('data/emb/metadata.json')) });
    expect(failed(cs)).toEqual(['embeddings']);
    expect(named(cs, 'embeddings').message).toContain('data/emb/metadata.json, which does not exist');
  });

  it('names the preprocess target when neither train.embeddings nor its artifact exists', async () => {
    const cs = await checks({ before: () => ws.write('experiments/exp-a.yaml', readFileSync(ws.path('experiments/exp-a.yaml'), 'utf8').replace('  embeddings: ../data/emb/metadata.json\n', '')) });
    expect(named(cs, 'embeddings').message).toContain('npx nx run exp-a:preprocess');
  });

  it('refuses metadata that is not a JSON array, or whose entries name missing files; an empty array is a warning', async () => {
    let cs = await checks({ before: () => writeFileSync(ws.path('data/emb/metadata.json'), '{"a": 1}') });
    expect(named(cs, 'embeddings').message).toContain('must be a JSON array');
    ws.cleanup();
    cs = await checks({ before: () => rmSync(ws.path('data/emb/prompt_embed/1.safetensors')) });
    expect(named(cs, 'embeddings').message).toContain('entry 1: data/emb/prompt_embed/1.safetensors');
    ws.cleanup();
    cs = await checks({ before: () => writeFileSync(ws.path('data/emb/metadata.json'), '[]') });
    expect(failed(cs)).toEqual([]);
    expect(named(cs, 'embeddings')).toMatchObject({ ok: true, severity: 'warning' });
    expect(named(cs, 'embeddings').message).toContain('empty array');
  });

  it('checks entries in the reference layout (<field without _path>/<file>) too', async () => {
    const cs = await checks({
      before: () => writeFileSync(ws.path('data/emb/metadata.json'), JSON.stringify([{ caption: 'c', prompt_embed_path: '0.safetensors', pooled_prompt_embeds_path: '0.safetensors' }])),
    });
    expect(named(cs, 'embeddings').message).toContain('entry 0: data/emb/pooled_prompt_embeds/0.safetensors');
  });

  it('refuses a missing frozen rubric, naming the freeze target', async () => {
    const cs = await checks({ frozen: false });
    expect(failed(cs)).toEqual(['rubric']);
    expect(named(cs, 'rubric').message).toContain('rubrics/flux-a.v1.txt does not exist; freeze it first: npx nx run exp-a:freeze');
  });

  it('refuses a frozen rubric edited after freezing', async () => {
    const cs = await checks({ before: () => writeFileSync(ws.path('rubrics/flux-a.v1.txt'), 'Rubric 1:\nTheme: Edited\n- Tip1: x\n') });
    expect(failed(cs)).toEqual(['rubric']);
    expect(named(cs, 'rubric').message).toContain('does not match its lock');
  });

  it('counts GPUs against gpus_per_node unless --allow-no-gpu or ARR_ALLOW_NO_GPU=1', async () => {
    let cs = await checks({ gpus: 0 });
    expect(named(cs, 'gpus').message).toContain('lists 0 GPU(s) but train.gpus_per_node is 1');
    ws.cleanup();
    cs = await checks({ gpus: null });
    expect(named(cs, 'gpus').message).toContain('nvidia-smi -L did not run');
    ws.cleanup();
    cs = await checks({ gpus: null, allowNoGpu: true });
    expect(failed(cs)).toEqual([]);
    ws.cleanup();
    cs = await checks({ gpus: null, env: { ARR_ALLOW_NO_GPU: '1' } });
    expect(failed(cs)).toEqual([]);
  });

  it('refuses num_generations other than 2 and turned-off RPO flags (validate_rpo_args)', async () => {
    const cs = await checks({ train: '  flags: { num_generations: 4, use_group: false }\n  gradient_accumulation_steps: 1\n' });
    expect(failed(cs)).toEqual(['num-generations', 'rpo-flags']);
    expect(named(cs, 'num-generations').message).toContain('accepts 2 only');
    expect(named(cs, 'rpo-flags').message).toContain('--use_group');
  });

  it('catches the gradient-accumulation trap: more accumulation steps than samples per step', async () => {
    const cs = await checks({ train: '  gradient_accumulation_steps: 8\n' });
    expect(failed(cs)).toEqual(['grad-accum']);
    expect(named(cs, 'grad-accum').message).toContain('gradient_accumulation_steps 8 is larger than the 2 samples per step');
    expect(named(cs, 'grad-accum').message).toContain('never step the optimizer');
  });
});
