// The workspace the rubric pipeline tests share (pipeline.test.ts, pipeline.e2e.test.ts): grey image pairs
// a brightness-minded simulated judge can rank.
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import type { TestWorkspace } from '../helpers/workspace.js';

async function grey(ws: TestWorkspace, rel: string, level: number) {
  await sharp({ create: { width: 48, height: 48, channels: 3, background: { r: level, g: level, b: level } } })
    .png()
    .toFile(ws.path(rel));
}

/** Pairs whose brighter image is preferred; `brightFirst` says where it is shown (default: every other record). */
async function pairs(
  ws: TestWorkspace,
  file: string,
  queries: string[],
  offset: number,
  brightFirst = (i: number) => i % 2 === 0,
) {
  const lines: string[] = [];
  for (const [i, query] of queries.entries()) {
    const bright = `img/${offset + i}b.png`;
    const dark = `img/${offset + i}d.png`;
    await grey(ws, `data/${bright}`, 180 + (i % 40));
    await grey(ws, `data/${dark}`, 40 + (i % 40));
    const first = brightFirst(i);
    lines.push(
      JSON.stringify({ query, response: first ? [bright, dark] : [dark, bright], label_rank: first ? [1, 2] : [2, 1] }),
    );
  }
  ws.write(file, lines.join('\n') + '\n');
}

/**
 * Writes the experiment `exp` (judge at ${SIM_URL}) with 6 seed pairs and 10 test pairs whose brighter
 * image is right, except one test label: a brightness rubric gets 9 of 10.
 */
export async function writePipelineWorkspace(ws: TestWorkspace, extra = ''): Promise<void> {
  ws.write('data/img/.keep', '');
  // Seeds other than the first show the darker (wrong) image first, so the judge's position bias fails them
  // until their criteria mention brightness.
  await pairs(
    ws,
    'data/seed.jsonl',
    ['EASY one', 'EASY two', 'plain three', 'plain four', 'HARD five', 'HARD six'],
    0,
    (i) => i === 0,
  );
  await pairs(
    ws,
    'data/test.jsonl',
    Array.from({ length: 10 }, (_, i) => `test ${i}`),
    100,
  );
  // One held-out label prefers the darker image: a brightness rubric gets 9 of 10 right.
  const test = readFileSync(ws.path('data/test.jsonl'), 'utf8').trim().split('\n');
  test[9] = test[9].replace('"label_rank":[2,1]', '"label_rank":[1,2]');
  ws.write('data/test.jsonl', test.join('\n') + '\n');
  ws.write(
    'experiments/exp.yaml',
    `task: t2i
judge: { base_url: "\${SIM_URL}", concurrency: 4, max_tokens: 256 }
rubric:
  seed: ../data/seed.jsonl
  task_description: Compare two renders.
  per_pair: 3
  max_epochs: 2
  categorize: { max_categories: 2 }
verify: { test: ../data/test.jsonl, min_accuracy: 0.9 }
freeze: { name: bright, version: 1 }
${extra}`,
  );
}
