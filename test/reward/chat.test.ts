// The service's OpenAI-compatible endpoint, called the way an unchanged reference trainer calls its
// judge: the openai SDK with base_url = <service>/v1 and the run's token as the API key.
import OpenAI from 'openai';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRewardService, type RewardService, type RewardServiceOptions } from '../../src/reward/service.js';
import { loadValidExperiment } from '../../src/manifest/valid.js';
import { startSimVlm, type SimVlm } from '../helpers/sim-vlm.js';
import { makeWorkspace, type TestWorkspace } from '../helpers/workspace.js';

const TOKEN = 'chat-token-0123456789';
let ws: TestWorkspace;
let sim: SimVlm;
let manifests = 0;
const services: RewardService[] = [];

async function dataUrl(level: number, size: number): Promise<string> {
  const png = await sharp({
    create: { width: size, height: size, channels: 3, background: { r: level, g: level, b: level } },
  })
    .png()
    .toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

async function serve(options: Partial<RewardServiceOptions> = {}, judgeYaml = ''): Promise<RewardService> {
  const name = `chat-${manifests++}`;
  ws.write(
    `experiments/${name}.yaml`,
    `task: t2i\nrubric: { from: ../rubrics/r.txt }\njudge:\n  base_url: ${sim.url}\n  image_max_side: 64\n  retries: 0\n  reasks: 0\n${judgeYaml}`,
  );
  const { experiment } = await loadValidExperiment({ experiment: name, workspaceRoot: ws.root }, { checkData: false });
  const service = await startRewardService({
    experiment,
    workspaceRoot: ws.root,
    rubric: 'Rubric 1:\nTheme: x\n- Tip1: y\n',
    token: TOKEN,
    ...options,
  });
  services.push(service);
  return service;
}

/** A judge as the reference builds it: base_url from judge.yaml, key from ${ARR_REWARD_TOKEN}. */
const judgeClient = (service: RewardService, apiKey = TOKEN) =>
  new OpenAI({ baseURL: `${service.url}/v1`, apiKey, maxRetries: 0 });

/** The reference's layout: images first, each after its label, the prompt text last (docs/architecture.md, "Image blocks in a judge request"). */
async function referenceMessages(): Promise<OpenAI.Chat.ChatCompletionMessageParam[]> {
  return [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'Image 1:' },
        { type: 'image_url', image_url: { url: await dataUrl(40, 512) } },
        { type: 'text', text: 'Image 2:' },
        { type: 'image_url', image_url: { url: await dataUrl(230, 512) } },
        { type: 'text', text: 'Rank the 2 generated images. Caption: a lamp. Output {"rank": [...], "reason": "..."}' },
      ],
    },
  ];
}

beforeAll(async () => {
  ws = makeWorkspace();
  sim = await startSimVlm({});
});
afterAll(async () => {
  await Promise.all(services.map((s) => s.close()));
  await sim.close();
  ws.cleanup();
});

describe('OpenAI-compatible endpoint (/v1/chat/completions, /v1/models)', () => {
  it("answers the openai SDK with the judge's raw completion, downscaling images and counting it under chat", async () => {
    const service = await serve();
    const client = judgeClient(service);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['Qwen/Qwen3-VL-8B-Instruct']);

    const before = sim.requests.length;
    const completion = await client.chat.completions.create({
      model: 'Qwen/Qwen3-VL-8B-Instruct',
      messages: await referenceMessages(),
      temperature: 0,
      response_format: { type: 'json_object' },
      // The reference's Qwen switch, sent through extra_body by the Python SDK.
      ...({ enable_thinking: false } as object),
    });
    const answer = JSON.parse(completion.choices[0].message.content!);
    expect(answer.rank).toEqual([2, 1]); // the brighter second image wins
    expect(sim.requests.length).toBe(before + 1);
    const seen = sim.requests.at(-1)!;
    // Forwarded as sent (same text, same options), with each image re-encoded to judge.image_max_side.
    expect(seen.prompt).toContain('Caption: a lamp.');
    expect(seen.images.map((i) => [i.width, i.height])).toEqual([
      [64, 64],
      [64, 64],
    ]);
    expect(seen.body).toMatchObject({
      temperature: 0,
      response_format: { type: 'json_object' },
      enable_thinking: false,
    });

    const stats = (await (
      await fetch(`${service.url}/v1/stats`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as any;
    expect(stats.chat).toMatchObject({ requests: 1, completions: 1, failures: 0, disconnects: 0 });
    expect(stats.chat.latencyMs.samples).toBe(1);
    expect(stats.items).toBe(0); // the rewards counters stay apart
    expect(stats.judge.calls).toBe(1);
  });

  it('applies the service limits: token, body size, refused keys, text size, streaming, non-data images', async () => {
    const service = await serve({ limits: { maxBodyBytes: 4_000, maxChatTextChars: 1_000 } });
    const calls = sim.requests.length;
    const status = async (p: Promise<unknown>) => {
      try {
        await p;
        return 200;
      } catch (error) {
        expect(error).toBeInstanceOf(OpenAI.APIError);
        return (error as InstanceType<typeof OpenAI.APIError>).status;
      }
    };
    const text = (t: string): OpenAI.Chat.ChatCompletionMessageParam[] => [{ role: 'user', content: t }];
    expect(
      await status(judgeClient(service, 'wrong').chat.completions.create({ model: 'm', messages: text('hi') })),
    ).toBe(401);
    expect(
      await status(judgeClient(service).chat.completions.create({ model: 'm', messages: text('x'.repeat(5_000)) })),
    ).toBe(413); // body over 4 kB
    expect(
      await status(judgeClient(service).chat.completions.create({ model: 'm', messages: text('x'.repeat(2_000)) })),
    ).toBe(413); // text over 1 000 characters
    expect(service.stats().refused[413]).toBe(2);
    expect(
      await status(judgeClient(service).chat.completions.create({ model: 'm', messages: text('hi'), stream: true })),
    ).toBe(400);
    expect(
      await status(
        judgeClient(service).chat.completions.create({
          model: 'm',
          messages: [
            { role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://example.com/a.png' } }] },
          ],
        }),
      ),
    ).toBe(400);
    const polluted = await fetch(`${service.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: '{"model":"m","messages":[{"role":"user","content":"hi"}],"__proto__":{"polluted":true}}',
    });
    expect(polluted.status).toBe(400);
    expect(((await polluted.json()) as { error: string }).error).toContain('"__proto__" is refused');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const latin1 = await fetch(`${service.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: Buffer.concat([
        Buffer.from('{"model":"m","messages":[{"role":"user","content":"caf'),
        Buffer.from([0xe9]),
        Buffer.from('"}]}'),
      ]),
    });
    expect(latin1.status).toBe(400);
    expect(((await latin1.json()) as { error: string }).error).toBe('body: not valid UTF-8');
    expect(sim.requests.length).toBe(calls); // nothing refused reached the judge
    expect(service.stats().chat.completions).toBe(0);
  });

  it('passes a judge failure on as 502, counted as a chat failure', async () => {
    const service = await serve({}, '  timeout_s: 1\n');
    sim.setOptions({ faults: [{ kind: '500' }] });
    try {
      const error = await judgeClient(service)
        .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
      expect(service.stats().chat.failures).toBe(1);
      expect(service.stats().failures).toBe(0);
    } finally {
      sim.setOptions({ faults: [] });
    }
  });
});
