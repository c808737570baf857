// The invalidation contract (docs/caching.md, "What goes into each key"), table-driven: for each manifest field group and input
// file, exactly which targets' keys change.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeKeys, type ExperimentKeys } from '../../src/keys/compute.js';
import { CACHED_TARGETS, type CachedTarget } from '../../src/keys/slices.js';
import { loadExperiment } from '../../src/manifest/load.js';
import { HashMemo } from '../../src/store/hash.js';
import { makeWorkspace, writePng, writeT2iExperiment, type TestWorkspace } from '../helpers/workspace.js';

let ws: TestWorkspace;
beforeEach(async () => {
  ws = makeWorkspace();
  await writeT2iExperiment(ws);
});
afterEach(() => ws.cleanup());

async function keysOf(env: Record<string, string> = {}, file = 'experiments/exp-a.yaml'): Promise<ExperimentKeys> {
  const loaded = loadExperiment(ws.path(file), { workspaceRoot: ws.root, env });
  expect(loaded.diagnostics, JSON.stringify(loaded.diagnostics)).toEqual([]);
  // A fresh memo each time: this table is about contents, not the memo.
  return computeKeys(loaded.experiment!, {
    workspaceRoot: ws.root,
    memo: new HashMemo(ws.path(`cache/memo-${Math.random()}`)),
  });
}

function changed(before: ExperimentKeys, after: ExperimentKeys): CachedTarget[] {
  return CACHED_TARGETS.filter((t) => before[t].key !== after[t].key);
}

const editManifest = (from: string, to: string) => () => {
  const file = ws.path('experiments/exp-a.yaml');
  const text = readFileSync(file, 'utf8');
  if (!text.includes(from)) throw new Error(`fixture has no ${from}`);
  writeFileSync(file, text.replace(from, to));
};
const appendManifest = (yaml: string) => () =>
  writeFileSync(ws.path('experiments/exp-a.yaml'), readFileSync(ws.path('experiments/exp-a.yaml'), 'utf8') + yaml);

const downstreamOfRubric: CachedTarget[] = ['resolve', 'rubric-generate', 'verify', 'freeze'];

const matrix: {
  change: string;
  apply: () => void | Promise<void>;
  env?: Record<string, string>;
  targets: CachedTarget[];
}[] = [
  {
    change: 'train.learning_rate',
    apply: editManifest('learning_rate: 5.0e-5', 'learning_rate: 1.0e-4'),
    targets: ['resolve'],
  },
  { change: 'train.lora (new section)', apply: appendManifest('  lora: { rank: 8 }\n'), targets: ['resolve'] },
  {
    change: 'rubric.task_description',
    apply: editManifest('Compare two images.', 'Compare two renders.'),
    targets: downstreamOfRubric,
  },
  {
    change: 'rubric.per_pair (in the base)',
    apply: () =>
      writeFileSync(
        ws.path('experiments/base/judge.yaml'),
        readFileSync(ws.path('experiments/base/judge.yaml'), 'utf8').replace('per_pair: 5', 'per_pair: 3'),
      ),
    targets: downstreamOfRubric,
  },
  {
    change: 'rubric.categorize.max_categories',
    apply: editManifest('  task_description:', '  categorize: { max_categories: 3 }\n  task_description:'),
    targets: downstreamOfRubric,
  },
  {
    change: 'rubric.mode',
    apply: editManifest('  task_description:', '  mode: listwise\n  task_description:'),
    targets: downstreamOfRubric,
  },
  { change: 'judge.model via env', apply: () => {}, env: { ARR_JUDGE_MODEL: 'gpt-4.1' }, targets: downstreamOfRubric },
  { change: 'judge.temperature', apply: appendManifest('judge: { temperature: 0.7 }\n'), targets: downstreamOfRubric },
  {
    change: 'judge.image_max_side',
    apply: appendManifest('judge: { image_max_side: 512 }\n'),
    targets: downstreamOfRubric,
  },
  {
    change: 'judge.base_url via env',
    apply: () => {},
    env: { ARR_JUDGE_URL: 'http://10.0.0.1:9000/v1' },
    targets: ['resolve'],
  },
  { change: 'judge.api_key via env', apply: () => {}, env: { ARR_JUDGE_API_KEY: 'sk-test-value' }, targets: [] },
  { change: 'judge.concurrency', apply: appendManifest('judge: { concurrency: 64 }\n'), targets: ['resolve'] },
  {
    change: 'judge.timeout_s and retries',
    apply: appendManifest('judge: { timeout_s: 30, retries: 1 }\n'),
    targets: ['resolve'],
  },
  {
    change: 'verify.min_accuracy',
    apply: () =>
      writeFileSync(
        ws.path('experiments/base/judge.yaml'),
        readFileSync(ws.path('experiments/base/judge.yaml'), 'utf8').replace('min_accuracy: 0.6', 'min_accuracy: 0.8'),
      ),
    targets: ['resolve'],
  },
  {
    change: 'verify.max_failures',
    apply: editManifest('  test: ../data/t2i/test.jsonl', '  test: ../data/t2i/test.jsonl\n  max_failures: 3'),
    targets: ['resolve'],
  },
  {
    change: 'rubric.max_failures (in the base)',
    apply: () =>
      writeFileSync(
        ws.path('experiments/base/judge.yaml'),
        readFileSync(ws.path('experiments/base/judge.yaml'), 'utf8').replace(
          'per_pair: 5',
          'per_pair: 5\n  max_failures: 2',
        ),
      ),
    targets: ['resolve'],
  },
  {
    change: 'verify.both_orders',
    apply: editManifest('  test: ../data/t2i/test.jsonl', '  test: ../data/t2i/test.jsonl\n  both_orders: false'),
    targets: ['resolve', 'verify', 'freeze'],
  },
  {
    change: 'verify.baseline',
    apply: editManifest('  test: ../data/t2i/test.jsonl', '  test: ../data/t2i/test.jsonl\n  baseline: false'),
    targets: ['resolve', 'verify', 'freeze'],
  },
  { change: 'freeze.version', apply: appendManifest('freeze: { version: 2 }\n'), targets: ['resolve', 'freeze'] },
  {
    change: 'preprocess.format',
    apply: editManifest(
      '  prompts: ../data/t2i/prompts.txt',
      '  prompts: ../data/t2i/prompts.txt\n  format: safetensors',
    ),
    targets: ['resolve', 'preprocess'],
  },
  {
    change: 'prompt list contents',
    apply: () => writeFileSync(ws.path('data/t2i/prompts.txt'), 'one purple circle\n'),
    targets: ['resolve', 'preprocess'],
  },
  {
    change: 'one seed image',
    apply: () => writePng(ws.path('data/t2i/images/2.png'), 42),
    targets: downstreamOfRubric,
  },
  {
    change: 'seed dataset labels',
    apply: () =>
      writeFileSync(
        ws.path('data/t2i/seed.jsonl'),
        readFileSync(ws.path('data/t2i/seed.jsonl'), 'utf8').replace('[2,1]', '[1,2]'),
      ),
    targets: downstreamOfRubric,
  },
  {
    change: 'one test image',
    apply: () => writePng(ws.path('data/t2i/images/6.png'), 42),
    targets: ['resolve', 'verify', 'freeze'],
  },
  { change: 'a comment in the manifest', apply: appendManifest('# a note\n'), targets: [] },
  { change: 'an unrelated file', apply: () => writePng(ws.path('data/t2i/images/unused.png'), 5), targets: [] },
];

describe('invalidation matrix', () => {
  for (const row of matrix) {
    it(`${row.change} changes the keys of ${row.targets.join(', ') || 'no target'}`, async () => {
      const before = await keysOf();
      await row.apply();
      const after = await keysOf(row.env);
      expect(changed(before, after)).toEqual(row.targets);
    });
  }
});

describe('shared artifacts', () => {
  it('two experiments with identical rubric slices share the rubric-generate key but not the resolve key', async () => {
    ws.write(
      'experiments/exp-b.yaml',
      readFileSync(ws.path('experiments/exp-a.yaml'), 'utf8').replace(
        'learning_rate: 5.0e-5',
        'learning_rate: 2.0e-5\n  max_train_steps: 50',
      ),
    );
    const a = await keysOf();
    const b = await keysOf({}, 'experiments/exp-b.yaml');
    expect(b['rubric-generate'].key).toBe(a['rubric-generate'].key);
    expect(b.verify.key).toBe(a.verify.key);
    expect(b.preprocess.key).toBe(a.preprocess.key);
    expect(b.resolve.key).not.toBe(a.resolve.key);
    // freeze.name defaults to the experiment name, so each experiment freezes its own file.
    expect(b.freeze.key).not.toBe(a.freeze.key);
  });

  it('keys hold file contents, not where the workspace lives', async () => {
    const first = await keysOf();
    const other = makeWorkspace();
    try {
      const saved = ws;
      ws = other;
      await writeT2iExperiment(other);
      const second = await keysOf();
      ws = saved;
      expect(CACHED_TARGETS.map((t) => second[t].key)).toEqual(CACHED_TARGETS.map((t) => first[t].key));
    } finally {
      other.cleanup();
    }
  });

  it('never puts the api key value in any key input', async () => {
    const keys = await keysOf({ ARR_JUDGE_API_KEY: 'sk-very-secret-123' });
    expect(JSON.stringify(keys)).not.toContain('sk-very-secret-123');
  });
});

describe('an ONNX selection embedder', () => {
  it('makes the preprocess models part of the rubric-generate key', async () => {
    writeFileSync(
      ws.path('experiments/exp-a.yaml'),
      readFileSync(ws.path('experiments/exp-a.yaml'), 'utf8')
        .replace('rubric:\n', 'rubric:\n  select: { embedder: onnx }\n')
        .replace('preprocess:\n', 'preprocess:\n  models: ../models\n'),
    );
    ws.write('models/text/model.onnx', 'weights v1');
    const before = await keysOf();
    ws.write('models/text/model.onnx', 'weights v2');
    expect(changed(before, await keysOf())).toEqual(['preprocess', 'rubric-generate', 'verify', 'freeze']);
  });
});
