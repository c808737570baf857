// Artifacts copied into a target's Nx output are adopted by a store that misses them, verified first.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect } from 'vitest';
import { openArtifactStore } from '../../src/state/artifact-fallbacks.js';
import { adoptFromNxOutputs, copyToNxOutput, nxArtifactDir } from '../../src/state/nx-outputs.js';
import { it } from '../helpers/fixtures.js';
import type { TestWorkspace } from '../helpers/workspace.js';

let warnings: string[];
beforeEach(() => {
  warnings = [];
});

const open = (ws: TestWorkspace) => openArtifactStore(ws.root, { owner: 'exp-a', warn: (l) => warnings.push(l) });

describe('adoption from Nx outputs', () => {
  it('a reader that misses adopts the copy in any experiment’s Nx output; adoptFromNxOutputs lists what it took', async ({
    ws,
  }) => {
    const store = open(ws);
    const { key } = await store.build('verify', { v: 1 }, (d) => writeFile(join(d, 'report.json'), '{"ok":true}\n'));
    await copyToNxOutput(store, ws.root, 'exp-a', 'verify', key);
    await rm(ws.path('cache/artifacts'), { recursive: true });

    const again = open(ws);
    expect(await adoptFromNxOutputs(again, ws.root)).toEqual([`verify/${key}`]);
    expect(await adoptFromNxOutputs(again, ws.root)).toEqual([]); // already there
    expect(await readFile(join(again.path('verify', key), 'report.json'), 'utf8')).toBe('{"ok":true}\n');
    expect((await again.read('verify', key))?.built_by).toBe('exp-a');

    await rm(ws.path('cache/artifacts'), { recursive: true });
    expect(await open(ws).has('verify', key)).toBe(true);
  });

  it('refuses a copy whose files do not match its artifact.json, naming the key, and reports a miss', async ({
    ws,
  }) => {
    const store = open(ws);
    const { key } = await store.build('freeze', { f: 1 }, (d) => writeFile(join(d, 'rubric.txt'), 'be sharp\n'));
    await copyToNxOutput(store, ws.root, 'exp-a', 'freeze', key);
    await rm(ws.path('cache/artifacts'), { recursive: true });
    await writeFile(join(nxArtifactDir(ws.root, 'exp-a', 'freeze'), 'rubric.txt'), 'be SHARP\n');
    expect(await open(ws).has('freeze', key)).toBe(false);
    expect(warnings.join('\n')).toContain(
      `refused freeze/${key} from Nx outputs (cache/experiments/): rubric.txt: sha256 mismatch`,
    );
  });

  it('never carries embeddings or preprocess artifacts in Nx outputs', async ({ ws }) => {
    const store = open(ws);
    const { key } = await store.build('preprocess', { p: 1 }, (d) => writeFile(join(d, 'metadata.json'), '[]\n'));
    await copyToNxOutput(store, ws.root, 'exp-a', 'preprocess', key);
    await expect(readFile(join(nxArtifactDir(ws.root, 'exp-a', 'preprocess'), 'artifact.json'))).rejects.toThrow(
      /ENOENT/,
    );
  });
});
