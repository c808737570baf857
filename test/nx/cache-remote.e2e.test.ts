// Two clones share artifacts through a real S3-protocol server (s3rver) and through a shared folder:
// clone A builds against the judge and pushes; a clone with empty caches runs `nx run bright:freeze` and
// pulls every artifact instead of calling the judge.
import { execa } from 'execa';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBrightExperiment } from '../helpers/bright-experiment.js';
import { makeRubricSimRule } from '../helpers/rubric-sim.js';
import { startS3, type S3Server } from '../helpers/s3.js';
import { startSimVlm, type SimVlm } from '../helpers/sim-vlm.js';
import { makeWorkspace, type TestWorkspace } from '../helpers/workspace.js';
import { runNx } from '../helpers/nx.js';

const TARGETS = ['resolve', 'rubric-generate', 'verify', 'freeze'];

let sim: SimVlm;
let s3: S3Server;
let shared: string;
const clones: TestWorkspace[] = [];

async function clone(): Promise<TestWorkspace> {
  const ws = makeWorkspace({ nx: true });
  clones.push(ws);
  await writeBrightExperiment(ws);
  return ws;
}

function env(remote: string, extra: Record<string, string> = {}): Record<string, string> {
  return { ...s3.env, ARR_JUDGE_URL: sim.url, ARR_CACHE_REMOTE: remote, ...extra };
}

const nx = (ws: TestWorkspace, args: string[], vars: Record<string, string>) => runNx(ws.root, args, vars);

async function arr(ws: TestWorkspace, args: string[], vars: Record<string, string>) {
  const r = await execa('node', [ws.path('bin/arr.mjs'), ...args], {
    cwd: ws.root,
    env: vars,
    reject: false,
    all: true,
  });
  return { code: r.exitCode, out: r.all ?? '', stdout: r.stdout };
}

const s3Url = () => `s3://${s3.bucket}/team`;
const folderUrl = () => `file://${shared}`;
let built: { files: Record<string, string>; calls: number };

beforeAll(async () => {
  [sim, s3] = await Promise.all([startSimVlm({ rule: makeRubricSimRule() }), startS3()]);
  shared = mkdtempSync(join(tmpdir(), 'arr-shared-'));
  // Clone A builds the chain once against the judge and pushes to both remotes.
  const a = await clone();
  const run = await nx(a, ['run', 'bright:freeze'], env(s3Url()));
  expect(run.code, run.out).toBe(0);
  expect(sim.stats.requests).toBeGreaterThan(0);
  for (const remote of [s3Url(), folderUrl()]) {
    const push = await arr(a, ['cache', 'push', 'bright', '--json'], env(remote));
    expect(push.code, push.out).toBe(0);
    expect(JSON.parse(push.stdout).counts).toMatchObject({ pushed: 4, exists: 0, 'not-built': 1 }); // bright has no preprocess
  }
  built = { files: artifactFiles(a.path('cache/artifacts')), calls: sim.stats.requests };
}, 300_000);

afterAll(async () => {
  await Promise.all([sim?.close(), s3?.close()]);
  rmSync(shared, { recursive: true, force: true });
  for (const ws of clones) ws.cleanup();
});

describe.each([
  ['an S3-protocol server', s3Url],
  ['a shared folder', folderUrl],
])('a second clone with empty caches, sharing through %s', (_name, remoteUrl) => {
  it('runs nx run bright:freeze with every artifact pulled and 0 judge calls', async () => {
    const b = await clone();
    const store = mkdtempSync(join(tmpdir(), 'arr-store-')); // ARR_CACHE_DIR moves the store out of the clone
    try {
      const run = await nx(b, ['run', 'bright:freeze'], env(remoteUrl(), { ARR_CACHE_DIR: store }));
      expect(run.code, run.out).toBe(0);
      expect(run.out).toMatch(/Cache:\s+0\/4 hit/); // Nx had nothing: every target ran and pulled
      for (const target of TARGETS)
        expect(run.out).toMatch(
          new RegExp(`pulled ${target}/[0-9a-f]{12} from ${remoteUrl().replace(/[/.]/g, '\\$&')}`),
        );
      expect(sim.stats.requests).toBe(built.calls);
      expect(artifactFiles(join(store, 'artifacts'))).toEqual(built.files);
      expect(existsSync(b.path('cache/artifacts'))).toBe(false);
      expect(readFileSync(b.path('rubrics/bright.v1.txt'), 'utf8')).toContain('brighter');

      const ls = await arr(b, ['cache', 'ls', '--remote', '--json'], env(remoteUrl()));
      expect(
        JSON.parse(ls.stdout)
          .artifacts.map((x: { kind: string }) => x.kind)
          .sort(),
      ).toEqual(['freeze', 'resolve', 'rubric-generate', 'verify']);
    } finally {
      rmSync(store, { recursive: true, force: true });
    }
  }, 180_000);
});

describe('a tampered remote', () => {
  it('is refused by arr cache pull, naming the key, and nothing is installed', async () => {
    const b = clones[0];
    const rubricDir = readdirSync(join(shared, 'rubric-generate'))[0];
    const target = join(shared, 'rubric-generate', rubricDir, 'rubric.txt');
    // Same size: only the hash can tell.
    writeFileSync(target, readFileSync(target, 'utf8').replace(/brighter/g, 'BRIGHTER'));
    const store = mkdtempSync(join(tmpdir(), 'arr-store-'));
    try {
      const pull = await arr(b, ['cache', 'pull', 'bright'], env(folderUrl(), { ARR_CACHE_DIR: store }));
      expect(pull.code).toBe(1);
      expect(pull.out).toContain(
        `arr: refused remote artifact rubric-generate/${rubricDir} from ${folderUrl()}: rubric.txt: sha256`,
      );
      expect(existsSync(join(store, 'artifacts', 'rubric-generate', rubricDir))).toBe(false);
    } finally {
      rmSync(store, { recursive: true, force: true });
    }
  }, 120_000);

  it('refuses to push without credentials, and refuses a URL with credentials in it', async () => {
    const a = clones[0];
    const noKeys = env(s3Url(), {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      AWS_CONFIG_FILE: '/nonexistent',
    });
    const push = await arr(a, ['cache', 'push'], noKeys);
    expect(push.code).toBe(1);
    expect(push.out).toContain(`arr: cannot push to ${s3Url()}: no AWS credentials found`);
    const leaky = await arr(a, ['cache', 'ls', '--remote'], env(`s3://AKIA:s3cret@${s3.bucket}/team`));
    expect(leaky.code).toBe(1);
    expect(leaky.out).toContain('ARR_CACHE_REMOTE: credentials embedded in the URL are not allowed (value not shown)');
    expect(leaky.out).not.toContain('s3cret');
  }, 60_000);
});

/** `kind/key/file` → file contents' first bytes for every artifact file under `root`, artifact.json excluded. */
function artifactFiles(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kind of readdirSync(root)) {
    for (const key of readdirSync(join(root, kind)).filter((k) => /^[0-9a-f]{64}$/.test(k))) {
      const manifest = JSON.parse(readFileSync(join(root, kind, key, 'artifact.json'), 'utf8'));
      for (const [file, h] of Object.entries(manifest.files as Record<string, { sha256: string }>))
        out[`${kind}/${key}/${file}`] = h.sha256;
    }
  }
  return out;
}
