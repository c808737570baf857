// Every bad input produces its message, and nothing is written to cache/.
import { chmodSync, readdirSync, writeFileSync } from 'node:fs';
import { describe, expect } from 'vitest';
import { InvalidInputError, formatDiagnostic } from '../../src/diagnostics.js';
import { runResolve } from '../../src/targets/resolve.js';
import { test } from '../helpers/fixtures.js';
import { makeWorkspace } from '../helpers/workspace.js';

// Helpers bound to the test's t2i workspace (exp-a over data/t2i).
const it = test.extend<{
  failure: (env?: Record<string, string>) => Promise<string[]>;
  seed: (records: unknown[]) => void;
  manifest: (text: string) => void;
}>({
  failure: async ({ t2iWs: ws }, use) => {
    await use(async (env = {}) => {
      try {
        await runResolve({ experiment: 'exp-a', workspaceRoot: ws.root, env });
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidInputError);
        return (error as InvalidInputError).diagnostics.map((d) => formatDiagnostic(d, ws.root));
      } finally {
        expect(readdirSync(ws.path('cache')), 'cache/ must stay empty').toEqual([]);
      }
      throw new Error('resolve accepted bad input');
    });
  },
  seed: async ({ t2iWs: ws }, use) => {
    await use((records) =>
      writeFileSync(ws.path('data/t2i/seed.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n'),
    );
  },
  manifest: async ({ t2iWs: ws }, use) => {
    await use((text) => writeFileSync(ws.path('experiments/exp-a.yaml'), text));
  },
});

describe('bad input is refused before anything is written', () => {
  it('malformed YAML', async ({ failure, manifest }) => {
    manifest('task: t2i\nrubric:\n  seed: [oops\n');
    expect((await failure())[0]).toMatch(/^experiments\/exp-a\.yaml:\d+:\d+ invalid YAML: /);
  });

  it('a wrong type', async ({ failure, manifest }) => {
    manifest('task: t2i\nrubric: { seed: ../data/t2i/seed.jsonl, per_pair: many }\n');
    expect(await failure()).toEqual(['experiments/exp-a.yaml:2:41 rubric.per_pair: must be an integer']);
  });

  it('an unknown key', async ({ failure, manifest }) => {
    manifest('task: t2i\nrubric: { seed: ../data/t2i/seed.jsonl }\nverfy: {}\n');
    expect(await failure()).toEqual(['experiments/exp-a.yaml:3:1 verfy: unknown key (did you mean verify?)']);
  });

  it('a missing dataset file', async ({ failure, manifest }) => {
    manifest('task: t2i\nrubric:\n  seed: ../data/t2i/nope.jsonl\n');
    expect((await failure())[0]).toMatch(/^experiments\/exp-a\.yaml:3:3 rubric\.seed: file not found: .*nope\.jsonl$/);
  });

  it('an unreadable dataset (a folder where a file should be)', async ({ failure, manifest }) => {
    manifest('task: t2i\nrubric:\n  seed: ../data/t2i/images\n');
    expect((await failure())[0]).toMatch(/^experiments\/exp-a\.yaml:3:3 rubric\.seed: not a file: /);
  });

  it('an extends cycle', async ({ t2iWs: ws, failure }) => {
    ws.write('experiments/base/judge.yaml', 'extends: ../exp-a.yaml\n');
    expect((await failure())[0]).toContain('extends: extends cycle:');
  });

  it('an unset env variable with no default', async ({ failure, manifest }) => {
    manifest('task: t2i\nrubric: { seed: ../data/t2i/seed.jsonl }\njudge:\n  model: ${NO_SUCH_VAR}\n');
    expect(await failure()).toEqual([
      'experiments/exp-a.yaml:4:3 judge.model: environment variable NO_SUCH_VAR is not set and has no default (write ${NO_SUCH_VAR:-value} to give one)',
    ]);
  });

  it('a label_rank whose length differs from the candidate count', async ({ failure, seed }) => {
    seed([{ query: 'q', response: ['images/0.png', 'images/1.png'], label_rank: [1, 2, 3] }]);
    expect(await failure()).toEqual([
      'data/t2i/seed.jsonl:1:57 records[0].label_rank: label_rank has 3 entries but the record has 2 candidate images',
    ]);
  });

  it('a label_rank that is not a permutation', async ({ failure, seed }) => {
    seed([{ query: 'q', response: ['images/0.png', 'images/1.png'], label_rank: [1, 1] }]);
    expect(await failure()).toEqual([
      'data/t2i/seed.jsonl:1:57 records[0].label_rank: label_rank [1, 1] is not a permutation of 1..2',
    ]);
  });

  it('an image that does not exist', async ({ failure, seed }) => {
    seed([{ query: 'q', response: ['images/0.png', 'images/missing.png'], label_rank: [1, 2] }]);
    const [message] = await failure();
    expect(message).toMatch(
      /^data\/t2i\/seed\.jsonl:1:\d+ records\[0\]\.response\[1\]: image not found: .*missing\.png/,
    );
  });

  it('an image outside the allowed roots', async ({ failure, seed }) => {
    const outside = makeWorkspace();
    try {
      seed([{ query: 'q', response: ['images/0.png', outside.path('nx.json')], label_rank: [1, 2] }]);
      const [message] = await failure();
      expect(message).toMatch(
        /^data\/t2i\/seed\.jsonl:1:\d+ records\[0\]\.response\[1\]: .*nx\.json is outside the allowed roots/,
      );
    } finally {
      outside.cleanup();
    }
  });

  it('an image that does not decode', async ({ t2iWs: ws, failure }) => {
    writeFileSync(ws.path('data/t2i/images/1.png'), Buffer.from('\x89PNG\r\n\x1a\nnot really'));
    const [message] = await failure();
    expect(message).toMatch(
      /^data\/t2i\/seed\.jsonl:1:\d+ records\[0\]\.response\[1\]: .*1\.png is not a decodable image/,
    );
  });

  it('a literal secret, without echoing it', async ({ failure, manifest }) => {
    manifest('task: t2i\nrubric: { seed: ../data/t2i/seed.jsonl }\njudge: { api_key: sk-abc-123 }\n');
    const messages = (await failure()).join('\n');
    expect(messages).toContain('judge.api_key: a literal secret is not allowed');
    expect(messages).not.toContain('sk-abc-123');
  });
});

describe('good input', () => {
  it('writes the lock, the stamp and one resolve artifact, and masks the api key', async ({ t2iWs: ws }) => {
    const result = await runResolve({
      experiment: 'exp-a',
      workspaceRoot: ws.root,
      env: { ARR_JUDGE_API_KEY: 'sk-secret-xyz' },
    });
    expect(result.reused).toBe(false);
    expect(readdirSync(ws.path(`cache/artifacts/resolve`))).toEqual([result.key]);
    const lockText = (await import('node:fs')).readFileSync(result.lockFile, 'utf8');
    expect(lockText).not.toContain('sk-secret-xyz');
    expect(JSON.parse(lockText).resolved.judge.api_key).toBe('${ARR_JUDGE_API_KEY} (set)');
    expect(Object.keys(JSON.parse(lockText).inputs)).toContain('rubric.seed:images/0.png');
    const again = await runResolve({ experiment: 'exp-a', workspaceRoot: ws.root });
    expect(again.reused).toBe(true);
    expect(again.key).toBe(result.key);
  });

  it('does not leave the cache poisoned when the dataset becomes unreadable later', async ({ t2iWs: ws, seed }) => {
    await runResolve({ experiment: 'exp-a', workspaceRoot: ws.root });
    chmodSync(ws.path('data/t2i/seed.jsonl'), 0o644);
    seed([{ query: 'q', response: ['images/0.png'], label_rank: [1, 2] }]);
    await expect(runResolve({ experiment: 'exp-a', workspaceRoot: ws.root })).rejects.toThrow(
      /label_rank has 2 entries but the record has 1 candidate image/,
    );
    expect(readdirSync(ws.path('cache/artifacts/resolve'))).toHaveLength(1);
  });
});
