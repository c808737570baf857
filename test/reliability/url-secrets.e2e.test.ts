// Item 4 of the reliability catalogue: a key inside a judge URL (user info or a secret query parameter)
// is refused, from the manifest and from the environment alike, and never reaches a file or the screen.
import { execa } from 'execa';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { judgeSettings } from '../../src/judge/settings.js';
import { loadExperiment } from '../../src/manifest/load.js';
import { runResolve } from '../../src/targets/resolve.js';
import { urlSecret, urlSecretMessage } from '../../src/util/url-secrets.js';
import { it } from '../helpers/fixtures.js';
import { repoRoot, writeT2iExperiment, type TestWorkspace } from '../helpers/workspace.js';

const KEY = 'sk-LEAK-7f3a9c';

const load = (ws: TestWorkspace, env: Record<string, string>) =>
  loadExperiment(ws.path('experiments/exp-a.yaml'), { workspaceRoot: ws.root, env });

/** Every file under the workspace's cache/ whose bytes contain `text`. */
function filesHolding(ws: TestWorkspace, text: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (readFileSync(path).includes(text)) out.push(path);
    }
  };
  walk(ws.path('cache'));
  return out;
}

describe('reliability: credentials in URLs', () => {
  for (const url of [
    `http://user:${KEY}@judge.local/v1`,
    `http://judge.local/v1?api-key=${KEY}`,
    `https://judge.local/v1?model=x&Token=${KEY}`,
  ]) {
    it(`item 4: ARR_JUDGE_URL=${url.replace(KEY, 'KEY')} is refused naming judge.base_url and the variable, never the key`, async ({
      t2iWs: ws,
    }) => {
      const loaded = load(ws, { ARR_JUDGE_URL: url });
      expect(loaded.ok).toBe(false);
      const problem = loaded.diagnostics.find((d) => d.field === 'judge.base_url');
      expect(problem?.message).toContain('its value comes from the variable ARR_JUDGE_URL');
      expect(problem?.message).toContain('judge.api_key');
      expect(JSON.stringify(loaded.diagnostics)).not.toContain(KEY);
      await expect(
        runResolve({ experiment: 'exp-a', workspaceRoot: ws.root, env: { ARR_JUDGE_URL: url } }),
      ).rejects.toThrow(/judge\.base_url/);
      expect(filesHolding(ws, KEY)).toEqual([]);
    });
  }

  it('item 4: a literal key in a manifest URL (any URL-valued field, lists included) is refused at its line', ({
    t2iWs: ws,
  }) => {
    ws.write(
      'experiments/exp-a.yaml',
      readFileSync(ws.path('experiments/exp-a.yaml'), 'utf8') +
        `judge:\n  base_url: [http://ok.local/v1, "http://b.local/v1?access_token=${KEY}"]\n`,
    );
    const loaded = load(ws, {});
    const problem = loaded.diagnostics.find((d) => d.field === 'judge.base_url[1]');
    expect(problem?.message).toMatch(/the secret query parameter access_token/);
    expect(problem?.line).toBeGreaterThan(1);
    expect(JSON.stringify(loaded.diagnostics)).not.toContain(KEY);
  });

  it('item 4: `arr show` prints the refusal and exits 1 without echoing the key', async ({ t2iWs: ws }) => {
    const run = await execa('node', [join(repoRoot, 'bin/arr.mjs'), 'show', 'exp-a'], {
      cwd: ws.root,
      reject: false,
      env: { NO_COLOR: '1', ARR_JUDGE_URL: `http://u:${KEY}@h.local/v1` },
    });
    expect(run.exitCode).toBe(1);
    expect(run.stdout + run.stderr).toContain('judge.base_url');
    expect(run.stdout + run.stderr).not.toContain(KEY);
  }, 60_000);

  it('item 4: the --base-url flag goes through the same check', async ({ t2iWs: ws }) => {
    const loaded = load(ws, {});
    expect(() => judgeSettings(loaded.experiment!, { baseUrl: `http://h.local/v1?sig=${KEY}` })).toThrow(
      /^--base-url: the URL holds the secret query parameter sig/,
    );
  });

  it('item 4: the check is reusable for any URL setting and leaves clean URLs alone', () => {
    expect(urlSecret('s3://bucket/prefix')).toBeUndefined();
    expect(urlSecret('file:///srv/cache')).toBeUndefined();
    expect(urlSecret('http://localhost:8000/v1?model=qwen&keyframe=1')).toBeUndefined();
    expect(urlSecret('a plain sentence with key=1')).toBeUndefined();
    expect(urlSecret('s3://AKIA:secret@bucket/prefix')).toBe('a user name and password before the host');
    expect(urlSecretMessage('ARR_CACHE_REMOTE', `https://cache.local/x?API_KEY=${KEY}`)).toMatch(
      /^ARR_CACHE_REMOTE: the URL holds the secret query parameter API_KEY/,
    );
  });
});
