// The launch plan: torchrun + the reference script by default, the paper's values per task where the
// manifest leaves null, train.flags mapped to --name value, train.command replacing the program.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { loadValidExperiment } from '../../src/manifest/valid.js';
import { buildPlan, flagArgs, flagValue } from '../../src/train/plan.js';
import { manifest, trainWorkspace, type TrainWorkspace } from './fixtures.js';

let ws: TrainWorkspace;
afterEach(() => ws?.cleanup());

async function plan(options: Parameters<typeof trainWorkspace>[0] = {}, env: Record<string, string> = {}) {
  ws = trainWorkspace(options);
  const loaded = await loadValidExperiment({ experiment: 'exp-a', workspaceRoot: ws.root, env }, { checkData: false });
  return buildPlan(loaded, { workspaceRoot: ws.root, env });
}

describe('buildPlan', () => {
  it('launches torchrun with the FLUX reference script and the paper FLUX values when the manifest leaves them null', async () => {
    const p = await plan({ command: null, train: '  base_model: ../models/flux\n' }, { ARR_TRAINER_DIR: '/opt/arr' });
    expect(p.command).toEqual([
      'torchrun',
      '--nnodes',
      '1',
      '--node_rank',
      '0',
      '--nproc_per_node',
      '1',
      '--master_port',
      '<free port, picked at launch>',
      '/opt/arr/fastvideo/train_rpo_flux.py',
    ]);
    expect(p.picksMasterPort).toBe(true);
    expect(p.custom).toBe(false);
    const v = (n: string) => flagValue(p.flags, n);
    expect([
      v('learning_rate'),
      v('sampling_steps'),
      v('clip_range'),
      v('kl_beta'),
      v('lora_rank'),
      v('lora_alpha'),
    ]).toEqual([5e-5, 8, 0.2, 0.01, 16, 32]);
    expect([v('use_arr'), v('num_generations'), v('use_group')]).toEqual([true, 2, true]);
    // One optimizer step per training step: 1 prompt × 2 generations.
    expect(v('gradient_accumulation_steps')).toBe(2);
    expect(p.samplesPerStep).toBe(2);
    expect(v('pretrained_model_name_or_path')).toBe(ws.path('models/flux'));
    expect(v('max_train_steps')).toBe(300);
    expect(v('seed')).toBe(42);
    expect(p.env.PYTHONPATH?.split(':')[0]).toBe('/opt/arr');
  });

  it('uses the edit values and script for task edit, and adds --rdzv_endpoint for multi-node runs', async () => {
    const p = await plan({
      task: 'edit',
      command: null,
      train: '  trainer_dir: ../trainers\n  nnodes: 2\n  node_rank: 1\n  rdzv_endpoint: node0:29500\n',
    });
    expect(p.command).toEqual([
      'torchrun',
      '--nnodes',
      '2',
      '--node_rank',
      '1',
      '--nproc_per_node',
      '1',
      '--rdzv_endpoint',
      'node0:29500',
      ws.path('trainers/fastvideo/train_rpo_qwen_edit.py'),
    ]);
    const v = (n: string) => flagValue(p.flags, n);
    expect([v('learning_rate'), v('sampling_steps'), v('kl_beta'), v('lora_rank'), v('lora_alpha')]).toEqual([
      1e-5, 10, 0.02, 32, 64,
    ]);
    expect(p.target).toBe('train-edit');
  });

  it('keeps the manifest values over the paper defaults', async () => {
    const p = await plan({
      train: '  learning_rate: 0.001\n  kl_beta: 0\n  lora: { rank: 4, alpha: 8 }\n  gradient_accumulation_steps: 1\n',
    });
    const v = (n: string) => flagValue(p.flags, n);
    expect([
      v('learning_rate'),
      v('kl_beta'),
      v('lora_rank'),
      v('lora_alpha'),
      v('gradient_accumulation_steps'),
    ]).toEqual([0.001, 0, 4, 8, 1]);
  });

  it('passes train.flags as --name value: true is a bare flag, false and null are omitted, known flags are replaced in place', async () => {
    const p = await plan({
      train: '  flags: { eta: 0.5, use_ema: true, init_same_noise: false, ignore_last: null, train_batch_size: 2 }\n',
    });
    const args = flagArgs(p.flags);
    expect(args.join(' ')).toContain('--eta 0.5');
    expect(args).toContain('--use_ema');
    expect(args.indexOf('--use_ema') + 1 === args.length || args[args.indexOf('--use_ema') + 1].startsWith('--')).toBe(
      true,
    );
    expect(args).not.toContain('--init_same_noise');
    expect(args).not.toContain('--ignore_last');
    // Two prompts per step → four samples → accumulation 4 by default.
    expect(p.samplesPerStep).toBe(4);
    expect(flagValue(p.flags, 'gradient_accumulation_steps')).toBe(4);
  });

  it('runs train.command with the same flags instead of torchrun', async () => {
    const p = await plan();
    expect(p.custom).toBe(true);
    expect(p.command[0]).toBe(process.execPath);
    expect(p.command).not.toContain('torchrun');
    expect(flagArgs(p.flags)).toContain('--use_arr');
  });

  it('reads the embeddings from the preprocess pointer when train.embeddings is not set', async () => {
    ws = trainWorkspace();
    ws.write(
      'experiments/exp-a.yaml',
      readFileSync(ws.path('experiments/exp-a.yaml'), 'utf8').replace('  embeddings: ../data/emb/metadata.json\n', ''),
    );
    ws.write(
      'cache/experiments/exp-a/preprocess/embeddings.json',
      JSON.stringify({ key: 'k', metadata: 'data/emb/metadata.json' }),
    );
    const loaded = await loadValidExperiment(
      { experiment: 'exp-a', workspaceRoot: ws.root, env: {} },
      { checkData: false },
    );
    const p = buildPlan(loaded, { workspaceRoot: ws.root, env: {} });
    expect(p.embeddings).toMatchObject({ from: 'preprocess', metadata: ws.path('data/emb/metadata.json') });
  });

  it('hashes the plan: the same manifest gives the same hash, another value another', async () => {
    const a = (await plan()).hash;
    const again = async () =>
      buildPlan(
        await loadValidExperiment({ experiment: 'exp-a', workspaceRoot: ws.root, env: {} }, { checkData: false }),
        { workspaceRoot: ws.root, env: {} },
      ).hash;
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(await again()).toBe(a);
    manifest(ws, { train: '  seed: 7\n' });
    expect(await again()).not.toBe(a);
  });
});
