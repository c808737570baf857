// `arr rubric check`: the CI gate for frozen rubrics (text vs lock, lock schema, metrics vs thresholds,
// text format) and for experiments that reuse a rubric through rubric.from.
import { execa } from 'execa';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkRubrics } from '../../src/rubric/check.js';
import { writeImportedLock } from '../../src/rubric/locked.js';
import { freezeRubric } from '../../src/rubric/freeze.js';
import { sha256Hex } from '../../src/store/canonical-json.js';
import { makeWorkspace, repoRoot, type TestWorkspace } from '../helpers/workspace.js';
import { TEXT, lockInput } from './fixtures.js';

let ws: TestWorkspace;
beforeEach(async () => {
  ws = makeWorkspace();
  const seed = ws.write(
    'data/seed.jsonl',
    '{"query": "two cats", "response": ["a.png", "b.png"], "label_rank": [1, 2]}\n',
  );
  const datasets = { seed: { path: 'data/seed.jsonl', sha256: sha256Hex(readFileSync(seed)) }, test: null };
  await freezeRubric(ws.root, { name: 'flux-t2i-general', version: 1, text: TEXT, lock: { ...lockInput(), datasets } });
  ws.write('experiments/reuse.yaml', 'task: t2i\nrubric:\n  from: ../rubrics/flux-t2i-general.v1.txt\n');
});
afterEach(() => ws.cleanup());

const arr = (args: string[]) =>
  execa('node', [join(repoRoot, 'bin/arr.mjs'), ...args], { cwd: ws.root, reject: false, env: { NO_COLOR: '1' } });
const editLock = (f: (lock: any) => void) => {
  const file = ws.path('rubrics/flux-t2i-general.v1.lock.json');
  const lock = JSON.parse(readFileSync(file, 'utf8'));
  f(lock);
  writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
};

describe('arr rubric check', () => {
  it('passes a frozen rubric and an experiment reusing it (exit 0)', async () => {
    const run = await arr(['rubric', 'check']);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('✓ rubrics/flux-t2i-general.v1.txt (accuracy 0.750, gain +0.100, agreement 0.900)');
    expect(run.stdout).toContain('✓ experiments/reuse.yaml rubric.from rubrics/flux-t2i-general.v1.txt');
    expect(run.stdout).toContain('all valid: 1 rubric(s), 1 experiment(s) reusing one');
  }, 30_000);

  it('catches a frozen file edited after freezing, naming both sha256s', async () => {
    const edited = TEXT.replace('Count the objects.', 'Count the objects carefully.');
    writeFileSync(ws.path('rubrics/flux-t2i-general.v1.txt'), edited);
    const run = await arr(['rubric', 'check']);
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain(
      `rubrics/flux-t2i-general.v1.txt: sha256 ${sha256Hex(edited).slice(0, 12)}… does not match its lock (expected ${sha256Hex(TEXT).slice(0, 12)}…): the frozen file was edited; freeze a new version instead`,
    );
    // The experiment that reuses it fails too, pointing at its rubric.from line.
    expect(run.stdout).toContain(
      'experiments/reuse.yaml:3:3 rubric.from: rubrics/flux-t2i-general.v1.txt is not a valid frozen rubric: sha256',
    );
  }, 30_000);

  it('catches a rubric without its lock', async () => {
    ws.write('rubrics/handmade.v1.txt', '1. Prefer sharp images.\n');
    const run = await arr(['rubric', 'check']);
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain(
      'rubrics/handmade.v1.txt: has no lock beside it (expected rubrics/handmade.v1.lock.json)',
    );
  }, 30_000);

  it('catches a lock whose metrics miss its thresholds, at the metric line', async () => {
    editLock((lock) => {
      lock.metrics.accuracy = 0.55;
      lock.metrics.agreement = 0.7;
      lock.metrics.gain = -0.1;
    });
    const run = await arr(['rubric', 'check']);
    expect(run.exitCode).toBe(1);
    const lockLines = readFileSync(ws.path('rubrics/flux-t2i-general.v1.lock.json'), 'utf8').split('\n');
    const line = (key: string) => lockLines.findIndex((l) => l.includes(`"${key}"`)) + 1;
    expect(run.stdout).toContain(
      `rubrics/flux-t2i-general.v1.lock.json:${line('accuracy')}:5 metrics.accuracy: 0.55 is below the lock's thresholds.min_accuracy 0.6`,
    );
    expect(run.stdout).toContain(`metrics.agreement: 0.7 is below the lock's thresholds.min_agreement 0.8`);
    expect(run.stdout).toContain(`metrics.gain: -0.1 is below the lock's thresholds.min_gain 0.1`);
  }, 30_000);

  it('skips the agreement and gain thresholds when they were not measured', () => {
    editLock((lock) => {
      lock.metrics.agreement = null;
      lock.metrics.gain = null;
      lock.metrics.baseline_accuracy = null;
    });
    expect(checkRubrics(ws.root).ok).toBe(true);
  });

  it('catches an invalid lock, a lock for another version and a text that breaks its format', () => {
    editLock((lock) => {
      lock.version = 2;
      lock.rubric_sha256 = 'nope';
    });
    let report = checkRubrics(ws.root);
    expect(report.rubrics[0].diagnostics).toContainEqual(
      expect.objectContaining({
        field: 'rubric_sha256',
        message: 'must be a sha256 (64 lowercase hex characters)',
        line: expect.any(Number),
      }),
    );
    editLock((lock) => {
      lock.rubric_sha256 = sha256Hex(TEXT);
    });
    report = checkRubrics(ws.root);
    expect(report.rubrics[0].diagnostics).toEqual([
      expect.objectContaining({
        field: 'version',
        message: 'is 2 but the file is flux-t2i-general.v1.txt (expected 1)',
      }),
    ]);

    const broken = 'Rubric 1:\nTheme: A\n- Tip1: a\n\nRubric 2:\n- Tip1: b\n';
    ws.write('rubrics/broken.v1.txt', broken);
    writeFileSync(
      ws.path('rubrics/broken.v1.lock.json'),
      JSON.stringify({
        ...JSON.parse(readFileSync(ws.path('rubrics/flux-t2i-general.v1.lock.json'), 'utf8')),
        name: 'broken',
        version: 1,
        rubric_sha256: sha256Hex(broken),
      }),
    );
    report = checkRubrics(ws.root);
    const brokenCheck = report.rubrics.find((r) => r.file.endsWith('broken.v1.txt'))!;
    expect(brokenCheck.diagnostics).toEqual([
      expect.objectContaining({ line: 5, message: expect.stringContaining('Rubric 2 has no "Theme:" line') }),
    ]);
  });

  it('warns (without failing) when a dataset behind the rubric changed since freezing', async () => {
    ws.write('data/seed.jsonl', '{"query": "three cats", "response": ["a.png", "b.png"], "label_rank": [1, 2]}\n');
    const run = await arr(['rubric', 'check']);
    expect(run.exitCode, run.stdout).toBe(0);
    expect(run.stdout).toMatch(
      /rubrics\/flux-t2i-general\.v1\.lock\.json:\d+:\d+ warning: datasets\.seed: data\/seed\.jsonl changed since freezing/,
    );
  }, 30_000);

  it('catches an experiment whose rubric.from is missing, and lists the versions that exist', async () => {
    ws.write('experiments/stale.yaml', 'task: t2i\nrubric:\n  from: ../rubrics/flux-t2i-general.v2.txt\n');
    ws.write('experiments/gone.yaml', 'task: t2i\nrubric:\n  from: ../my-rubrics/gone.txt\n');
    const run = await arr(['rubric', 'check']);
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain(
      'experiments/stale.yaml:3:3 rubric.from: rubrics/flux-t2i-general.v2.txt does not exist (frozen versions of flux-t2i-general: v1)',
    );
    expect(run.stdout).toContain('experiments/gone.yaml:3:3 rubric.from: my-rubrics/gone.txt does not exist');
  }, 30_000);

  it('takes an imported rubric as any text, vouched for by its imported lock; no lock needs rubric.allow_unlocked', async () => {
    // Free text the reference accepts: a list item with a blank line inside, numbering with a gap.
    ws.write('rubrics/imported/mine.txt', '1. a\n\n   more about a\n\n3. c\n');
    ws.write('experiments/mine.yaml', 'task: t2i\nrubric:\n  from: ../rubrics/imported/mine.txt\n');
    const mine = () => checkRubrics(ws.root).experiments.find((e) => e.name === 'mine')!;
    expect(mine().diagnostics).toEqual([
      expect.objectContaining({
        field: 'rubric.from',
        message: expect.stringContaining('has no lock (expected rubrics/imported/mine.lock.json)'),
      }),
    ]);
    ws.write(
      'experiments/mine.yaml',
      'task: t2i\nrubric:\n  from: ../rubrics/imported/mine.txt\n  allow_unlocked: true\n',
    );
    expect(mine().ok).toBe(true);
    ws.write('experiments/mine.yaml', 'task: t2i\nrubric:\n  from: ../rubrics/imported/mine.txt\n');
    await writeImportedLock(ws.path('rubrics/imported/mine.txt'), {
      name: 'mine',
      importedFrom: '/elsewhere/rubrics.txt',
    });
    expect(mine()).toMatchObject({ ok: true, diagnostics: [] });
    ws.write('rubrics/imported/mine.txt', '1. a changed\n');
    expect(mine().diagnostics).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(
          /does not match its lock rubrics\/imported\/mine\.lock\.json .*the text changed after it was locked/,
        ),
      }),
    ]);
    rmSync(ws.path('rubrics/imported/mine.lock.json'));
    rmSync(ws.path('experiments/mine.yaml'));
  });

  it('checks experiments whose API key variable is unset (CI has no secrets)', () => {
    ws.write(
      'experiments/hosted.yaml',
      'task: t2i\njudge:\n  api_key: ${SOME_UNSET_KEY_FOR_TEST}\nrubric:\n  from: ../rubrics/nope.v1.txt\n',
    );
    const report = checkRubrics(ws.root, { env: {} });
    expect(report.experiments.find((e) => e.name === 'hosted')!.diagnostics).toEqual([
      expect.objectContaining({ field: 'rubric.from', message: 'rubrics/nope.v1.txt does not exist' }),
    ]);
  });

  it('checks only the files given, and prints JSON with --json', async () => {
    ws.write('rubrics/handmade.v1.txt', '1. x\n');
    const one = await arr(['rubric', 'check', 'rubrics/flux-t2i-general.v1.txt', '--json']);
    expect(one.exitCode, one.stderr).toBe(0);
    const report = JSON.parse(one.stdout);
    expect(report).toMatchObject({
      ok: true,
      experiments: [],
      rubrics: [{ ok: true, sha256: sha256Hex(TEXT), metrics: { accuracy: 0.75 } }],
    });
    rmSync(ws.path('rubrics/flux-t2i-general.v1.lock.json'));
    const bad = await arr(['rubric', 'check', '--json']);
    expect(bad.exitCode).toBe(1);
    const badReport = JSON.parse(bad.stdout);
    expect(badReport.ok).toBe(false);
    expect(badReport.rubrics.map((r: { ok: boolean }) => r.ok)).toEqual([false, false]);
  }, 30_000);

  it('says so when there is nothing to check', async () => {
    rmSync(ws.path('rubrics'), { recursive: true });
    rmSync(ws.path('experiments'), { recursive: true });
    const run = await arr(['rubric', 'check']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('no frozen rubrics');
  }, 30_000);
});
