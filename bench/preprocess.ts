// Issue #5 figures (run: npx tsx bench/preprocess.ts):
//  1. peak memory of the preprocess target stays flat when the prompt count grows tenfold;
//  2. entry writing rate (safetensors) of a real preprocess run, target ≥ 500 MB/s for the writes;
//  3. the runner's overhead over a bare session.run loop (bench/encoder.ts, run as a child).
// Each preprocess run is a fresh child process in its own temporary workspace, so maxRSS is its own.
import { execa } from 'execa';
import { cpSync, mkdirSync, mkdtempSync, rmSync, statfsSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPreprocessTarget } from '../src/targets/preprocess.js';
import { makeTextEncoder } from '../test/helpers/onnx-models.js';

const SEQ = 64;
const DIM = 512;
const WORDS = Array.from({ length: 200 }, (_, i) => `w${i}`);

if (process.argv[2] === '--child') {
  const [ws, experiment] = process.argv.slice(3);
  const started = performance.now();
  const summary = await runPreprocessTarget({ experiment, workspaceRoot: ws }, { log: () => {} });
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ summary, seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
  process.exit(0);
}

function workspace(prompts: number): string {
  const root = mkdtempSync(join(tmpdir(), 'arr-bench-pre-'));
  const repo = join(import.meta.dirname, '..');
  for (const file of ['nx.json', 'package.json']) cpSync(join(repo, file), join(root, file));
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
  mkdirSync(join(root, 'models/text'), { recursive: true });
  mkdirSync(join(root, 'experiments'), { recursive: true });
  mkdirSync(join(root, 'data'), { recursive: true });
  const model = makeTextEncoder({ vocab: WORDS.length + 4, dim: DIM, seqLen: SEQ, withMask: true });
  writeFileSync(join(root, 'models/text/model.onnx'), model.bytes);
  const vocab = Object.fromEntries(['[PAD]', '[UNK]', '[CLS]', '[SEP]', ...WORDS].map((w, i) => [w, i]));
  writeFileSync(
    join(root, 'models/text/tokenizer.json'),
    JSON.stringify({
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [],
      normalizer: null,
      pre_tokenizer: { type: 'Whitespace' },
      post_processor: null,
      decoder: null,
      model: { type: 'WordLevel', vocab, unk_token: '[UNK]' },
    }),
  );
  const lines = Array.from({ length: prompts }, (_, i) =>
    Array.from({ length: 8 + (i % 20) }, (_, k) => WORDS[(i * 7 + k * 13) % WORDS.length]).join(' '),
  );
  writeFileSync(join(root, 'data/prompts.txt'), lines.join('\n') + '\n');
  writeFileSync(join(root, 'data/rubric.txt'), '1. Prefer the image that follows the prompt.\n');
  const spec = {
    name: 'bench-text',
    model: 'text/model.onnx',
    tokenizer: { file: 'text/tokenizer.json', max_length: SEQ },
    inputs: [
      { name: 'input_ids', source: 'input_ids', dtype: 'int64' },
      { name: 'attention_mask', source: 'attention_mask', dtype: 'int64' },
    ],
    outputs: [
      { name: 'last_hidden_state', save_as: 'prompt_embed', dtype: 'bfloat16' },
      { name: 'pooler_output', save_as: 'pooled_prompt_embeds', dtype: 'bfloat16' },
    ],
  };
  writeFileSync(
    join(root, 'experiments/bench.yaml'),
    `task: t2i\nrubric: { from: ../data/rubric.txt }\npreprocess:\n  prompts: ../data/prompts.txt\n  models: ../models\n  batch_size: 32\n  encoders: ${JSON.stringify([spec])}\n`,
  );
  return root;
}

if (process.env.PROFILE_PROMPTS) {
  // Profile one run: PROFILE_PROMPTS=1000 npx tsx bench/preprocess.ts (writes a .cpuprofile here).
  const root = workspace(Number(process.env.PROFILE_PROMPTS));
  await execa(
    'node',
    [
      '--cpu-prof',
      `--cpu-prof-dir=${process.cwd()}`,
      '--import',
      'tsx',
      join(import.meta.dirname, 'preprocess.ts'),
      '--child',
      root,
      'bench',
    ],
    { cwd: root, stdio: 'inherit' },
  );
  rmSync(root, { recursive: true, force: true });
  process.exit(0);
}

const entryBytes = SEQ * DIM * 2 + DIM * 2;
const sizes = [500, 5000];
const needed = sizes[1] * entryBytes * 1.2;
const free = statfsSync(tmpdir()).bavail * statfsSync(tmpdir()).bsize;
if (free < needed * 2)
  throw new Error(`needs ${(needed / 1e9).toFixed(1)} GB free in ${tmpdir()}, has ${(free / 1e9).toFixed(1)}`);

const results: { prompts: number; maxRssMb: number; seconds: number }[] = [];
for (const prompts of sizes) {
  const root = workspace(prompts);
  try {
    const run = await execa(
      'node',
      ['--import', 'tsx', join(import.meta.dirname, 'preprocess.ts'), '--child', root, 'bench'],
      { cwd: root },
    );
    const r = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    results.push({ prompts, maxRssMb: r.maxRssMb, seconds: r.seconds });
    const mb = (prompts * entryBytes) / 1e6;
    console.log(
      `${prompts} prompts: ${r.seconds.toFixed(2)} s end to end (${(prompts / r.seconds).toFixed(0)} prompts/s, ${(mb / r.seconds).toFixed(0)} MB/s of embeddings), peak RSS ${r.maxRssMb.toFixed(0)} MB`,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
const growth = results[1].maxRssMb / results[0].maxRssMb;
console.log(
  `peak memory ×${growth.toFixed(2)} for ×10 prompts (target: flat, ≤ 1.25) ${growth <= 1.25 ? 'PASS' : 'FAIL'}`,
);

const writes = await execa('node', ['--import', 'tsx', join(import.meta.dirname, 'tensors.ts')], { reject: false });
console.log(
  writes.stdout
    .split('\n')
    .filter((l) => /safetensors write/.test(l))
    .join('\n'),
);
const encoder = await execa('node', ['--import', 'tsx', join(import.meta.dirname, 'encoder.ts'), '--rounds', '3'], {
  reject: false,
});
console.log(
  encoder.stdout
    .split('\n')
    .filter((l) => /target|overhead|ratio/i.test(l))
    .join('\n'),
);
