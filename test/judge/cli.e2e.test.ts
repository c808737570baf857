// `arr judge` and `arr judge doctor` as a user runs them: a real child process against the simulated VLM.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsImport from 'ajv-formats';
import { execa } from 'execa';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluate } from '../../src/judge/evaluate.js';
import { startSimVlm, type SimVlm } from '../helpers/sim-vlm.js';
import { makeWorkspace, writePng, repoRoot, type TestWorkspace } from '../helpers/workspace.js';
import { brightnessPairs, client, encoder, rubricAwareRule, settings } from './support.js';

const addFormats = addFormatsImport.default;
let ws: TestWorkspace;
let sim: SimVlm;

/** An edit experiment whose labels follow brightness: the brighter edit of each pair is preferred. */
async function writeEditExperiment(pairs: number): Promise<void> {
  await writePng(ws.path('data/src.png'), 3);
  const lines: string[] = [];
  for (let i = 0; i < pairs; i++) {
    const dark = `img/d${i}.png`;
    const bright = `img/b${i}.png`;
    await writePng(ws.path(`data/${dark}`), 0); // seed 0 renders black
    await writePng(ws.path(`data/${bright}`), 20 + i * 3); // brighter than black
    const brightFirst = i % 2 === 0;
    lines.push(
      JSON.stringify({
        instruction: `edit ${i}`,
        source_image: 'src.png',
        edited_images: brightFirst ? [bright, dark] : [dark, bright],
        label_rank: brightFirst ? [1, 2] : [2, 1],
      }),
    );
  }
  ws.write('data/test.jsonl', lines.join('\n') + '\n');
  ws.write('rubrics/bright.txt', 'Rubric 1:\nTheme: Brightness\n- Tip1: the brighter edit is better.\n');
  ws.write(
    'experiments/e.yaml',
    'task: edit\nrubric: { from: ../rubrics/bright.txt, allow_unlocked: true }\nverify: { test: ../data/test.jsonl }\njudge: { api_key: "${SIM_KEY}" }\n',
  );
}

const arr = (args: string[], env: Record<string, string> = {}) =>
  execa('node', [join(repoRoot, 'bin/arr.mjs'), ...args], {
    cwd: ws.root,
    reject: false,
    env: { NO_COLOR: '1', SIM_KEY: 'sk-sim-key-123', ...env },
  });

beforeEach(async () => {
  ws = makeWorkspace();
  sim = await startSimVlm({ apiKey: 'sk-sim-key-123', rule: rubricAwareRule });
});
afterEach(async () => {
  await sim.close();
  ws.cleanup();
});

describe('arr judge', () => {
  it('prints the reference summary and writes a schema-valid report without the key', async () => {
    await writeEditExperiment(6);
    const out = ws.path('report.json');
    const run = await arr([
      'judge',
      '--experiment',
      'e',
      '--dataset',
      'data/test.jsonl',
      '--base-url',
      sim.url,
      '--both-orders',
      '--out',
      out,
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    for (const line of [
      'Task:        edit',
      'Mode:        pairwise',
      'Total Tests: 6',
      'Correct:     6',
      'Accuracy:    100.00%',
      'Agreement:   100.00%',
      'Failures:    0',
    ])
      expect(run.stdout).toContain(line);
    const text = readFileSync(out, 'utf8');
    expect(text).not.toContain('sk-sim-key-123');
    const report = JSON.parse(text);
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(join(repoRoot, 'schemas/judge-report.schema.json'), 'utf8')));
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.api_key_set).toBe(true);
    expect(report.rubric.source).toBe('rubric.from');
    expect(report.items[0].orders).toHaveLength(2);
  }, 60_000);

  it('lays out an edit request as the reference does, and never shows the label', async () => {
    await writeEditExperiment(1);
    await arr(['judge', '--experiment', 'e', '--dataset', 'data/test.jsonl', '--base-url', sim.url]);
    const request = sim.requests[0];
    expect(request.images.map((i) => i.label)).toEqual([
      'Image BASE (original image):',
      'Edited Image 1:',
      'Edited Image 2:',
    ]);
    expect(request.base).toBeDefined();
    expect(request.text).toContain('Editing instruction: edit 0');
    expect(request.text).not.toMatch(/label_rank|Expected rank/);
  }, 60_000);

  it('says it judges directly when there is no rubric, and exits non-zero when the endpoint is unusable', async () => {
    await writeEditExperiment(2);
    ws.write(
      'experiments/plain.yaml',
      'task: edit\nrubric: { seed: ../data/test.jsonl }\njudge: { api_key: "${SIM_KEY}" }\n',
    );
    const direct = await arr(['judge', '--experiment', 'plain', '--dataset', 'data/test.jsonl', '--base-url', sim.url]);
    expect(direct.stderr).toContain('no rubric: judging directly');
    expect(direct.stdout).toContain('Rubric:      none (direct judging)');
    const refused = await arr(
      ['judge', '--experiment', 'plain', '--dataset', 'data/test.jsonl', '--base-url', sim.url],
      { SIM_KEY: 'wrong' },
    );
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('refused the API key');
    expect(refused.stderr).not.toContain('wrong');
  }, 60_000);

  it('exits 1 when judgements fail, keeping the report, unless --max-failures accepts them', async () => {
    await writeEditExperiment(3);
    await sim.close();
    // Every answer is garbage: each judgement fails after its re-asks.
    sim = await startSimVlm({ apiKey: 'sk-sim-key-123', rule: rubricAwareRule, faults: [{ kind: 'garbage' }] });
    const args = ['judge', '--experiment', 'e', '--dataset', 'data/test.jsonl', '--base-url', sim.url, '--no-cache'];
    const failed = await arr([...args, '--out', 'report.json']);
    expect(failed.exitCode, failed.stderr).toBe(1);
    expect(failed.stderr).toContain('arr judge: 3 of 3 judgements failed (more than --max-failures 0)');
    expect(JSON.parse(readFileSync(ws.path('report.json'), 'utf8')).summary.failures).toBe(3);
    const accepted = await arr([...args, '--max-failures', '3']);
    expect(accepted.exitCode, accepted.stderr).toBe(0);
  }, 60_000);

  it('resumes after Ctrl-C through the response cache, repeating few calls', async () => {
    await writeEditExperiment(16);
    await sim.close();
    sim = await startSimVlm({ apiKey: 'sk-sim-key-123', rule: rubricAwareRule, latencyMs: 150 });
    const args = [
      'judge',
      '--experiment',
      'e',
      '--dataset',
      'data/test.jsonl',
      '--base-url',
      sim.url,
      '--concurrency',
      '2',
    ];
    const child = execa('node', [join(repoRoot, 'bin/arr.mjs'), ...args], {
      cwd: ws.root,
      reject: false,
      env: { SIM_KEY: 'sk-sim-key-123' },
    });
    await expect.poll(() => sim.requests.length, { timeout: 30_000, interval: 20 }).toBeGreaterThanOrEqual(7);
    child.kill('SIGINT');
    await child;
    const cached = readdirSync(ws.path('cache/judge'), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.json'));
    for (const f of cached) expect(() => JSON.parse(readFileSync(ws.path(`cache/judge/${f}`), 'utf8'))).not.toThrow();
    const before = sim.requests.length; // chat requests only (the preflight's GET /models is not one)
    const rerun = await arr(args);
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    expect(rerun.stdout).toContain('Correct:     16');
    expect(cached.length).toBeGreaterThan(0);
    expect(sim.requests.length - before).toBe(16 - cached.length);
  }, 60_000);
});

describe('position bias and agreement', () => {
  it('reports disagreement instead of resolving it when the orders disagree', async () => {
    await sim.close();
    sim = await startSimVlm({ positionBias: 1 });
    const { summary, items } = await evaluate(
      await brightnessPairs(6),
      {
        task: 't2i',
        mode: 'pairwise',
        language: 'en',
        taskDescription: '',
        rubric: 'brightness',
        bothOrders: true,
        minScore: 1,
        maxScore: 5,
      },
      { client: client(settings([sim.url])), encoder: encoder() },
    );
    expect(summary.agreement).toBe(0);
    expect(summary.disagreements).toBe(6);
    expect(summary.correct).toBe(0);
    expect(items.every((i) => i.verdict === 'disagree' && i.predicted === null)).toBe(true);
  });

  it('a rubric the judge can use raises accuracy over direct judging', async () => {
    const items = await brightnessPairs(10);
    const options = {
      task: 't2i' as const,
      mode: 'pairwise' as const,
      language: 'en' as const,
      taskDescription: '',
      bothOrders: false,
      minScore: 1,
      maxScore: 5,
    };
    const direct = await evaluate(
      items,
      { ...options, rubric: undefined },
      { client: client(settings([sim.url], { apiKey: 'sk-sim-key-123' })), encoder: encoder() },
    );
    const withRubric = await evaluate(
      items,
      { ...options, rubric: 'Prefer the brighter image.' },
      { client: client(settings([sim.url], { apiKey: 'sk-sim-key-123' })), encoder: encoder() },
    );
    expect(direct.summary.accuracy).toBe(0.5);
    expect(withRubric.summary.accuracy).toBe(1);
  });
});

describe('arr judge doctor', () => {
  it('passes a judge that sees images and is consistent, and explains a biased one', async () => {
    await writeEditExperiment(4);
    await sim.close();
    const redWins = (req: Parameters<typeof rubricAwareRule>[0]) => {
      const redness = req.candidates.map((c) => c.mean[0] - c.mean[2] + (c.mean[0] + c.mean[1] + c.mean[2]) / 1000);
      const order = redness.map((v, i) => ({ v, i })).sort((a, b) => b.v - a.v);
      const rank = new Array<number>(redness.length);
      order.forEach((o, pos) => (rank[o.i] = pos + 1));
      return { rank };
    };
    sim = await startSimVlm({ apiKey: 'sk-sim-key-123', rule: redWins });
    const good = await arr(['judge', 'doctor', '--experiment', 'e', '--base-url', sim.url]);
    expect(good.exitCode, good.stdout + good.stderr).toBe(0);
    expect(good.stdout).toContain('✓ 3 images in one request');
    expect(good.stdout).toContain('✓ sees the images');
    await sim.close();
    sim = await startSimVlm({ apiKey: 'sk-sim-key-123', positionBias: 1 });
    const biased = await arr(['judge', 'doctor', '--experiment', 'e', '--base-url', sim.url]);
    expect(biased.exitCode).toBe(1);
    expect(biased.stdout).toContain('✗ verdicts survive swapping the order: 0/4');
    expect(biased.stdout).toContain('→ position bias');
  }, 60_000);
});
