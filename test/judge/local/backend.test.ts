// The local judge on the real llama.cpp runtime with tiny random-weight GGUFs: the answers mean
// nothing, the plumbing is what is checked (images reach the model, answers parse or are re-asked,
// keys follow the model files, concurrent requests share the parallel slots).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnswerError, parseRankAnswer } from '../../../src/judge/answers.js';
import { JudgeClient, JudgementError, type AskRequest } from '../../../src/judge/client.js';
import { LocalBackend, type LocalJudgeSettings } from '../../../src/judge/local/backend.js';
import { judgeIdentity } from '../../../src/judge/local/gguf-files.js';
import { releaseJudges } from '../../../src/judge/local/runtime.js';
import { Limiter } from '../../../src/judge/limiter.js';
import { gradingMessage } from '../../../src/judge/prompts.js';
import { ResponseCache } from '../../../src/judge/response-cache.js';
import { writeTinyVlm, type TinyVlm } from '../../helpers/tiny-vlm.js';
import { encoder, grey, settings } from '../support.js';

let dir: string;
let tiny: TinyVlm;
let other: TinyVlm;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'arr-local-judge-'));
  tiny = writeTinyVlm(join(dir, 'a'), 1);
  other = writeTinyVlm(join(dir, 'b'), 7);
});
afterAll(async () => {
  await releaseJudges();
  rmSync(dir, { recursive: true, force: true });
});

const local = (t: TinyVlm, patch: Partial<LocalJudgeSettings> = {}): LocalJudgeSettings => ({
  model: t.model,
  mmproj: t.mmproj,
  quant: 'Q4_K_M',
  gpuLayers: 0,
  threads: 2,
  parallel: 4,
  context: 4096,
  ...patch,
});
const env = () => ({ ...process.env, ARR_MODELS_DIR: join(dir, 'models') });

function judge(t: TinyVlm, cache?: string, patch: Partial<LocalJudgeSettings> = {}) {
  const backend = new LocalBackend(local(t, patch), { env: env() });
  const client = new JudgeClient(settings([], { maxTokens: 256, timeoutS: 60, reasks: 1, concurrency: 4 }), {
    backend,
    limiter: new Limiter(4),
    cache: cache ? new ResponseCache(cache) : undefined,
  });
  return { backend, client };
}

async function pairRequest(images = 2, query = 'q'): Promise<AskRequest> {
  const enc = encoder();
  const candidates = await Promise.all(
    [200, 30, 120].slice(0, images).map(async (l) => enc.encode(await grey(l, 300))),
  );
  return {
    turns: [
      {
        role: 'user',
        content: gradingMessage({
          task: 't2i',
          mode: 'listwise',
          language: 'en',
          query,
          taskDescription: '',
          rubric: undefined,
          base: undefined,
          candidates,
          minScore: 1,
          maxScore: 5,
        }),
      },
    ],
    answer: { kind: 'rank', n: images },
  };
}

/** Asks once; a reply the parser refuses after the re-asks is an honest outcome for a random model. */
async function askOnce(client: JudgeClient, request: AskRequest) {
  try {
    return { ok: true as const, result: await client.ask(request, (r) => parseRankAnswer(r, request.answer.n)) };
  } catch (error) {
    expect(error).toBeInstanceOf(JudgementError);
    return { ok: false as const, replies: (error as JudgementError).replies };
  }
}

describe('local backend on llama.cpp', { timeout: 60_000 }, () => {
  it('sends the images through the projector and gets schema-constrained JSON back', async () => {
    const { client, backend } = judge(tiny);
    const outcome = await askOnce(client, await pairRequest(2));
    // The grammar makes every reply a JSON object with the answer's keys, whatever the weights.
    const replies = outcome.ok ? outcome.result.replies : outcome.replies;
    for (const reply of replies) expect(Object.keys(JSON.parse(reply))).toEqual(['rank', 'reason']);
    expect(client.usage.calls).toBe(replies.length);
    const loaded = await backend.loaded();
    expect(loaded.gpuLayers).toBe(0);
    expect(loaded.variant).toBe('default');

    // Each image adds its projector tokens (16 patches of the tiny encoder) to the prompt.
    const before = client.usage.promptTokens / client.usage.calls;
    const { client: three } = judge(tiny);
    await askOnce(three, await pairRequest(3));
    expect(three.usage.promptTokens / three.usage.calls).toBeGreaterThanOrEqual(before + 16);
  });

  it('loads a model once per process and carries concurrent requests on the parallel slots', async () => {
    const a = judge(tiny);
    const b = judge(tiny);
    const [ja, jb] = await Promise.all([a.backend.loaded(), b.backend.loaded()]);
    expect(ja).toBe(jb);
    const requests = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => pairRequest(2, `query ${i}`)));
    const outcomes = await Promise.all(requests.map((r) => askOnce(a.client, r)));
    expect(outcomes).toHaveLength(6);
    expect(a.client.usage.calls).toBeGreaterThanOrEqual(6);
  });

  it('keys requests by the model files: another file is another judge, the same file hits the cache', async () => {
    const cache = join(dir, 'cache');
    const first = judge(tiny, cache);
    const request = await pairRequest(2, 'cached?');
    const one = await askOnce(first.client, request);
    const second = judge(tiny, cache);
    await second.client.ready();
    const again = await askOnce(second.client, request);
    if (one.ok && again.ok) {
      expect(again.result.cached).toBe(true);
      expect(second.client.usage.calls).toBe(0);
    }
    const changed = judge(other, cache);
    await changed.client.ready();
    expect(changed.client.requestKey(request)).not.toBe(second.client.requestKey(request));
    expect(second.client.requestKey(request)).toBe(first.client.requestKey(request));
    expect(judgeIdentity(await first.backend.files())).toMatch(/^gguf:[0-9a-f]{64}\+[0-9a-f]{64}$/);
  });

  it('re-asks a reply that parses as JSON but breaks the answer rules, then fails with every reply kept', async () => {
    const { client } = judge(tiny);
    const request = await pairRequest(2, 'strict');
    const refuse = (reply: string) => {
      throw new AnswerError('never good enough', reply);
    };
    const error = await client.ask(request, refuse).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JudgementError);
    expect((error as JudgementError).replies).toHaveLength(2);
    expect(client.usage.reasks).toBe(1);
  });

  it('names a projector that does not fit the model', async () => {
    const { client } = judge(tiny, undefined, { mmproj: tiny.model, parallel: 2 });
    await expect(client.ask(await pairRequest(2), (r) => r)).rejects.toThrow(/could not use the projector/);
  });
});
