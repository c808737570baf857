// Checks before launch: each one tripped, each message saying what to fix.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareTrain } from '../../src/train/launch.js';
import type { TrainCheck } from '../../src/train/checks.js';
import { trainWorkspace, writeFluxEmbeddings, type ManifestOptions, type TrainWorkspace } from './fixtures.js';

let ws: TrainWorkspace;
afterEach(() => ws?.cleanup());

// python: null checks .pt files structurally, in this process; loading with torch (a python process) is
// covered by checks.e2e.test.ts.
async function checks(
  options: ManifestOptions & {
    env?: Record<string, string>;
    gpus?: number | null;
    allowNoGpu?: boolean;
    frozen?: boolean;
    before?: () => void;
    python?: string | null;
  } = {},
) {
  ws = trainWorkspace(options);
  if (options.frozen !== false) await ws.freeze();
  options.before?.();
  const { checks } = await prepareTrain(
    { experiment: 'exp-a', workspaceRoot: ws.root, env: options.env ?? {} },
    {
      countGpus: () => (options.gpus === undefined ? 1 : options.gpus),
      allowNoGpu: options.allowNoGpu,
      python: options.python ?? null,
    },
  );
  return checks;
}

const failed = (cs: TrainCheck[]) => cs.filter((c) => !c.ok && c.severity === 'error').map((c) => c.name);
const named = (cs: TrainCheck[], name: string) => cs.find((c) => c.name === name)!;

describe('pre-launch checks', { timeout: 30_000 }, () => {
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
    cs = await checks({
      command: null,
      env: { ARR_TRAINER_DIR: '/nonexistent/arr' },
      train: '  base_model: ../models/flux\n',
    });
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
    const cs = await checks({
      before: () =>
        ws.write(
          'experiments/exp-a.yaml',
          readFileSync(ws.path('experiments/exp-a.yaml'), 'utf8').replace(
            '  embeddings: ../data/emb/metadata.json\n',
            '',
          ),
        ),
    });
    expect(named(cs, 'embeddings').message).toContain('npx nx run exp-a:preprocess');
  });

  it('refuses metadata that is not a JSON array, or whose entries name missing files; an empty array is a warning', async () => {
    let cs = await checks({ before: () => writeFileSync(ws.path('data/emb/metadata.json'), '{"a": 1}') });
    expect(named(cs, 'embeddings').message).toContain('must be a JSON array');
    ws.cleanup();
    cs = await checks({ before: () => rmSync(ws.path('data/emb/prompt_embed/1.pt')) });
    expect(named(cs, 'embeddings').message).toContain(
      'entry 1 prompt_embed_path: data/emb/prompt_embed/1.pt cannot be opened',
    );
    ws.cleanup();
    cs = await checks({ before: () => writeFileSync(ws.path('data/emb/metadata.json'), '[]') });
    expect(failed(cs)).toEqual([]);
    expect(named(cs, 'embeddings')).toMatchObject({ ok: true, severity: 'warning' });
    expect(named(cs, 'embeddings').message).toContain('empty array');
  });

  it('checks entries in the reference layout (<field without _path>/<file>)', async () => {
    const cs = await checks({
      before: () =>
        writeFileSync(
          ws.path('data/emb/metadata.json'),
          JSON.stringify([{ caption: 'c', prompt_embed_path: '0.pt', pooled_prompt_embeds_path: '7.pt' }]),
        ),
    });
    expect(named(cs, 'embeddings').message).toContain(
      'entry 0 pooled_prompt_embeds_path: data/emb/pooled_prompt_embeds/7.pt cannot be opened',
    );
  });

  it('opens every tensor field, not only *_path: a deleted text_ids/ folder fails', async () => {
    const cs = await checks({ before: () => rmSync(ws.path('data/emb/text_ids'), { recursive: true }) });
    expect(failed(cs)).toEqual(['embeddings']);
    expect(named(cs, 'embeddings').message).toContain('entry 0 text_ids: data/emb/text_ids/0.pt cannot be opened');
    expect(named(cs, 'embeddings').message).toContain('npx nx run exp-a:preprocess');
  });

  it('checks one file of each kind structurally: a truncated .pt fails with the reason (torch: checks.e2e.test.ts)', async () => {
    const cs = await checks({
      before: () =>
        writeFileSync(
          ws.path('data/emb/pooled_prompt_embeds/0.pt'),
          readFileSync(ws.path('data/emb/pooled_prompt_embeds/0.pt')).subarray(0, 60),
        ),
    });
    expect(failed(cs)).toEqual(['embeddings']);
    expect(named(cs, 'embeddings').message).toMatch(
      /pooled_prompt_embeds: data\/emb\/pooled_prompt_embeds\/0\.pt: not a torch.save archive/,
    );
  });

  it('passes a readable set, saying the structure of one file of each kind was checked', async () => {
    const cs = await checks();
    expect(named(cs, 'embeddings').message).toContain(
      '2 entries, 12 file(s) opened; structure of one file of each kind checked',
    );
  });

  it('refuses a safetensors-only set for the reference trainer, saying to set preprocess.format: pt', async () => {
    const cs = await checks({
      command: null,
      train: '  trainer_dir: ../trainers\n  base_model: ../models/flux\n',
      before: () => {
        ws.write('trainers/fastvideo/train_rpo_flux.py', '# reference\n');
        ws.write('models/flux/model_index.json', '{}');
        rmSync(ws.path('data/emb'), { recursive: true });
        writeFluxEmbeddings(ws, 'data/emb', ['a', 'b'], 'safetensors');
      },
    });
    expect(failed(cs)).toEqual(['embeddings']);
    expect(named(cs, 'embeddings').message).toContain('not torch files');
    expect(named(cs, 'embeddings').message).toContain(
      'Set preprocess.format: pt (the default) and rebuild (npx nx run exp-a:preprocess)',
    );
  });

  it("requires the loader's fields for the reference trainer", async () => {
    const cs = await checks({
      command: null,
      train: '  trainer_dir: ../trainers\n  base_model: ../models/flux\n',
      before: () => {
        ws.write('trainers/fastvideo/train_rpo_flux.py', '# reference\n');
        ws.write('models/flux/model_index.json', '{}');
        writeFileSync(
          ws.path('data/emb/metadata.json'),
          JSON.stringify([{ caption: 'c', prompt_embed_path: '0.pt', pooled_prompt_embeds_path: '0.pt' }]),
        );
      },
    });
    expect(failed(cs)).toEqual(['embeddings']);
    expect(named(cs, 'embeddings').message).toContain('entry 0 has no text_ids (the FLUX loader reads it)');
  });

  it('refuses a missing frozen rubric, naming the freeze target', async () => {
    const cs = await checks({ frozen: false });
    expect(failed(cs)).toEqual(['rubric']);
    expect(named(cs, 'rubric').message).toContain(
      'rubrics/flux-a.v1.txt does not exist; freeze it first: npx nx run exp-a:freeze',
    );
  });

  it('refuses a frozen rubric edited after freezing', async () => {
    const cs = await checks({
      before: () => writeFileSync(ws.path('rubrics/flux-a.v1.txt'), 'Rubric 1:\nTheme: Edited\n- Tip1: x\n'),
    });
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
    const cs = await checks({
      train: '  flags: { num_generations: 4, use_group: false }\n  gradient_accumulation_steps: 1\n',
    });
    expect(failed(cs)).toEqual(['num-generations', 'rpo-flags']);
    expect(named(cs, 'num-generations').message).toContain('accepts 2 only');
    expect(named(cs, 'rpo-flags').message).toContain('--use_group');
  });

  it('catches the gradient-accumulation trap: more accumulation steps than samples per step', async () => {
    const cs = await checks({ train: '  gradient_accumulation_steps: 8\n' });
    expect(failed(cs)).toEqual(['grad-accum']);
    expect(named(cs, 'grad-accum').message).toContain(
      'gradient_accumulation_steps 8 is larger than the 2 samples per step',
    );
    expect(named(cs, 'grad-accum').message).toContain('never step the optimizer');
  });
});
