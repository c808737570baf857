// `matrix:` in a manifest: its members' names, values and origins, and the located errors of a bad one.
import { describe, expect } from 'vitest';
import { listExperiments, loadExperiment, locateExperiment } from '../../src/manifest/load.js';
import { slugPart } from '../../src/manifest/matrix.js';
import { createNodes } from '../../tasks/src/plugin.js';
import { it } from '../helpers/fixtures.js';
import type { TestWorkspace } from '../helpers/workspace.js';

const SWEEP = `task: t2i
extends: ./base/judge.yaml
rubric:
  seed: ../data/t2i/seed.jsonl
verify:
  test: ../data/t2i/test.jsonl
freeze: { name: flux }
matrix:
  rubric.per_pair: [3, 5]
  train.learning_rate: [1.0e-5, 2.5E-4]
`;

const load = (ws: TestWorkspace, ref: string) => {
  const { file, member } = locateExperiment(ref, ws.root);
  return loadExperiment(file, { workspaceRoot: ws.root, member });
};

describe('matrix', () => {
  it('names members by their values as written and loads each with its values and their lines', ({ t2iWs: ws }) => {
    ws.write('experiments/sweep.yaml', SWEEP);
    expect(listExperiments(ws.root).map((e) => e.name)).toEqual([
      'exp-a',
      'sweep--3--1.0e-5',
      'sweep--3--2.5e-4',
      'sweep--5--1.0e-5',
      'sweep--5--2.5e-4',
    ]);
    const m = load(ws, 'sweep--5--1.0e-5');
    expect(m.ok, JSON.stringify(m.diagnostics)).toBe(true);
    expect(m.name).toBe('sweep--5--1.0e-5');
    expect(m.experiment!.rubric.per_pair).toBe(5);
    expect(m.experiment!.train.learning_rate).toBe(1e-5);
    expect(m.experiment!.freeze.name).toBe('flux--5--1.0e-5');
    expect((m.experiment as unknown as Record<string, unknown>).matrix).toBeUndefined();
    expect(m.origins.get('rubric.per_pair')).toMatchObject({
      kind: 'file',
      file: ws.path('experiments/sweep.yaml'),
      line: 9,
    });
  });

  it('slugs lower-case and replace runs outside [a-z0-9.]', () => {
    expect(slugPart('Qwen/Qwen3-VL 8B')).toBe('qwen-qwen3-vl-8b');
    expect(slugPart('1.0e-5')).toBe('1.0e-5');
  });

  it('refuses the bare manifest, an unknown member, a base matrix, an unknown field and a collision, each located', ({
    t2iWs: ws,
  }) => {
    ws.write('experiments/sweep.yaml', SWEEP);
    expect(load(ws, 'sweep').diagnostics[0]).toMatchObject({
      field: 'matrix',
      line: 8,
      message: expect.stringContaining('is a matrix of 4 experiment(s)'),
    });
    expect(load(ws, 'sweep--7--1.0e-5').diagnostics[0].message).toContain('has no member sweep--7--1.0e-5');

    ws.write('experiments/base/m.yaml', 'matrix:\n  rubric.per_pair: [1, 2]\n');
    ws.write('experiments/b.yaml', 'task: t2i\nextends: ./base/m.yaml\nrubric: { seed: ../data/t2i/seed.jsonl }\n');
    const b = load(ws, 'b').diagnostics[0];
    expect(b).toMatchObject({ file: ws.path('experiments/base/m.yaml'), line: 1 });
    expect(b.message).toContain('never from a base');

    ws.write(
      'experiments/u.yaml',
      'task: t2i\nrubric: { seed: ../data/t2i/seed.jsonl }\nmatrix:\n  rubric.per_pairs: [1, 2]\n',
    );
    expect(load(ws, 'u').diagnostics[0]).toMatchObject({
      line: 4,
      field: 'matrix.rubric.per_pairs',
      message: expect.stringContaining('did you mean rubric.per_pair?'),
    });

    ws.write(
      'experiments/c.yaml',
      'task: t2i\nrubric: { seed: ../data/t2i/seed.jsonl }\nmatrix:\n  judge.model: [A/B, a-b]\n',
    );
    expect(load(ws, 'c').diagnostics[0]).toMatchObject({
      line: 3,
      message: expect.stringContaining('same name c--a-b'),
    });

    ws.write(
      'experiments/v.yaml',
      'task: t2i\nrubric: { seed: ../data/t2i/seed.jsonl }\nmatrix:\n  rubric.per_pair: [3, 0]\n',
    );
    const bad = load(ws, 'v--0');
    expect(bad.ok).toBe(false);
    expect(bad.diagnostics[0]).toMatchObject({ field: 'rubric.per_pair', line: 4 });
    expect(load(ws, 'v--3').ok).toBe(true);
  });

  it('becomes one Nx project per member, each building itself and freezing under its own name', async ({
    t2iWs: ws,
  }) => {
    ws.write('experiments/sweep.yaml', SWEEP);
    const [, fn] = createNodes;
    const [[, result]] = await fn(['experiments/sweep.yaml'], {}, {
      workspaceRoot: ws.root,
      nxJsonConfiguration: {},
    } as never);
    const projects = Object.values(result.projects!);
    expect(projects.map((p) => p.name)).toEqual([
      'sweep--3--1.0e-5',
      'sweep--3--2.5e-4',
      'sweep--5--1.0e-5',
      'sweep--5--2.5e-4',
    ]);
    const p = projects[1];
    expect(p.targets!.verify.options).toEqual({
      target: 'verify',
      manifest: 'experiments/sweep.yaml',
      experiment: 'sweep--3--2.5e-4',
    });
    expect(p.targets!.freeze.outputs).toContain('{workspaceRoot}/rubrics/flux--3--2.5e-4.v1.txt');
    expect(p.targets!.verify.outputs).toEqual(['{workspaceRoot}/cache/experiments/sweep--3--2.5e-4/verify']);
  });

  it('gives a bad matrix one project under the manifest’s name, described by its located error', async ({
    t2iWs: ws,
  }) => {
    ws.write(
      'experiments/c.yaml',
      'task: t2i\nrubric: { seed: ../data/t2i/seed.jsonl }\nmatrix:\n  judge.model: [A/B, a-b]\n',
    );
    const [, fn] = createNodes;
    const [[, result]] = await fn(['experiments/c.yaml'], {}, {
      workspaceRoot: ws.root,
      nxJsonConfiguration: {},
    } as never);
    const projects = Object.values(result.projects!);
    expect(projects.map((p) => p.name)).toEqual(['c']);
    expect(projects[0].metadata?.description).toMatch(
      /^invalid manifest: experiments\/c\.yaml:3:1 matrix: two combinations get the same name c--a-b/,
    );
  });
});
