// Builds throwaway ARR workspaces for tests: an nx.json, experiments and datasets with images made by sharp.
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import sharp from 'sharp';

export const repoRoot = resolve(import.meta.dirname, '..', '..');

export interface TestWorkspace {
  root: string;
  write(rel: string, text: string): string;
  path(rel: string): string;
  cleanup(): void;
}

export function makeWorkspace(options: { nx?: boolean } = {}): TestWorkspace {
  const root = mkdtempSync(join(tmpdir(), 'arr-ws-'));
  const write = (rel: string, text: string) => {
    const file = join(root, rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  };
  cpSync(join(repoRoot, 'nx.json'), join(root, 'nx.json'));
  mkdirSync(join(root, 'cache'), { recursive: true });
  if (options.nx) {
    // Enough of the project for a real `nx run`: the engine, the plugin, the CLI, shared node_modules.
    for (const dir of ['src', 'tasks', 'bin', 'schemas'])
      cpSync(join(repoRoot, dir), join(root, dir), { recursive: true });
    for (const file of ['package.json', 'package-lock.json', 'tsconfig.json'])
      cpSync(join(repoRoot, file), join(root, file));
    symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
  }
  return { root, write, path: (rel) => join(root, rel), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** A small PNG whose pixels depend on `seed`, so different seeds give different bytes. */
export async function writePng(file: string, seed: number, size = 32): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  await sharp({
    create: {
      width: size,
      height: size,
      channels: 3,
      background: { r: (seed * 53) % 256, g: (seed * 97) % 256, b: (seed * 29) % 256 },
    },
  })
    .png()
    .toFile(file);
}

/**
 * Writes a t2i experiment `exp-a` over a base, 2 seed pairs, 2 test pairs, a prompt list, and an
 * edit list, all relative to their files as users write them.
 */
export async function writeT2iExperiment(ws: TestWorkspace, extra = ''): Promise<void> {
  for (let i = 0; i < 8; i++) await writePng(ws.path(`data/t2i/images/${i}.png`), i + 1);
  await writePng(ws.path('data/edit/src.png'), 99);
  ws.write(
    'data/t2i/seed.jsonl',
    [
      { query: 'two red circles', response: ['images/0.png', 'images/1.png'], label_rank: [1, 2] },
      { prompt: 'a blue square left of a cat', image_paths: ['images/2.png', 'images/3.png'], label_rank: [2, 1] },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
  ws.write(
    'data/t2i/test.jsonl',
    [
      { query: 'three green triangles', response: ['images/4.png', 'images/5.png'], label_rank: [1, 2] },
      { query: 'a yellow star', response: ['images/6.png', 'images/7.png'], label_rank: [2, 1] },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n') + '\n',
  );
  ws.write('data/t2i/prompts.txt', 'two red circles\nthree blue squares\n');
  ws.write(
    'experiments/base/judge.yaml',
    `judge:
  model: \${ARR_JUDGE_MODEL:-Qwen/Qwen3-VL-8B-Instruct}
  base_url: \${ARR_JUDGE_URL:-http://localhost:8000/v1}
  api_key: \${ARR_JUDGE_API_KEY:-EMPTY}
  concurrency: 8
rubric:
  per_pair: 5
verify:
  min_accuracy: 0.6
`,
  );
  ws.write(
    'experiments/exp-a.yaml',
    `task: t2i
extends: ./base/judge.yaml
rubric:
  seed: ../data/t2i/seed.jsonl
  task_description: Compare two images.
verify:
  test: ../data/t2i/test.jsonl
preprocess:
  prompts: ../data/t2i/prompts.txt
train:
  learning_rate: 5.0e-5
${extra}`,
  );
}
