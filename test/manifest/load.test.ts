import { describe, expect } from 'vitest';
import { formatDiagnostic } from '../../src/diagnostics.js';
import { loadExperiment, type LoadedExperiment } from '../../src/manifest/load.js';
import { test } from '../helpers/fixtures.js';
import { makeWorkspace } from '../helpers/workspace.js';

type Load = (rel: string, env?: Record<string, string>) => LoadedExperiment;

// Every test gets a workspace holding data/seed.jsonl, and loaders bound to it.
const it = test.extend<{ load: Load; messages: (rel: string, env?: Record<string, string>) => string[] }>({
  load: async ({ ws }, use) => {
    ws.write('data/seed.jsonl', '{}\n');
    await use((rel, env = {}) => loadExperiment(ws.path(rel), { workspaceRoot: ws.root, env }));
  },
  messages: async ({ ws, load }, use) => {
    await use((rel, env = {}) => load(rel, env).diagnostics.map((d) => formatDiagnostic(d, ws.root)));
  },
});

describe('extends', () => {
  it('merges mappings key by key, replaces scalars and lists, and deletes keys set to null', ({ ws, load }) => {
    ws.write(
      'experiments/base/a.yaml',
      'judge: { model: m1, concurrency: 4, base_url: [http://a/v1, http://b/v1] }\ntrain: { learning_rate: 1.0e-5, seed: 7 }\n',
    );
    ws.write(
      'experiments/exp.yaml',
      'task: t2i\nextends: base/a.yaml\nrubric: { seed: ../data/seed.jsonl }\njudge: { concurrency: 16, base_url: [http://c/v1] }\ntrain: { learning_rate: null }\n',
    );
    const { experiment, ok } = load('experiments/exp.yaml');
    expect(ok).toBe(true);
    expect(experiment!.judge.model).toBe('m1');
    expect(experiment!.judge.concurrency).toBe(16);
    expect(experiment!.judge.base_url).toEqual(['http://c/v1']);
    expect(experiment!.train.learning_rate).toBeNull(); // deleted, then the schema default
    expect(experiment!.train.seed).toBe(7);
  });

  it('applies a list of bases left to right and accepts absolute paths', ({ ws, load }) => {
    ws.write('experiments/base/a.yaml', 'judge: { model: from-a, max_tokens: 100 }\n');
    const b = ws.write('elsewhere/b.yaml', 'judge: { model: from-b }\n');
    ws.write('experiments/exp.yaml', `task: t2i\nextends: [base/a.yaml, ${b}]\nrubric: { seed: ../data/seed.jsonl }\n`);
    const { experiment, chain } = load('experiments/exp.yaml');
    expect(experiment!.judge.model).toBe('from-b');
    expect(experiment!.judge.max_tokens).toBe(100);
    expect(chain).toHaveLength(3);
  });

  it('resolves inherited paths relative to the file that declares them', ({ ws, load }) => {
    ws.write('experiments/base/a.yaml', 'rubric: { seed: ../../data/seed.jsonl }\n');
    ws.write('experiments/exp.yaml', 'task: t2i\nextends: ./base/a.yaml\n');
    expect(load('experiments/exp.yaml').experiment!.rubric.seed).toBe('data/seed.jsonl');
  });

  it('reports a cycle at the extends entry that closes it', ({ ws, messages }) => {
    ws.write('experiments/a.yaml', 'task: t2i\nextends: ./b.yaml\n');
    ws.write('experiments/b.yaml', 'extends: ./a.yaml\n');
    const [message] = messages('experiments/a.yaml');
    expect(message).toMatch(/^experiments\/b\.yaml:1:1 extends: extends cycle: .*a\.yaml → .*b\.yaml → .*a\.yaml$/);
  });

  it('names a missing base', ({ ws, messages }) => {
    ws.write('experiments/a.yaml', 'task: t2i\nextends: ./nope.yaml\n');
    expect(messages('experiments/a.yaml')[0]).toMatch(
      /^experiments\/a\.yaml:2:1 extends: cannot read manifest: file not found: .*nope\.yaml$/,
    );
  });
});

describe('errors name file, line, column and field', () => {
  it('reports a range violation where the value is written', ({ ws, messages }) => {
    ws.write(
      'experiments/exp.yaml',
      'task: t2i\nrubric: { seed: ../data/seed.jsonl }\njudge:\n  model: m\n  concurrency: 0\n',
    );
    expect(messages('experiments/exp.yaml')).toEqual(['experiments/exp.yaml:5:3 judge.concurrency: must be >= 1']);
  });

  it('reports an error inherited from a base in the base', ({ ws, messages }) => {
    ws.write('experiments/base/a.yaml', 'judge:\n  temperature: hot\n');
    ws.write('experiments/exp.yaml', 'task: t2i\nextends: base/a.yaml\nrubric: { seed: ../data/seed.jsonl }\n');
    expect(messages('experiments/exp.yaml')).toEqual([
      'experiments/base/a.yaml:2:3 judge.temperature: must be a number',
    ]);
  });

  it('suggests the intended key for a typo, in the same section or another', ({ ws, messages }) => {
    ws.write(
      'experiments/exp.yaml',
      'task: t2i\nrubric: { seed: ../data/seed.jsonl, per_pairs: 3 }\ntask_descripton: x\n',
    );
    expect(messages('experiments/exp.yaml')).toEqual([
      'experiments/exp.yaml:3:1 task_descripton: unknown key (did you mean rubric.task_description?)',
      'experiments/exp.yaml:2:37 rubric.per_pairs: unknown key (did you mean rubric.per_pair?)',
    ]);
  });

  it('lists every error, not just the first', ({ ws, messages }) => {
    ws.write(
      'experiments/exp.yaml',
      'task: t3i\nrubric: { seed: ../data/seed.jsonl, mode: pairwize }\njudge: { max_tokens: 1.5 }\n',
    );
    expect(messages('experiments/exp.yaml')).toEqual([
      'experiments/exp.yaml:1:1 task: must be one of t2i, edit (did you mean t2i?)',
      'experiments/exp.yaml:3:10 judge.max_tokens: must be an integer',
      'experiments/exp.yaml:2:37 rubric.mode: must be one of pairwise, listwise, pointwise (did you mean pairwise?)',
    ]);
  });

  it('reports malformed YAML with its position', ({ ws, messages }) => {
    ws.write('experiments/exp.yaml', 'task: t2i\njudge: { model: [unclosed\n');
    const [message] = messages('experiments/exp.yaml');
    expect(message).toMatch(/^experiments\/exp\.yaml:\d+:\d+ invalid YAML: /);
  });

  it('requires a rubric source', ({ ws, messages }) => {
    ws.write('experiments/exp.yaml', 'task: edit\n');
    expect(messages('experiments/exp.yaml')[0]).toContain(
      'rubric: set rubric.seed (labelled pairs to generate a rubric from) or rubric.from',
    );
  });
});

describe('environment references', () => {
  it('reads a whole-value reference as a YAML scalar and substitutes inside strings', ({ ws, load }) => {
    ws.write(
      'experiments/exp.yaml',
      'task: t2i\nrubric: { seed: ../data/seed.jsonl }\njudge: { concurrency: "${CONC:-8}", model: "org/${MODEL}" }\n',
    );
    const { experiment, origins } = load('experiments/exp.yaml', { MODEL: 'qwen' });
    expect(experiment!.judge.concurrency).toBe(8);
    expect(experiment!.judge.model).toBe('org/qwen');
    expect(origins.get('judge.concurrency')?.env).toEqual([{ name: 'CONC', usedDefault: true }]);
  });

  it('fails on an unset variable with no default, naming it and the field', ({ ws, messages }) => {
    ws.write(
      'experiments/exp.yaml',
      'task: t2i\nrubric: { seed: ../data/seed.jsonl }\njudge:\n  model: ${JUDGE_MODEL}\n',
    );
    expect(messages('experiments/exp.yaml')).toEqual([
      'experiments/exp.yaml:4:3 judge.model: environment variable JUDGE_MODEL is not set and has no default (write ${JUDGE_MODEL:-value} to give one)',
    ]);
  });

  it('keeps $${VAR} as literal text', ({ ws, load }) => {
    ws.write(
      'experiments/exp.yaml',
      'task: t2i\nrubric: { seed: ../data/seed.jsonl, task_description: "cost $${X}" }\n',
    );
    expect(load('experiments/exp.yaml').experiment!.rubric.task_description).toBe('cost ${X}');
  });
});

describe('secrets', () => {
  it('refuses a literal api key without echoing it', ({ ws, messages }) => {
    ws.write(
      'experiments/exp.yaml',
      'task: t2i\nrubric: { seed: ../data/seed.jsonl }\njudge:\n  api_key: sk-live-abcdef\n',
    );
    const all = messages('experiments/exp.yaml').join('\n');
    expect(all).toContain('experiments/exp.yaml:4:3 judge.api_key: a literal secret is not allowed in a manifest');
    expect(all).not.toContain('sk-live-abcdef');
  });

  it('refuses a secret hidden in an env default or a URL', ({ ws, messages }) => {
    ws.write(
      'experiments/exp.yaml',
      'task: t2i\nrubric: { seed: ../data/seed.jsonl }\njudge:\n  api_key: ${KEY:-sk-oops}\n  base_url: https://user:pw@host/v1\n',
    );
    const all = messages('experiments/exp.yaml').join('\n');
    expect(all).toContain('judge.api_key: the default of ${KEY} must not be a secret');
    expect(all).toContain('judge.base_url: the URL holds a user name and password before the host');
    expect(all).not.toMatch(/sk-oops|user:pw/);
  });

  it('accepts an env reference and EMPTY', ({ ws, load }) => {
    ws.write(
      'experiments/exp.yaml',
      'task: t2i\nrubric: { seed: ../data/seed.jsonl }\njudge: { api_key: "${OPENAI_API_KEY}" }\n',
    );
    expect(load('experiments/exp.yaml', { OPENAI_API_KEY: 'sk-x' }).ok).toBe(true);
  });
});

describe('allowed roots', () => {
  it('refuses a data path outside the workspace unless its root is allowed', ({ ws, load, messages }) => {
    const outside = makeWorkspace();
    try {
      outside.write('seed.jsonl', '{}\n');
      ws.write('experiments/exp.yaml', `task: t2i\nrubric:\n  seed: ${outside.path('seed.jsonl')}\n`);
      expect(messages('experiments/exp.yaml')[0]).toMatch(
        /^experiments\/exp\.yaml:3:3 rubric\.seed: .*seed\.jsonl is outside the workspace .*; add its folder to data\.allowed_roots to use it$/,
      );
      ws.write(
        'experiments/exp.yaml',
        `task: t2i\ndata: { allowed_roots: [${outside.root}] }\nrubric:\n  seed: ${outside.path('seed.jsonl')}\n`,
      );
      expect(load('experiments/exp.yaml').ok).toBe(true);
    } finally {
      outside.cleanup();
    }
  });
});
