import { execa } from 'execa';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeKeys } from '../../src/keys/compute.js';
import { loadExperiment } from '../../src/manifest/load.js';
import { writeStamp } from '../../src/state/stamps.js';
import { ArtifactStore } from '../../src/store/artifacts.js';
import { HashMemo } from '../../src/store/hash.js';
import { runResolve } from '../../src/targets/resolve.js';
import { describeState, experimentStatus, FAILING_STATES } from '../../src/targets/status.js';
import { makeWorkspace, writePng, repoRoot, writeT2iExperiment, type TestWorkspace } from '../helpers/workspace.js';

let ws: TestWorkspace;
beforeEach(async () => {
  ws = makeWorkspace();
  await writeT2iExperiment(ws);
});
afterEach(() => ws.cleanup());

/** Records a build of `target` the way a target does: an artifact under its key, and the experiment's stamp. */
async function recordBuild(target: 'preprocess' | 'rubric-generate') {
  const loaded = loadExperiment(ws.path('experiments/exp-a.yaml'), { workspaceRoot: ws.root });
  const keys = await computeKeys(loaded.experiment!, { workspaceRoot: ws.root, memo: new HashMemo(ws.path('cache')) });
  await new ArtifactStore(ws.path('cache'), { owner: 'exp-a' }).build(target, keys[target].inputs, async (dir) =>
    writeFileSync(join(dir, 'out.txt'), target),
  );
  await writeStamp(ws.root, { experiment: 'exp-a', target, key: keys[target].key, inputs: keys[target].inputs });
}

const stateOf = async () =>
  Object.fromEntries(
    (await experimentStatus({ experiment: 'exp-a', workspaceRoot: ws.root })).targets.map((t) => [t.target, t]),
  );
const edit = (from: string, to: string) =>
  writeFileSync(
    ws.path('experiments/exp-a.yaml'),
    readFileSync(ws.path('experiments/exp-a.yaml'), 'utf8').replace(from, to),
  );

describe('arr status', () => {
  it('starts with every target never built, and resolve fresh once built', async () => {
    expect(Object.values(await stateOf()).map((t) => t.state)).toEqual(Array(5).fill('never built'));
    await runResolve({ experiment: 'exp-a', workspaceRoot: ws.root });
    expect((await stateOf()).resolve.state).toBe('fresh');
  });

  it('editing train.learning_rate leaves everything upstream fresh and names the field', async () => {
    await runResolve({ experiment: 'exp-a', workspaceRoot: ws.root });
    await recordBuild('preprocess');
    await recordBuild('rubric-generate');
    edit('learning_rate: 5.0e-5', 'learning_rate: 1.0e-4');
    const s = await stateOf();
    expect(s.resolve).toMatchObject({ state: 'stale', changes: ['field train.learning_rate: 0.00005 → 0.0001'] });
    expect(s.preprocess.state).toBe('fresh');
    expect(s['rubric-generate'].state).toBe('fresh');
  });

  it('editing the task description or one seed image makes rubric-generate stale while preprocess stays fresh', async () => {
    await recordBuild('preprocess');
    await recordBuild('rubric-generate');
    edit('Compare two images.', 'Compare two renders.');
    let s = await stateOf();
    expect(s['rubric-generate']).toMatchObject({
      state: 'stale',
      changes: ['field rubric.task_description: "Compare two images." → "Compare two renders."'],
    });
    expect(s.preprocess.state).toBe('fresh');
    edit('Compare two renders.', 'Compare two images.');
    await writePng(ws.path('data/t2i/images/3.png'), 1234);
    s = await stateOf();
    expect(s['rubric-generate']).toMatchObject({
      state: 'stale',
      changes: ['file rubric.seed:images/3.png: content changed'],
    });
    expect(s.preprocess.state).toBe('fresh');
  });

  it('says who built a shared artifact: fresh (built by exp-a), with state and built_by in --json', async () => {
    await recordBuild('rubric-generate');
    ws.write(
      'experiments/exp-b.yaml',
      readFileSync(ws.path('experiments/exp-a.yaml'), 'utf8').replace('learning_rate: 5.0e-5', 'learning_rate: 3.0e-5'),
    );
    const b = await experimentStatus({ experiment: 'exp-b', workspaceRoot: ws.root });
    const rubric = b.targets.find((t) => t.target === 'rubric-generate')!;
    expect(rubric).toMatchObject({ state: 'fresh', built_by: 'exp-a' });
    expect(describeState(rubric, 'exp-b')).toBe('fresh (built by exp-a)');
    expect(describeState(rubric, 'exp-a')).toBe('fresh');
  });

  it('calls an artifact that its stamp says was built but is gone missing, and a tampered one corrupt, never fresh', async () => {
    await recordBuild('rubric-generate');
    const key = (await stateOf())['rubric-generate'].key;
    const dir = ws.path(`cache/artifacts/rubric-generate/${key}`);
    writeFileSync(join(dir, 'out.txt'), 'rubric-GENERATE'.slice(0, 15)); // same size, other bytes
    const corrupt = (await stateOf())['rubric-generate'];
    expect(corrupt.state).toBe('corrupt');
    expect(corrupt.changes[0]).toMatch(/^out\.txt: sha256 mismatch/);
    expect(existsSync(dir)).toBe(true); // status only looks
    rmSync(dir, { recursive: true });
    const missing = (await stateOf())['rubric-generate'];
    expect(missing.state).toBe('missing');
    expect(missing.changes[0]).toContain(
      'the artifact is gone from cache/artifacts; rebuild: npx nx run exp-a:rubric-generate',
    );
    expect(FAILING_STATES).toEqual(['stale', 'missing', 'corrupt']);
  });

  it('shares one rubric artifact between experiments with the same rubric slice', async () => {
    await recordBuild('rubric-generate');
    ws.write(
      'experiments/exp-b.yaml',
      readFileSync(ws.path('experiments/exp-a.yaml'), 'utf8').replace('learning_rate: 5.0e-5', 'learning_rate: 3.0e-5'),
    );
    const b = await experimentStatus({ experiment: 'exp-b', workspaceRoot: ws.root });
    expect(b.targets.find((t) => t.target === 'rubric-generate')?.state).toBe('fresh');
  });

  it('exits 0 whatever the state, and 1 with --check when something is stale', async () => {
    const arr = (args: string[]) =>
      execa('node', [join(repoRoot, 'bin/arr.mjs'), ...args], { cwd: ws.root, reject: false, env: { NO_COLOR: '1' } });
    await runResolve({ experiment: 'exp-a', workspaceRoot: ws.root });
    edit('learning_rate: 5.0e-5', 'learning_rate: 1.0e-4');
    const plain = await arr(['status', 'exp-a']);
    expect(plain.exitCode).toBe(0);
    expect(plain.stdout).toContain('field train.learning_rate: 0.00005 → 0.0001');
    expect((await arr(['status', 'exp-a', '--check'])).exitCode).toBe(1);
    const json = JSON.parse((await arr(['status', 'exp-a', '--json'])).stdout);
    expect(json.targets[0]).toMatchObject({ target: 'resolve', state: 'stale' });
  }, 30_000);
});

describe('arr validate and arr show', () => {
  const arr = (args: string[], env: Record<string, string> = {}) =>
    execa('node', [join(repoRoot, 'bin/arr.mjs'), ...args], {
      cwd: ws.root,
      reject: false,
      env: { NO_COLOR: '1', ...env },
    });

  it('validate exits 0 when all is valid and 1 listing every error otherwise', async () => {
    expect((await arr(['validate'])).exitCode).toBe(0);
    ws.write(
      'experiments/bad.yaml',
      'task: t2i\nrubric: { seed: ../data/t2i/seed.jsonl, max_epochs: 0 }\njudge: { concurrency: 0 }\n',
    );
    const bad = await arr(['validate']);
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toContain('experiments/bad.yaml:3:10 judge.concurrency: must be >= 1');
    expect(bad.stdout).toContain('experiments/bad.yaml:2:41 rubric.max_epochs: must be >= 1');
    const json = JSON.parse((await arr(['validate', '--json', 'bad'])).stdout);
    expect(json.ok).toBe(false);
    expect(json.files[0].diagnostics).toHaveLength(2);
  }, 30_000);

  it("two experiments freezing to the same rubric file: validate and either project's targets name both manifests", async () => {
    ws.write(
      'experiments/copy.yaml',
      readFileSync(ws.path('experiments/exp-a.yaml'), 'utf8') + 'freeze:\n  name: exp-a\n',
    );
    const validate = await arr(['validate']);
    expect(validate.exitCode).toBe(1);
    expect(validate.stdout).toContain(
      'experiments/copy.yaml:13:3 freeze.name: freeze writes rubrics/exp-a.v1.txt, and so does experiments/exp-a.yaml',
    );
    expect(validate.stdout).toContain(
      'experiments/exp-a.yaml freeze.name: freeze writes rubrics/exp-a.v1.txt, and so does experiments/copy.yaml',
    );
    for (const name of ['exp-a', 'copy']) {
      const build = await arr(['build', 'resolve', name]);
      expect(build.exitCode).toBe(1);
      expect(build.stderr).toContain(
        `freeze writes rubrics/exp-a.v1.txt, and so does experiments/${name === 'exp-a' ? 'copy' : 'exp-a'}.yaml`,
      );
    }
    ws.write(
      'experiments/copy.yaml',
      readFileSync(ws.path('experiments/exp-a.yaml'), 'utf8') + 'freeze:\n  name: exp-a\n  version: 2\n',
    );
    expect((await arr(['validate'])).exitCode).toBe(0);
  }, 60_000);

  it('show prints where each value came from and masks the api key', async () => {
    const shown = await arr(['show', 'exp-a', '--set', 'judge.concurrency=32'], {
      ARR_JUDGE_API_KEY: 'sk-hidden-1',
      ARR_JUDGE_MODEL: 'm/x',
    });
    expect(shown.exitCode).toBe(0);
    expect(shown.stdout).not.toContain('sk-hidden-1');
    expect(shown.stdout).toMatch(
      /judge\.api_key: "\$\{ARR_JUDGE_API_KEY\} \(set\)"\s+# experiments\/base\/judge\.yaml:4 via \$ARR_JUDGE_API_KEY/,
    );
    expect(shown.stdout).toMatch(/judge\.model: "m\/x"\s+# experiments\/base\/judge\.yaml:2 via \$ARR_JUDGE_MODEL/);
    expect(shown.stdout).toMatch(/judge\.concurrency: 32\s+# --set/);
    expect(shown.stdout).toMatch(/judge\.max_calls: null\s+# schema default/);
    expect(shown.stdout).toMatch(/freeze\.name: "exp-a"\s+# derived from the experiment name/);
    const json = JSON.parse((await arr(['show', 'exp-a', '--json'])).stdout);
    expect(json.sources['rubric.seed']).toBe('experiments/exp-a.yaml:4');
  }, 30_000);
});

describe('arr cache gc --unreferenced', () => {
  it('keeps artifacts an experiment last built and removes the ones nothing points at', async () => {
    await runResolve({ experiment: 'exp-a', workspaceRoot: ws.root });
    const old = (await import('node:fs')).readdirSync(ws.path('cache/artifacts/resolve'));
    edit('learning_rate: 5.0e-5', 'learning_rate: 1.0e-4');
    const current = await runResolve({ experiment: 'exp-a', workspaceRoot: ws.root });
    const gc = await execa('node', [join(repoRoot, 'bin/arr.mjs'), 'cache', 'gc', '--unreferenced', '--json'], {
      cwd: ws.root,
      env: { NO_COLOR: '1' },
    });
    const removed = JSON.parse(gc.stdout).removed.map((r: { name: string }) => r.name);
    expect(removed).toEqual(old);
    expect((await import('node:fs')).readdirSync(ws.path('cache/artifacts/resolve'))).toEqual([current.key]);
  }, 30_000);
});
