// Launching: the run directory, the reward service, the stand-in trainer's flags and environment, the
// exit status, failure paths, and (through the CLI) --plan and SIGTERM forwarding.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/store/canonical-json.js';
import { launchTrain, prepareTrain, TrainCheckError, type TrainOptions } from '../../src/train/launch.js';
import { AT_LAUNCH, materialize } from '../../src/train/plan.js';
import { runTarget } from '../../src/targets/run.js';
import { repoRoot } from '../helpers/workspace.js';
import { SECRET, trainWorkspace, type ManifestOptions, type TrainWorkspace } from './fixtures.js';

let ws: TrainWorkspace;
afterEach(() => ws?.cleanup());

const env = () => ({ ...process.env, ARR_JUDGE_API_KEY: SECRET });

async function launch(options: ManifestOptions = {}, train: TrainOptions = {}) {
  ws = trainWorkspace(options);
  await ws.freeze();
  const lines: string[] = [];
  const result = await launchTrain(
    { experiment: 'exp-a', workspaceRoot: ws.root, env: env() },
    { allowNoGpu: true, forwardSignals: false, python: null, log: (l) => lines.push(l), ...train },
  );
  return { result, lines };
}

const allFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? allFiles(join(dir, e.name)) : [join(dir, e.name)],
  );

// Each launch spawns processes and a service: generous on a loaded machine.
describe('launchTrain', { timeout: 30_000 }, () => {
  it('runs the trainer with the reference flags and the reward service, and records a succeeded run', async () => {
    const { result, lines } = await launch();
    expect(result.status).toBe('succeeded');
    expect(result.processExitCode).toBe(0);
    const dir = ws.runDir();
    expect(result.runDir).toBe(dir);
    // Run id: UTC start time + 8 hex of the plan hash.
    expect(result.runId).toMatch(new RegExp(`^\\d{8}T\\d{6}Z-${result.plan.hash.slice(0, 8)}$`));

    const got = ws.received();
    expect(got.problems).toEqual([]);
    expect(got.cwd).toBe(dir);
    expect(got.flags).toMatchObject({
      use_arr: true,
      use_group: true,
      num_generations: '2',
      learning_rate: '0.00005',
      sampling_steps: '8',
      kl_beta: '0.01',
      lora_rank: '16',
      lora_alpha: '32',
      gradient_accumulation_steps: '2',
      data_json_path: ws.path('data/emb/metadata.json'),
      output_dir: join(dir, 'output'),
      arr_config_path: join(dir, 'judge.yaml'),
    });
    // The token works against the live service; without it the service refuses.
    expect(got.reward).toEqual({ withToken: 200, withoutToken: 401 });
    expect(got.env.ARR_REWARD_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(got.env.ARR_REWARD_TOKEN).toMatch(/^[0-9a-f]{64}$/);

    // Output streamed with a prefix, and kept in the log.
    expect(lines).toContain('[exp-a] standin: started with ' + Object.keys(got.flags).length + ' flags');
    const log = readFileSync(join(dir, 'train.log'), 'utf8');
    expect(log).toContain('standin: started with');
    expect(log).toContain('standin: a line on stderr');
    expect(log).toContain('# succeeded: exit code 0');
    expect(existsSync(join(dir, 'output/checkpoint-1-0/adapter_config.json'))).toBe(true);
  });

  it('writes run.json with every input hash, the command and a secret-free environment', async () => {
    const { result } = await launch();
    const dir = ws.runDir();
    const run = ws.runJson();
    expect(run).toMatchObject({
      run_id: result.runId,
      experiment: 'exp-a',
      target: 'train-flux',
      status: 'succeeded',
      exit_code: 0,
      signal: null,
      received_signals: [],
    });
    expect(run.inputs.rubric.sha256).toBe(sha256Hex(readFileSync(ws.path('rubrics/flux-a.v1.txt'))));
    expect(run.inputs.rubric_lock.sha256).toBe(sha256Hex(readFileSync(ws.path('rubrics/flux-a.v1.lock.json'))));
    expect(run.inputs.embeddings_metadata.sha256).toBe(sha256Hex(readFileSync(ws.path('data/emb/metadata.json'))));
    expect(run.inputs.manifests).toEqual([
      { path: ws.path('experiments/exp-a.yaml'), sha256: sha256Hex(readFileSync(ws.path('experiments/exp-a.yaml'))) },
    ]);
    expect(run.command[0]).toBe(process.execPath);
    expect(run.command).toContain('--use_arr');
    expect(run.flags.learning_rate).toBe(5e-5);
    expect(Date.parse(run.ended)).toBeGreaterThanOrEqual(Date.parse(run.started));
    expect(run.checkpoints).toEqual(['checkpoint-1-0']);
    expect('git_commit' in run).toBe(true);
    expect(run.env.ARR_JUDGE_API_KEY).toBe('(set)');
    expect(run.env.ARR_REWARD_TOKEN).toBe('(set; made per run)');
    // No secret anywhere in the run directory: not the judge key, not the reward token.
    const token = ws.received().env.ARR_REWARD_TOKEN;
    for (const file of allFiles(dir).filter((f) => !f.endsWith('received.json'))) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toContain(SECRET);
      expect(text, file).not.toContain(token);
    }
  });

  it('copies the frozen rubric and writes a judge config pointing at the reward service, with the token by reference', async () => {
    const { result } = await launch();
    const dir = ws.runDir();
    expect(readFileSync(join(dir, 'rubric.txt'), 'utf8')).toBe(readFileSync(ws.path('rubrics/flux-a.v1.txt'), 'utf8'));
    expect(existsSync(join(dir, 'rubric.lock.json'))).toBe(true);
    const text = readFileSync(join(dir, 'judge.yaml'), 'utf8');
    const config = parse(text);
    const serviceUrl = ws.received().env.ARR_REWARD_URL;
    expect(config).toEqual({
      grader_name: 'image quality comparator',
      model_name: 'test-vlm',
      base_url: `${serviceUrl}/v1`,
      api_key: '${ARR_REWARD_TOKEN}',
      temperature: 0,
      task_type: 't2i',
      eval_mode: 'pairwise',
      language: 'en',
      task_description: 'Compare two images.',
      rubrics_file: join(dir, 'rubric.txt'),
    });
    expect(result.record!.reward_service).toMatchObject({ url: serviceUrl, openai_base_url: `${serviceUrl}/v1` });
  });

  it('runs the trainer in the run directory with images/ and output/, and a free master port', async () => {
    const { result } = await launch();
    const dir = ws.runDir();
    const got = ws.received();
    expect(got.cwd).toBe(dir);
    expect(got.imagesDir).toBe(true);
    const port = Number(got.env.MASTER_PORT);
    expect(port).toBeGreaterThan(0);
    expect(ws.runJson()).toMatchObject({ cwd: dir, master_port: port, exit_code: 0, status: 'succeeded' });
    expect(result.record).toEqual(ws.runJson());
  });

  it('gives torchrun its own --master_port on one node, and none with a rendezvous endpoint', async () => {
    ws = trainWorkspace({ command: null, train: '  trainer_dir: ../trainers\n' });
    const { plan } = await prepareTrain(
      { experiment: 'exp-a', workspaceRoot: ws.root, env: env() },
      { allowNoGpu: true, python: null },
    );
    expect(plan.command.slice(0, 9)).toEqual([
      'torchrun',
      '--nnodes',
      '1',
      '--node_rank',
      '0',
      '--nproc_per_node',
      '1',
      '--master_port',
      AT_LAUNCH.masterPort,
    ]);
    const { args } = materialize(plan, { dir: '/r', rewardUrl: 'http://x', rewardToken: 't', masterPort: 29123 });
    expect(args.slice(6, 8)).toEqual(['--master_port', '29123']);
    ws.cleanup();
    ws = trainWorkspace({
      command: null,
      train: '  trainer_dir: ../trainers\n  nnodes: 2\n  rdzv_endpoint: host:29400\n',
    });
    const multi = await prepareTrain(
      { experiment: 'exp-a', workspaceRoot: ws.root, env: env() },
      { allowNoGpu: true, python: null },
    );
    expect(multi.plan.command).not.toContain('--master_port');
    expect(multi.plan.env.MASTER_PORT).toBeUndefined();
  });

  it('propagates a failing exit code and never records the run as a success', async () => {
    const { result } = await launch({ mode: 'exit:7' });
    expect(result).toMatchObject({ status: 'failed', exitCode: 7, processExitCode: 7 });
    expect(ws.runJson()).toMatchObject({ status: 'failed', exit_code: 7 });
    expect(readFileSync(join(ws.runDir(), 'train.log'), 'utf8')).toContain('# failed: exit code 7');
  });

  it('records a trainer that cannot start as failed, with the reason', async () => {
    const { result } = await launch({ command: '  command: [/nonexistent/trainer-binary]\n' });
    expect(result.status).toBe('failed');
    expect(result.processExitCode).toBe(1);
    const run = ws.runJson();
    expect(run.status).toBe('failed');
    expect(run.error).toContain('ENOENT');
  });

  it('records a run whose reward service cannot start as failed, without launching the trainer', async () => {
    ws = trainWorkspace();
    await ws.freeze();
    const launching = launchTrain(
      { experiment: 'exp-a', workspaceRoot: ws.root, env: env() },
      {
        allowNoGpu: true,
        forwardSignals: false,
        python: null,
        log: () => {},
        startService: async () => Promise.reject(new Error('listen EADDRINUSE 127.0.0.1:9999')),
      },
    );
    await expect(launching).rejects.toThrow('the reward service did not start: listen EADDRINUSE');
    expect(ws.runJson()).toMatchObject({ status: 'failed', exit_code: null });
    expect(existsSync(join(ws.runDir(), 'received.json'))).toBe(false);
  });

  it("fails the train target on a failed run (exit status carried), and refuses the other task's target", async () => {
    ws = trainWorkspace({ mode: 'exit:5' });
    await ws.freeze();
    const ref = { experiment: 'exp-a', workspaceRoot: ws.root, env: { ...env(), ARR_ALLOW_NO_GPU: '1' } };
    await expect(runTarget('train-edit', ref)).rejects.toThrow(
      'exp-a has task t2i; it trains with train-flux, not train-edit',
    );
    const failed = runTarget('train-flux', ref);
    await expect(failed).rejects.toThrow('failed (exit code 5)');
    await expect(failed).rejects.toMatchObject({ exitCode: 5 });
  }, 60_000);

  it('launches nothing and writes no run directory when a check fails', async () => {
    ws = trainWorkspace();
    const launching = launchTrain(
      { experiment: 'exp-a', workspaceRoot: ws.root, env: env() },
      { allowNoGpu: true, forwardSignals: false, python: null, log: () => {} },
    );
    await expect(launching).rejects.toBeInstanceOf(TrainCheckError);
    await expect(
      launchTrain(
        { experiment: 'exp-a', workspaceRoot: ws.root, env: env() },
        { allowNoGpu: true, python: null, log: () => {} },
      ),
    ).rejects.toThrow('npx nx run exp-a:freeze');
    expect(existsSync(ws.path('cache/runs'))).toBe(false);
  });
});

describe('arr train (CLI)', () => {
  const arr = (args: string[], extra: Record<string, string> = {}) =>
    execa(process.execPath, [join(repoRoot, 'bin/arr.mjs'), 'train', ...args], {
      cwd: ws.root,
      env: { ...env(), ...extra },
      reject: false,
      all: true,
    });

  it('--plan prints the command, flags, environment without secrets and the checks, and launches nothing', async () => {
    ws = trainWorkspace();
    await ws.freeze();
    const run = await arr(['--experiment', 'exp-a', '--plan', '--allow-no-gpu']);
    expect(run.exitCode, run.all).toBe(0);
    expect(run.all).toContain('train-flux exp-a (task t2i');
    expect(run.all).toContain('--learning_rate 0.00005');
    expect(run.all).toContain('--gradient_accumulation_steps 2');
    expect(run.all).toContain('ARR_JUDGE_API_KEY=(set)');
    expect(run.all).toContain('ARR_REWARD_TOKEN=(set; made per run)');
    expect(run.all).toContain('ok   rubric:');
    expect(run.all).not.toContain(SECRET);
    expect(existsSync(ws.path('cache/runs'))).toBe(false);
  }, 60_000);

  it('--plan says which reward settings apply through judge.yaml and how to switch the trainer to arr_reward_client.py', async () => {
    ws = trainWorkspace();
    await ws.freeze();
    const run = await arr(['--experiment', 'exp-a', '--plan', '--allow-no-gpu']);
    expect(run.exitCode, run.all).toBe(0);
    expect(run.all).toContain(
      'judge.yaml: model test-vlm, base_url <reward service url>/v1, api_key ${ARR_REWARD_TOKEN}',
    );
    expect(run.all).toContain('reward.bind 127.0.0.1, reward.port 0');
    expect(run.all).toContain("reward.both_orders false: the trainer's own judge chooses the order");
    expect(run.all).toContain('reward.on_disagreement zero');
    expect(run.all).toContain('    arr_judge = Judger(config_path=args.arr_config_path)');
    expect(run.all).toContain(`    sys.path.insert(0, ${JSON.stringify(join(repoRoot, 'python'))})`);
    expect(run.all).toContain('    import arr_reward_client as arr_judge');
    expect(existsSync(join(repoRoot, 'python/arr_reward_client.py'))).toBe(true);
  }, 60_000);

  it('--json prints the plan, or the run record, as one JSON document on stdout', async () => {
    ws = trainWorkspace();
    await ws.freeze();
    const plan = await arr(['--experiment', 'exp-a', '--plan', '--allow-no-gpu', '--json']);
    expect(plan.exitCode, plan.stderr).toBe(0);
    const planned = JSON.parse(plan.stdout);
    expect(planned).toMatchObject({
      ok: true,
      exit_code: 0,
      plan: {
        experiment: 'exp-a',
        target: 'train-flux',
        flags: { learning_rate: 5e-5 },
        rewards: { ignored: expect.any(Array) },
      },
    });
    expect(planned.plan.checks.map((c: { name: string }) => c.name)).toContain('embeddings');
    expect(plan.stdout).not.toContain(SECRET);
    const run = await arr(['--experiment', 'exp-a', '--allow-no-gpu', '--json']);
    expect(run.exitCode, run.stderr).toBe(0);
    const done = JSON.parse(run.stdout);
    expect(done).toMatchObject({
      ok: true,
      exit_code: 0,
      run: { status: 'succeeded', exit_code: 0, experiment: 'exp-a' },
    });
    expect(done.run).toEqual(ws.runJson());
    expect(run.stderr).toContain('[exp-a] standin: started with');
  }, 90_000);

  it('--plan exits 1 with the failed checks named; a launch with a failed check says what to fix', async () => {
    ws = trainWorkspace({ train: '  gradient_accumulation_steps: 8\n' });
    const plan = await arr(['--experiment', 'exp-a', '--plan'], { PATH: '/nonexistent' });
    expect(plan.exitCode).toBe(1);
    expect(plan.all).toContain('FAIL rubric:');
    expect(plan.all).toContain('FAIL grad-accum:');
    expect(plan.all).toContain('FAIL gpus: nvidia-smi -L did not run');
    const launch = await arr(['--experiment', 'exp-a', '--allow-no-gpu']);
    expect(launch.exitCode).toBe(1);
    expect(launch.all).toContain('not launching; fix these first');
    expect(launch.all).toContain('npx nx run exp-a:freeze');
  }, 60_000);

  it("exits with the trainer's status", async () => {
    ws = trainWorkspace({ mode: 'exit:4' });
    await ws.freeze();
    const run = await arr(['--experiment', 'exp-a', '--allow-no-gpu']);
    expect(run.exitCode, run.all).toBe(4);
    expect(run.all).toContain('failed (exit code 4)');
  }, 60_000);

  it("arr build train-flux (what the Nx executor runs) exits with the trainer's status too", async () => {
    ws = trainWorkspace({ mode: 'exit:6' });
    await ws.freeze();
    const run = await execa(process.execPath, [join(repoRoot, 'bin/arr.mjs'), 'build', 'train-flux', 'exp-a'], {
      cwd: ws.root,
      env: { ...env(), ARR_ALLOW_NO_GPU: '1' },
      reject: false,
      all: true,
    });
    expect(run.exitCode, run.all).toBe(6);
    expect(run.all).toContain('failed (exit code 6)');
  }, 60_000);

  it("forwards SIGTERM to the trainer's process group and records it in run.json", async () => {
    ws = trainWorkspace({ mode: 'hang' });
    await ws.freeze();
    const child = arr(['--experiment', 'exp-a', '--allow-no-gpu']);
    // The stand-in trainer writes `started` into its run folder once it is up.
    const startedMarker = () =>
      existsSync(ws.path('cache/runs'))
        ? readdirSync(ws.path('cache/runs'))
            .map((d) => ws.path(`cache/runs/${d}/started`))
            .find(existsSync)
        : undefined;
    await expect
      .poll(startedMarker, { timeout: 45_000, interval: 100, message: 'the stand-in trainer never started' })
      .toBeDefined();
    child.kill('SIGTERM');
    const run = await child;
    const dir = ws.runDir();
    expect(readFileSync(join(dir, 'got-signal'), 'utf8')).toBe('SIGTERM');
    expect(run.exitCode, run.all).toBe(143);
    expect(ws.runJson()).toMatchObject({ status: 'interrupted', exit_code: 143, received_signals: ['SIGTERM'] });
    expect(readFileSync(join(dir, 'train.log'), 'utf8')).toContain('standin: got SIGTERM');
    expect(run.all).toContain('interrupted');
  }, 60_000);
});
