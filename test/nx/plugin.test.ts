// The plugin in-process: targets, dependencies and honest inputs per manifest.
import { describe, expect } from 'vitest';
import { createNodes } from '../../tasks/src/plugin.js';
import { test } from '../helpers/fixtures.js';
import { makeWorkspace } from '../helpers/workspace.js';

async function projectIn(workspaceRoot: string, file: string) {
  const [, fn] = createNodes;
  const results = await fn([file], {}, { workspaceRoot, nxJsonConfiguration: {} } as never);
  const [, result] = results[0];
  return Object.values(result.projects!)[0];
}

// `project(file)` runs createNodes on one manifest of the test's t2i workspace.
const it = test.extend<{ project: (file: string) => ReturnType<typeof projectIn> }>({
  project: async ({ t2iWs: ws }, use) => {
    await use((file) => projectIn(ws.root, file));
  },
});

describe('createNodes', () => {
  it('gives each target a description, dependencies from the manifest and no cache for training', async ({
    project,
  }) => {
    const p = await project('experiments/exp-a.yaml');
    expect(p.name).toBe('exp-a');
    expect(Object.keys(p.targets!)).toEqual([
      'resolve',
      'preprocess',
      'rubric-generate',
      'verify',
      'freeze',
      'train-flux',
      'train',
    ]);
    for (const t of Object.values(p.targets!)) expect(t.metadata?.description).toBeTruthy();
    expect(p.targets!.verify.dependsOn).toEqual(['rubric-generate']);
    expect(p.targets!['train-flux']).toMatchObject({ cache: false, dependsOn: ['freeze', 'preprocess'] });
    expect(p.targets!.train.dependsOn).toEqual(['train-flux']);
    expect(p.targets!.freeze.outputs).toContain('{workspaceRoot}/rubrics/exp-a.v1.txt');
  });

  it('drops preprocess from training when train.embeddings is given, and picks train-edit for edit', async ({
    t2iWs: ws,
    project,
  }) => {
    ws.write(
      'experiments/e.yaml',
      'task: edit\nrubric: { seed: ../data/t2i/seed.jsonl }\ntrain: { embeddings: ../data/meta.json }\n',
    );
    const p = await project('experiments/e.yaml');
    expect(p.targets!['train-edit'].dependsOn).toEqual(['freeze']);
    expect(p.targets!['train-flux']).toBeUndefined();
  });

  it('declares the datasets, their images and only the env variables each target’s slice reads', async ({
    project,
  }) => {
    const t = (await project('experiments/exp-a.yaml')).targets!;
    const envOf = (name: string) =>
      (t[name].inputs as unknown[])
        .filter((i): i is { env: string } => typeof i === 'object' && i !== null && 'env' in i)
        .map((i) => i.env);
    expect(t['rubric-generate'].inputs).toEqual(
      expect.arrayContaining([
        '{workspaceRoot}/data/t2i/seed.jsonl',
        '{workspaceRoot}/data/t2i/images/0.png',
        '{workspaceRoot}/experiments/base/judge.yaml',
      ]),
    );
    expect(t['rubric-generate'].inputs).not.toContain('{workspaceRoot}/data/t2i/test.jsonl');
    // The backend's variables are inputs of every judging target: they pick the model identity in the key.
    expect(envOf('rubric-generate')).toEqual(['ARR_JUDGE_BACKEND', 'ARR_JUDGE_MODEL', 'ARR_JUDGE_URL']);
    expect(envOf('verify')).toEqual(['ARR_JUDGE_BACKEND', 'ARR_JUDGE_MODEL', 'ARR_JUDGE_URL']);
    expect(envOf('resolve')).toEqual(['ARR_JUDGE_BACKEND', 'ARR_JUDGE_MODEL', 'ARR_JUDGE_URL']);
    expect(t.preprocess.cache).toBe(false);
    expect(envOf('preprocess')).toEqual([]);
    expect(t.verify.inputs).toContainEqual({ dependentTasksOutputFiles: '**/*', transitive: true });
  });

  it('hashes files outside the workspace through a runtime input', async ({ t2iWs: ws, project }) => {
    const outside = makeWorkspace();
    try {
      outside.write('seed.jsonl', '{"query":"q","response":["a.png","b.png"],"label_rank":[1,2]}\n');
      ws.write(
        'experiments/x.yaml',
        `task: t2i\ndata: { allowed_roots: [${outside.root}] }\nrubric: { seed: ${outside.path('seed.jsonl')} }\n`,
      );
      const inputs = (await project('experiments/x.yaml')).targets!['rubric-generate'].inputs as { runtime?: string }[];
      const runtime = inputs.find((i) => typeof i === 'object' && i.runtime)?.runtime;
      expect(runtime).toContain('bin/arr.mjs hash-files');
      expect(runtime).toContain(outside.path('seed.jsonl'));
      expect(runtime).toContain(outside.path('b.png'));
    } finally {
      outside.cleanup();
    }
  });

  it('still creates a project for a broken manifest, whose targets then fail with its errors', async ({
    t2iWs: ws,
    project,
  }) => {
    ws.write('experiments/bad.yaml', 'task: [t2i\n');
    const p = await project('experiments/bad.yaml');
    expect(p.tags).toContain('invalid');
    expect(p.targets!.resolve.executor).toBe('@arr/tasks:target');
    expect(p.targets!.resolve.options).toMatchObject({ target: 'resolve', manifest: 'experiments/bad.yaml' });
    expect(p.targets!.train.dependsOn).toEqual(['resolve']);
  });

  it('tags a manifest invalid while a file it extends is missing, even when it names its task, and re-plans once it appears', async ({
    t2iWs: ws,
    project,
  }) => {
    ws.write(
      'experiments/late.yaml',
      'task: t2i\nextends: ./base/later.yaml\nrubric: { seed: ../data/t2i/seed.jsonl }\n',
    );
    const before = await project('experiments/late.yaml');
    expect(before.tags).toEqual(expect.arrayContaining(['task:t2i', 'invalid']));
    expect(before.targets!.resolve.inputs).toContain('{workspaceRoot}/experiments/base/later.yaml');
    ws.write('experiments/base/later.yaml', 'judge: { concurrency: 2 }\n');
    expect((await project('experiments/late.yaml')).tags).not.toContain('invalid');
  });

  it('reuses a cached plan until a file it was computed from changes', async ({ t2iWs: ws, project }) => {
    const first = await project('experiments/exp-a.yaml');
    ws.write('data/t2i/seed.jsonl', '{"query":"q","response":["images/7.png","images/6.png"],"label_rank":[1,2]}\n');
    const second = await project('experiments/exp-a.yaml');
    expect(first.targets!['rubric-generate'].inputs).toContain('{workspaceRoot}/data/t2i/images/0.png');
    expect(second.targets!['rubric-generate'].inputs).not.toContain('{workspaceRoot}/data/t2i/images/0.png');
    expect(second.targets!['rubric-generate'].inputs).toContain('{workspaceRoot}/data/t2i/images/7.png');
  });
});

describe('the plugin’s plan cache', () => {
  it('drops plans made by other planner code, and reuses them otherwise', async ({ t2iWs: ws }) => {
    const { PlanCache } = await import('../../tasks/src/plan-cache.js');
    const file = ws.path('cache/graph/plans.json');
    const manifest = ws.path('experiments/exp-a.yaml');
    let computed = 0;
    const compute = () => {
      computed++;
      return {
        name: 'exp-a',
        task: 't2i' as const,
        chain: [],
        tried: [],
        targets: {},
        problems: [],
        dependencies: [manifest],
      };
    };
    const first = new PlanCache(file, 'code-1');
    first.get(manifest, compute);
    first.save();
    new PlanCache(file, 'code-1').get(manifest, compute);
    expect(computed).toBe(1);
    new PlanCache(file, 'code-2').get(manifest, compute);
    expect(computed).toBe(2);
  });
});
