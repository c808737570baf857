// The artifact remote against a real S3-protocol server (s3rver on 127.0.0.1) and a shared folder.
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ArtifactStore } from '../../src/store/artifacts.js';
import {
  listRemote,
  openRemote,
  parseRemote,
  pullArtifact,
  pushArtifact,
  RemoteArtifactRefusedError,
  remoteSource,
  type RemoteBackend,
} from '../../src/store/remote/index.js';
import { sweepPartialPulls } from '../../src/store/remote/partials.js';
import { startS3, type S3Server } from '../helpers/s3.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('ARR_CACHE_REMOTE', () => {
  it('takes s3://bucket/prefix and file:///folder', () => {
    expect(parseRemote('s3://team-cache/arr/v1/')).toMatchObject({
      scheme: 's3',
      bucket: 'team-cache',
      prefix: 'arr/v1',
      url: 's3://team-cache/arr/v1',
    });
    expect(parseRemote('s3://team-cache')).toMatchObject({ scheme: 's3', prefix: '' });
    expect(parseRemote('file:///mnt/shared/arr')).toMatchObject({ scheme: 'file', dir: '/mnt/shared/arr' });
    expect(parseRemote('/mnt/shared/arr')).toMatchObject({ scheme: 'file', dir: '/mnt/shared/arr' });
  });

  it('refuses credentials in the URL without repeating them', () => {
    for (const url of [
      's3://AKIAEXAMPLE:hunter2@bucket/p',
      'file://user:hunter2@localhost/x',
      's3://bucket/p?X-Amz-Signature=hunter2',
      's3://bucket/p?token=hunter2',
    ]) {
      let message = '';
      try {
        parseRemote(url);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message, url).toMatch(/^ARR_CACHE_REMOTE: .*(credentials embedded in the URL|secret query parameter)/);
      expect(message).not.toContain('hunter2');
    }
    expect(() => parseRemote('https://bucket.example/p')).toThrow('unsupported scheme "https"');
    expect(() => parseRemote('s3:///p')).toThrow('no bucket');
  });
});

let s3: S3Server;
let shared: string;
beforeAll(async () => {
  s3 = await startS3();
  Object.assign(process.env, s3.env);
  shared = await mkdtemp(join(tmpdir(), 'arr-shared-'));
}, 30_000);
afterAll(async () => {
  await s3?.close();
  await rm(shared, { recursive: true, force: true });
});

const remotes: [string, () => string][] = [
  ['an S3-protocol server', () => `s3://${s3.bucket}/team`],
  ['a shared folder', () => `file://${shared}`],
];

describe.each(remotes)('the artifact remote on %s', (_name, remoteUrl) => {
  let a: ArtifactStore;
  let b: ArtifactStore;
  let dirs: string[] = [];
  let remote: RemoteBackend;
  const big = randomBytes(3 * 1024 * 1024 + 17);
  const inputs = () => ({ remote: remoteUrl(), n: Math.random() }); // a fresh key per test

  beforeEach(async () => {
    dirs = [await mkdtemp(join(tmpdir(), 'arr-a-')), await mkdtemp(join(tmpdir(), 'arr-b-'))];
    a = new ArtifactStore(dirs[0]);
    b = new ArtifactStore(dirs[1]);
    remote = openRemote({ ...process.env, ARR_CACHE_REMOTE: remoteUrl() })!;
    return async () => {
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    };
  });

  const buildOne = async () =>
    a.build('embedding', inputs(), async (dir) => {
      await writeFile(join(dir, 'big.bin'), big);
      await mkdir(join(dir, 'sub'));
      await writeFile(join(dir, 'sub', 'note.txt'), 'hello\n');
    });

  it('pushes once, lists it, and pulls it byte for byte into an empty store', async () => {
    const built = await buildOne();
    expect(await pushArtifact(remote, a, 'embedding', built.key)).toBe('pushed');
    expect(await pushArtifact(remote, a, 'embedding', built.key)).toBe('exists');
    const listed = await listRemote(remote);
    expect(listed.artifacts).toContainEqual({ kind: 'embedding', key: built.key, files: 2, bytes: big.length + 6 });

    const seen: number[] = [];
    const outcome = await pullArtifact(remote, b, 'embedding', built.key, {
      progress: (_label, total) => (done) => seen.push(done / total),
    });
    expect(outcome).toBe('pulled');
    expect(sha(await readFile(join(b.path('embedding', built.key), 'big.bin')))).toBe(sha(big));
    expect(await b.read('embedding', built.key)).toEqual(built.manifest);
    expect(seen.at(-1)).toBe(1);
    expect(await readdir(join(dirs[1], 'remote-partial', 'embedding'))).toEqual([]); // nothing left behind
  }, 60_000);

  it('treats an interrupted push (files without artifact.json) as absent, and a second push completes it', async () => {
    const built = await buildOne();
    await remote.write(`embedding/${built.key}/big.bin`, join(built.dir, 'big.bin'), big.length);
    expect(await pullArtifact(remote, b, 'embedding', built.key)).toBe('absent');
    expect((await listRemote(remote)).incomplete).toBeGreaterThan(0);
    expect(await pushArtifact(remote, a, 'embedding', built.key)).toBe('pushed');
    expect(await pullArtifact(remote, b, 'embedding', built.key)).toBe('pulled');
  }, 60_000);

  it('refuses a tampered remote object, naming the key, and installs nothing', async () => {
    const built = await buildOne();
    await pushArtifact(remote, a, 'embedding', built.key);
    await overwrite(remoteUrl(), `embedding/${built.key}/sub/note.txt`, 'HELLO\n');
    const pulled = pullArtifact(remote, b, 'embedding', built.key);
    await expect(pulled).rejects.toThrow(RemoteArtifactRefusedError);
    await expect(pullArtifact(remote, b, 'embedding', built.key)).rejects.toThrow(
      `refused remote artifact embedding/${built.key}`,
    );
    await expect(pullArtifact(remote, b, 'embedding', built.key)).rejects.toThrow('sub/note.txt: sha256');
    expect(existsSync(b.path('embedding', built.key))).toBe(false);
  }, 60_000);

  it('refuses a truncated remote object', async () => {
    const built = await buildOne();
    await pushArtifact(remote, a, 'embedding', built.key);
    await overwrite(remoteUrl(), `embedding/${built.key}/big.bin`, big.subarray(0, 1000));
    await expect(pullArtifact(remote, b, 'embedding', built.key)).rejects.toThrow(
      `big.bin: 1000 bytes, expected ${big.length}`,
    );
  }, 60_000);

  it('resumes a partial download from where it stopped', async () => {
    const built = await buildOne();
    await pushArtifact(remote, a, 'embedding', built.key);
    const partial = join(dirs[1], 'remote-partial', 'embedding', built.key);
    await mkdir(partial, { recursive: true });
    await writeFile(join(partial, 'big.bin'), big.subarray(0, 2_000_000)); // what a killed pull left
    const seen: number[] = [];
    await pullArtifact(remote, b, 'embedding', built.key, { progress: () => (done) => seen.push(done) });
    expect(sha(await readFile(join(b.path('embedding', built.key), 'big.bin')))).toBe(sha(big));
    expect(seen[0]).toBe(2_000_000); // the kept bytes were counted, not fetched again
  }, 60_000);

  it('on a local miss, the store pulls instead of building', async () => {
    const made = vi.fn(async (dir: string) => writeFile(join(dir, 'x.txt'), 'x'));
    const i = inputs();
    const built = await a.build('rubric-generate', i, made);
    await pushArtifact(remote, a, 'rubric-generate', built.key);
    const source = remoteSource({ storeDir: dirs[1], env: { ...process.env, ARR_CACHE_REMOTE: remoteUrl() } })!;
    const withRemote = new ArtifactStore(dirs[1], { sources: [source] });
    const again = await withRemote.build('rubric-generate', i, made);
    expect(again.reused).toBe(true);
    expect(made).toHaveBeenCalledTimes(1);
    expect(await withRemote.has('rubric-generate', withRemote.keyFor({ other: 1 }))).toBe(false);
  }, 60_000);
});

describe('arr cache gc and partial pulls', () => {
  it('removes partial downloads untouched for a week and keeps recent ones', async () => {
    const store = await mkdtemp(join(tmpdir(), 'arr-partials-'));
    try {
      const old = join(store, 'remote-partial', 'embedding', 'a'.repeat(64));
      const recent = join(store, 'remote-partial', 'embedding', 'b'.repeat(64));
      for (const dir of [old, recent]) {
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, 'x.bin'), 'abc');
      }
      const weekAgo = new Date(Date.now() - 8 * 86_400_000);
      for (const p of [join(old, 'x.bin'), old]) await utimes(p, weekAgo, weekAgo);
      expect((await sweepPartialPulls(store, { dryRun: true })).map((r) => r.name)).toEqual(['a'.repeat(64)]);
      expect(existsSync(old)).toBe(true);
      const removed = await sweepPartialPulls(store);
      expect(removed).toEqual([{ kind: 'embedding', name: 'a'.repeat(64), path: old, reason: 'stale-tmp', bytes: 3 }]);
      expect(existsSync(old)).toBe(false);
      expect(existsSync(recent)).toBe(true);
    } finally {
      await rm(store, { recursive: true, force: true });
    }
  });
});

/** Replaces a remote object's bytes, as anyone with write access to the bucket or folder could. */
async function overwrite(url: string, path: string, body: string | Buffer): Promise<void> {
  if (url.startsWith('file://')) return writeFile(join(url.slice('file://'.length), path), body);
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `team/${path}`, Body: body }));
}
