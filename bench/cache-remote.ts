// Benchmark for the artifact remote (ARR_CACHE_REMOTE), measured in one run:
// 1. pull throughput of one large artifact (hashed as it streams, installed atomically) against a plain
//    copy of the same bytes: `cp` from the shared folder, and a bare GetObject-to-file from s3rver;
// 2. `nx run bright:freeze` fully cached in clone A (Nx replays it) against clone B, which has empty
//    caches and gets every artifact from the remote (its first run), and B's second run.
// Run: npx tsx bench/cache-remote.ts [--mib 128] [--rounds 3] [--pull-only | --nx-only]
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArtifactStore } from '../src/store/artifacts.js';
import { openRemote, pullArtifact, pushArtifact } from '../src/store/remote/index.js';
import { writeBrightExperiment } from '../test/helpers/bright-experiment.js';
import { makeRubricSimRule } from '../test/helpers/rubric-sim.js';
import { startS3 } from '../test/helpers/s3.js';
import { startSimVlm } from '../test/helpers/sim-vlm.js';
import { makeWorkspace, type TestWorkspace } from '../test/helpers/workspace.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const MIB = arg('--mib', 128);
const ROUNDS = arg('--rounds', 3);
const FILES = 8;
let plainClient: S3Client | undefined;

const s3 = await startS3();
Object.assign(process.env, s3.env);
const work = mkdtempSync(join(tmpdir(), 'arr-bench-remote-'));
const shared = join(work, 'shared');
await mkdir(shared);
const remotes = {
  s3: openRemote({
    ...process.env,
    ARR_CACHE_REMOTE: `s3://${s3.bucket}/bench`,
  })!,
  folder: openRemote({ ARR_CACHE_REMOTE: `file://${shared}` })!,
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = async (f: () => Promise<unknown>) => {
  const t = performance.now();
  await f();
  return (performance.now() - t) / 1000;
};

try {
  if (!process.argv.includes('--nx-only')) await throughput();
  if (!process.argv.includes('--pull-only')) await nxFigures();
} finally {
  await s3.close();
  rmSync(work, { recursive: true, force: true });
}

/** 1. Pull throughput against a plain copy of the same files. */
async function throughput(): Promise<void> {
  const source = new ArtifactStore(join(work, 'a'));
  const bytes = MIB * 1024 * 1024;
  const built = await source.build('embedding', { bench: MIB }, async (dir) => {
    for (let i = 0; i < FILES; i++) writeFileSync(join(dir, `part-${i}.bin`), randomBytes(bytes / FILES));
  });
  for (const remote of Object.values(remotes)) await pushArtifact(remote, source, 'embedding', built.key);
  const mbps = (s: number) => bytes / 1e6 / s;
  const rows: [string, number, number, string][] = [];
  for (const [name, remote] of Object.entries(remotes)) {
    const pulls: number[] = [];
    const plains: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const dest = join(work, `b-${name}-${r}`);
      pulls.push(await time(() => pullArtifact(remote, new ArtifactStore(dest), 'embedding', built.key)));
      await rm(dest, { recursive: true, force: true });
      const plain = join(work, `plain-${name}-${r}`);
      plains.push(
        await time(() =>
          name === 'folder'
            ? cp(join(shared, 'embedding', built.key), plain, {
                recursive: true,
              })
            : plainS3Copy(built.key, plain),
        ),
      );
      await rm(plain, { recursive: true, force: true });
    }
    rows.push([
      name,
      mbps(median(pulls)),
      mbps(median(plains)),
      name === 'folder' ? 'fs.cp of the folder' : 'GetObject → file, no hashing',
    ]);
  }
  console.log(`pull of one ${MIB} MiB artifact (${FILES} files), median of ${ROUNDS}:`);
  for (const [name, pull, plain, what] of rows) {
    console.log(
      `  ${name.padEnd(7)} arr pull ${pull.toFixed(0).padStart(5)} MB/s   plain copy ${plain.toFixed(0).padStart(5)} MB/s (${what})   ratio ${(pull / plain).toFixed(2)}`,
    );
  }

  // 2. Fully cached nx run in clone A vs clone B.
}

/** 2. `nx run bright:freeze` fully cached in clone A against clone B, which pulls everything. */
async function nxFigures(): Promise<void> {
  const sim = await startSimVlm({ rule: makeRubricSimRule() });
  const clones: TestWorkspace[] = [];
  try {
    const nxEnv = {
      NX_DAEMON: 'false',
      NX_NO_CLOUD: 'true',
      NX_TUI: 'false',
      NX_ISOLATE_PLUGINS: 'false',
      NO_COLOR: '1',
      CI: 'true',
      ...s3.env,
      ARR_JUDGE_URL: sim.url,
      ARR_CACHE_REMOTE: `s3://${s3.bucket}/bench`,
    };
    const nx = async (ws: TestWorkspace, extra: string[] = []) => {
      let out = '';
      const seconds = await time(async () => {
        const r = await execa('node', [`${ws.root}/node_modules/nx/dist/bin/nx.js`, 'run', 'bright:freeze', ...extra], {
          cwd: ws.root,
          env: nxEnv,
          all: true,
        });
        out = r.all ?? '';
      });
      return { seconds, hits: /Cache:\s+(\d+\/\d+) hit/.exec(out)?.[1] ?? '?' };
    };
    const a = makeWorkspace({ nx: true });
    const b = makeWorkspace({ nx: true });
    clones.push(a, b);
    await writeBrightExperiment(a);
    await writeBrightExperiment(b);
    const build = await nx(a);
    await execa('node', [a.path('bin/arr.mjs'), 'cache', 'push', 'bright'], {
      cwd: a.root,
      env: nxEnv,
    });
    const calls = sim.stats.requests;
    const aCached = await nx(a);
    const bFirst = await nx(b);
    const bCached = await nx(b);
    // Every target runs again with every artifact already local: what the engine costs without any pull.
    const bLocal = await nx(b, ['--skip-nx-cache']);
    console.log(
      `nx run bright:freeze (${calls} judge calls to build it in clone A, ${sim.stats.requests - calls} after):`,
    );
    console.log(`  clone A, building with the judge      ${build.seconds.toFixed(2)} s (Nx ${build.hits} hit)`);
    console.log(`  clone A, fully cached (Nx replay)     ${aCached.seconds.toFixed(2)} s (Nx ${aCached.hits} hit)`);
    console.log(
      `  clone B, empty caches, pulled from S3 ${bFirst.seconds.toFixed(2)} s (Nx ${bFirst.hits} hit)   ratio to A cached ${(bFirst.seconds / aCached.seconds).toFixed(2)}`,
    );
    console.log(
      `  clone B, second run (Nx replay)       ${bCached.seconds.toFixed(2)} s (Nx ${bCached.hits} hit)   ratio to A cached ${(bCached.seconds / aCached.seconds).toFixed(2)}`,
    );
    console.log(
      `  clone B, --skip-nx-cache, all local   ${bLocal.seconds.toFixed(2)} s (targets run, nothing pulled)   pull share of B's first run ${(((bFirst.seconds - bLocal.seconds) / bFirst.seconds) * 100).toFixed(0)}%`,
    );
  } finally {
    await sim.close();
    for (const ws of clones) ws.cleanup();
  }
}

/** The same files fetched with bare GetObject calls: what the S3 transfer costs without arr's checks. */
async function plainS3Copy(key: string, dest: string): Promise<void> {
  // Configured as arr's client is, so the difference is arr's hashing and bookkeeping alone.
  const client = (plainClient ??= new S3Client({
    endpoint: s3.endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    responseChecksumValidation: 'WHEN_REQUIRED',
  }));
  await mkdir(dest, { recursive: true });
  for (let i = 0; i < FILES; i++) {
    const got = await client.send(
      new GetObjectCommand({
        Bucket: s3.bucket,
        Key: `bench/embedding/${key}/part-${i}.bin`,
      }),
    );
    await pipeline(got.Body as Readable, createWriteStream(join(dest, `part-${i}.bin`)));
  }
}
