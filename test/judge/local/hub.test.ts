// Getting the judge's model files from a stand-in Hub on 127.0.0.1: picking files from the listing,
// resuming a cut-off download, refusing a file whose sha256 does not match, and failing fast offline
// with a message that names what to fetch.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalModelMissingError, resolveJudgeFiles } from '../../../src/judge/local/gguf-files.js';
import { DownloadError } from '../../../src/judge/local/hub.js';
import { startFakeHub, type FakeHub } from '../../helpers/fake-hub.js';
import { writeTinyVlm } from '../../helpers/tiny-vlm.js';

let dir: string;
let hub: FakeHub;
let model: Buffer;
let mmproj: Buffer;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'arr-hub-'));
  const tiny = writeTinyVlm(join(dir, 'src'));
  model = readFileSync(tiny.model);
  mmproj = readFileSync(tiny.mmproj);
  hub = await startFakeHub({
    'acme/Tiny-VL-GGUF': [
      { path: 'Tiny-VL-Q4_K_M.gguf', bytes: model },
      { path: 'Tiny-VL-Q8_0.gguf', bytes: Buffer.from('another quant') },
      { path: 'mmproj-Tiny-VL-Q8_0.gguf', bytes: Buffer.from('a projector we do not prefer') },
      { path: 'mmproj-Tiny-VL-F16.gguf', bytes: mmproj },
    ],
    'acme/Bad-GGUF': [
      { path: 'Bad-Q4_K_M.gguf', bytes: model, sha256: 'f'.repeat(64) },
      { path: 'mmproj-Bad-F16.gguf', bytes: mmproj },
    ],
  });
});
afterAll(async () => {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

const envFor = (name: string, endpoint = hub.url) => ({ HF_ENDPOINT: endpoint, ARR_MODELS_DIR: join(dir, name) });
const settings = (model: string) => ({ model, mmproj: null, quant: 'Q4_K_M' });

describe('model files from the Hub', () => {
  it('picks the quant and the F16 projector from the listing, resumes a cut-off download and verifies it', async () => {
    const env = envFor('resume');
    hub.cutAfter.set('Tiny-VL-Q4_K_M.gguf', 100_000);
    const progress: number[] = [];
    const first = await resolveJudgeFiles(settings('hf://acme/Tiny-VL-GGUF'), {
      env,
      onProgress: (p) => progress.push(p.done),
    }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(DownloadError);
    expect((first as Error).message).toMatch(/stopped at .* run the command again to resume/);
    const final = join(env.ARR_MODELS_DIR, 'acme', 'Tiny-VL-GGUF', 'Tiny-VL-Q4_K_M.gguf');
    expect(existsSync(final)).toBe(false); // never half-used: only the .part file exists
    expect(existsSync(`${final}.part`)).toBe(true);

    const files = await resolveJudgeFiles(settings('hf://acme/Tiny-VL-GGUF'), {
      env,
      onProgress: (p) => progress.push(p.done),
    });
    expect(files.model.name).toBe('Tiny-VL-Q4_K_M.gguf');
    expect(files.mmproj.name).toBe('mmproj-Tiny-VL-F16.gguf');
    expect(readFileSync(files.model.path).equals(model)).toBe(true);
    const resumed = hub.requests.filter(
      (r) => r.includes('/resolve/main/Tiny-VL-Q4_K_M.gguf') && /bytes=[1-9]\d*-/.test(r),
    );
    expect(resumed.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toBeGreaterThan(0);

    // Once downloaded, an offline machine still has them (their verified hash is kept beside them).
    const offline = await resolveJudgeFiles(settings('hf://acme/Tiny-VL-GGUF'), {
      env: envFor('resume', 'http://127.0.0.1:1'),
    });
    expect(offline.model.sha256).toBe(files.model.sha256);
  });

  it('cuts a stalled download after ARR_DOWNLOAD_STALL_S instead of hanging, and resumes it', async () => {
    const env = envFor('stall');
    hub.stallAfter.set('Tiny-VL-Q4_K_M.gguf', 50_000);
    process.env.ARR_DOWNLOAD_STALL_S = '1';
    try {
      const started = Date.now();
      await expect(resolveJudgeFiles(settings('hf://acme/Tiny-VL-GGUF'), { env })).rejects.toThrow(
        /no data for 1 s; run the command again to resume/,
      );
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      delete process.env.ARR_DOWNLOAD_STALL_S;
    }
    const files = await resolveJudgeFiles(settings('hf://acme/Tiny-VL-GGUF'), { env });
    expect(readFileSync(files.model.path).equals(model)).toBe(true);
  });

  it('refuses a file that does not match the sha256 the Hub lists, and keeps nothing of it', async () => {
    const env = envFor('bad');
    await expect(resolveJudgeFiles(settings('hf://acme/Bad-GGUF'), { env })).rejects.toThrow(
      /does not match the Hub's sha256/,
    );
    const dirOf = join(env.ARR_MODELS_DIR, 'acme', 'Bad-GGUF');
    expect(existsSync(join(dirOf, 'Bad-Q4_K_M.gguf'))).toBe(false);
    expect(existsSync(join(dirOf, 'Bad-Q4_K_M.gguf.part'))).toBe(false);
  });

  it('offline, fails within seconds naming the repository, the file patterns, ARR_MODELS_DIR and the settings', async () => {
    const env = envFor('offline', 'http://127.0.0.1:1');
    const started = Date.now();
    const error = (await resolveJudgeFiles(settings('hf://acme/Tiny-VL-GGUF'), { env }).catch(
      (e: unknown) => e,
    )) as LocalModelMissingError;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(LocalModelMissingError);
    expect(error.message).toContain('acme/Tiny-VL-GGUF');
    expect(error.message).toContain('*Q4_K_M.gguf');
    expect(error.message).toContain('mmproj*.gguf');
    expect(error.message).toContain(env.ARR_MODELS_DIR);
    expect(error.hint).toMatch(/judge\.local\.model \/ judge\.local\.mmproj/);
  });

  it('offline with no listing, uses files copied by hand into ARR_MODELS_DIR', async () => {
    const env = envFor('by-hand', 'http://127.0.0.1:1');
    const dirOf = join(env.ARR_MODELS_DIR, 'acme', 'Hand-GGUF');
    mkdirSync(dirOf, { recursive: true });
    writeFileSync(join(dirOf, 'Hand-Q4_K_M.gguf'), model);
    writeFileSync(join(dirOf, 'mmproj-Hand-F16.gguf'), mmproj);
    const files = await resolveJudgeFiles(settings('hf://acme/Hand-GGUF'), { env });
    expect(files.model.name).toBe('Hand-Q4_K_M.gguf');
    expect(files.mmproj.name).toBe('mmproj-Hand-F16.gguf');
    expect(files.model.sha256).toBe(createHash('sha256').update(model).digest('hex'));
  });

  it('offline with a cached listing, names the exact files and their sizes', async () => {
    const env = envFor('listed');
    await resolveJudgeFiles(settings('hf://acme/Tiny-VL-GGUF'), { env, pull: false }).catch(() => undefined); // lists, downloads nothing
    const error = (await resolveJudgeFiles(settings('hf://acme/Tiny-VL-GGUF'), {
      env: { ...env, HF_ENDPOINT: 'http://127.0.0.1:1' },
    }).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(LocalModelMissingError);
    expect(error.message).toMatch(/Tiny-VL-Q4_K_M\.gguf \(0\.4 MiB\)/);
    expect(error.message).toMatch(/mmproj-Tiny-VL-F16\.gguf \(0\.1 MiB\)/);
  });
});
