// The pre-launch embeddings check loading one file of each kind with torch, in a python process.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { TrainCheck } from '../../src/train/checks.js';
import { prepareTrain } from '../../src/train/launch.js';
import { trainWorkspace, type TrainWorkspace } from './fixtures.js';

// Debian's python3-torch (scripts/system-deps.sh).
const TORCH_PYTHON = '/usr/bin/python3';
let ws: TrainWorkspace | undefined;
afterEach(() => ws?.cleanup());

async function torchChecks(before?: (ws: TrainWorkspace) => void): Promise<TrainCheck> {
  ws = trainWorkspace();
  await ws.freeze();
  before?.(ws);
  const { checks } = await prepareTrain(
    { experiment: 'exp-a', workspaceRoot: ws.root, env: {} },
    { countGpus: () => 1, python: TORCH_PYTHON },
  );
  return checks.find((c) => c.name === 'embeddings')!;
}

describe('pre-launch checks with torch', { timeout: 60_000 }, () => {
  it('a truncated .pt fails torch.load, with the reason', async () => {
    const check = await torchChecks((w) => {
      const file = w.path('data/emb/pooled_prompt_embeds/0.pt');
      writeFileSync(file, readFileSync(file).subarray(0, 60));
    });
    expect(check).toMatchObject({ ok: false, severity: 'error' });
    expect(check.message).toMatch(
      /pooled_prompt_embeds: torch.load\(data\/emb\/pooled_prompt_embeds\/0\.pt, weights_only=True\) failed: /,
    );
  });

  it('a readable set says how one file of each kind was loaded', async () => {
    const check = await torchChecks();
    expect(check.ok).toBe(true);
    expect(check.message).toContain(
      `2 entries, 12 file(s) opened; one file of each kind loaded with torch.load(weights_only=True) (${TORCH_PYTHON}): prompt_embed, pooled_prompt_embeds, text_ids, tensors.prompt_embed`,
    );
  });
});
