// Types and docs/manifest.md derive from the schemas; a schema edit without `npm run gen` fails here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatedFiles } from '../scripts/gen.js';
import { repoRoot } from './helpers/workspace.js';

describe('generated files', () => {
  it('are current with the schemas', async () => {
    for (const [rel, content] of Object.entries(await generatedFiles())) {
      expect(readFileSync(join(repoRoot, rel), 'utf8'), `${rel} is stale: run npm run gen`).toBe(content);
    }
  }, 30_000);

  it('document every schema field in docs/manifest.md', async () => {
    const doc = readFileSync(join(repoRoot, 'docs/manifest.md'), 'utf8');
    for (const field of [
      'judge.concurrency',
      'rubric.select.method',
      'verify.min_gain',
      'train.lora.rank',
      'reward.on_disagreement',
      'data.allowed_roots',
    ]) {
      expect(doc).toContain(`\`${field}\``);
    }
  });
});
