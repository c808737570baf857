// The preprocess target's output read by Python: our reader script on the metadata, and torch.load on the
// .pt files (child python processes).
import { execa } from 'execa';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/workspace.js';
import { build, DIM, expectedPooled, manifest, metadataOf, setUpPreprocessWorkspace } from './target-workspace.js';

setUpPreprocessWorkspace();

describe('preprocess output in Python', () => {
  it('writes .pt files that torch.load reads, and the Python reader loads our safetensors', async () => {
    manifest('exp', '../data/prompts.txt', '  format: pt\n');
    await build('exp');
    const { file, entries } = metadataOf('exp');
    expect(entries[0].prompt_embed_path).toBe('0.pt');
    const reader = await execa('/usr/bin/python3', [join(repoRoot, 'python/arr_embeddings.py'), file], {
      reject: false,
    });
    expect(reader.exitCode, reader.stderr).toBe(0);
    expect(reader.stdout).toContain('4 entries');
    const torchPresent = (await execa('/usr/bin/python3', ['-c', 'import torch'], { reject: false })).exitCode === 0;
    if (!torchPresent && process.env.ARR_SKIP_TORCH_TESTS !== '1')
      throw new Error(
        'torch is missing for /usr/bin/python3: apt-get install -y python3-torch (or set ARR_SKIP_TORCH_TESTS=1)',
      );
    if (!torchPresent) return;
    const script = `import torch, json, sys\nm = json.load(open(sys.argv[1]))\nimport os\nd = os.path.dirname(sys.argv[1])\nt = torch.load(os.path.join(d, 'pooled_prompt_embeds', m[2]['pooled_prompt_embeds_path']))\ne = torch.load(os.path.join(d, 'prompt_embed', m[2]['prompt_embed_path']))\nprint(json.dumps({'pooled': t.tolist(), 'embed_shape': list(e.shape), 'embed_dtype': str(e.dtype)}))`;
    const run = await execa('/usr/bin/python3', ['-c', script, file]);
    const out = JSON.parse(run.stdout);
    expect(out.embed_shape).toEqual([8, DIM]);
    expect(out.embed_dtype).toBe('torch.bfloat16');
    expectedPooled('three green circle').forEach((v, d) => expect(out.pooled[d]).toBeCloseTo(v, 6));
  }, 60_000);
});
