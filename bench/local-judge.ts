// The local judge's own overhead: milliseconds and CPU per call of our path (client, cache off, image
// files, schema) against a bare @fugood/llama.node completion loop on the same model and images, at
// parallel 1 and 4. Run: npx tsx bench/local-judge.ts [model.gguf mmproj.gguf] (default: the tiny test
// model; on it the absolute added milliseconds are the figure, the ratio matters on a real model).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadModel } from '@fugood/llama.node';
import { answerSchema, parseRankAnswer } from '../src/judge/answers.js';
import { JudgeClient, JudgementError } from '../src/judge/client.js';
import { ImageEncoder } from '../src/judge/images/encoder.js';
import { LocalBackend } from '../src/judge/local/backend.js';
import { ImageFiles } from '../src/judge/local/image-files.js';
import { releaseJudges } from '../src/judge/local/runtime.js';
import { Limiter } from '../src/judge/limiter.js';
import { gradingMessage } from '../src/judge/prompts.js';
import { writeTinyVlm } from '../test/helpers/tiny-vlm.js';

const CALLS = Number(process.env.CALLS ?? 24);
const THREADS = Number(process.env.THREADS ?? 2);
const MAX_TOKENS = Number(process.env.MAX_TOKENS ?? 64);
const tmp = mkdtempSync(join(tmpdir(), 'arr-bench-local-'));
const [modelPath, mmprojPath] = process.argv[2]
  ? [process.argv[2], process.argv[3]]
  : Object.values(writeTinyVlm(join(tmp, 'tiny')));

const noise = async (seed: number) => {
  const side = 512;
  const raw = Buffer.alloc(side * side * 3);
  let s = seed;
  for (let i = 0; i < raw.length; i++) raw[i] = ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) & 255;
  return sharp(raw, { raw: { width: side, height: side, channels: 3 } })
    .png()
    .toBuffer();
};
const encoder = new ImageEncoder({ maxSide: 768 });
const images = await Promise.all(
  [1, 2].map(async (seed) =>
    encoder.encode({
      kind: 'data',
      url: `data:image/png;base64,${(await noise(seed)).toString('base64')}`,
      mime: 'image/png',
    }),
  ),
);
const files = new ImageFiles(join(tmp, 'images'));
const paths = await Promise.all(images.map((i) => files.path(i)));
const blocks = gradingMessage({
  task: 't2i',
  mode: 'listwise',
  language: 'en',
  query: 'a red circle',
  taskDescription: '',
  rubric: undefined,
  base: undefined,
  candidates: images,
  minScore: 1,
  maxScore: 5,
});
const schema = answerSchema('rank', 2);

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
async function measure(run: () => Promise<void>): Promise<{ wallPerCall: number; cpuPerCall: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run();
  return { wallPerCall: (performance.now() - t0) / CALLS, cpuPerCall: cpuMs(process.cpuUsage(cpu0)) / CALLS };
}
async function inBatches(parallel: number, one: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < CALLS) await one(next++);
    }),
  );
}

// Load time and memory of the model alone (first load in this process, model + projector + KV cache).
{
  const rss0 = process.memoryUsage().rss;
  const loaded = await new LocalBackend(
    {
      model: modelPath,
      mmproj: mmprojPath,
      quant: 'Q4_K_M',
      gpuLayers: 0,
      threads: THREADS,
      parallel: 4,
      context: 8192,
    },
    { env: { ...process.env, ARR_MODELS_DIR: join(tmp, 'models') } },
  ).loaded();
  console.log(
    `load: ${loaded.loadMs} ms (model + projector + parallel slots), resident memory +${((process.memoryUsage().rss - rss0) / 2 ** 20).toFixed(1)} MiB at parallel 4, context 8192`,
  );
  await releaseJudges();
}

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows: string[] = [];
for (const parallel of [1, 4]) {
  // Bare: the runtime's own parallel API with the same messages, files and schema.
  const ctx = await loadModel({
    model: modelPath,
    n_ctx: 8192 * parallel,
    n_parallel: parallel,
    n_threads: THREADS,
    n_gpu_layers: 0,
    kv_unified: true,
    ctx_shift: false,
  });
  await ctx.initMultimodal({ path: mmprojPath, use_gpu: false });
  await ctx.parallel.enable({ n_parallel: parallel });
  const content = blocks.map((b) =>
    b.type === 'text'
      ? { type: 'text', text: b.text }
      : { type: 'image_url', image_url: { url: paths[images.indexOf(b.image)] } },
  );
  const bareOne = async () => {
    const job = await ctx.parallel.completion({
      messages: [{ role: 'user', content }],
      jinja: false,
      response_format: { type: 'json_schema', json_schema: { schema } },
      n_predict: MAX_TOKENS,
      temperature: 0,
    } as never);
    await job.promise;
  };

  // Ours: the judge client with the local backend (response cache off), same model and images.
  const backend = new LocalBackend(
    { model: modelPath, mmproj: mmprojPath, quant: 'Q4_K_M', gpuLayers: 0, threads: THREADS, parallel, context: 8192 },
    { images: files, env: { ...process.env, ARR_MODELS_DIR: join(tmp, 'models') } },
  );
  const client = new JudgeClient(
    {
      model: 'local',
      baseUrls: [],
      apiKey: undefined,
      provider: 'auto',
      temperature: 0,
      maxTokens: MAX_TOKENS,
      timeoutS: 600,
      retries: 0,
      reasks: 0,
      concurrency: parallel,
      imageMaxSide: 768,
      maxCalls: null,
      maxCost: null,
      prices: { input_per_mtok: null, output_per_mtok: null },
    },
    { backend, limiter: new Limiter(parallel) },
  );
  const oursOne = async (i: number) => {
    await client
      .ask(
        { turns: [{ role: 'user', content: blocks }], answer: { kind: 'rank', n: 2 }, sample: i },
        (r) => parseRankAnswer(r, 2),
        { noCache: true },
      )
      .catch((e: unknown) => {
        if (!(e instanceof JudgementError)) throw e;
      });
  };
  await client.preflight();
  await bareOne();
  await oursOne(-1);
  // Rounds alternate between the two so that a change in machine load hits both alike.
  const bare: { wallPerCall: number; cpuPerCall: number }[] = [];
  const ours: { wallPerCall: number; cpuPerCall: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    bare.push(await measure(() => inBatches(parallel, bareOne)));
    ours.push(await measure(() => inBatches(parallel, oursOne)));
  }
  await ctx.release();
  await releaseJudges();
  const b = { wall: median(bare.map((m) => m.wallPerCall)), cpu: median(bare.map((m) => m.cpuPerCall)) };
  const o = { wall: median(ours.map((m) => m.wallPerCall)), cpu: median(ours.map((m) => m.cpuPerCall)) };
  rows.push(
    `parallel ${parallel}: bare ${b.wall.toFixed(1)} ms/call (CPU ${b.cpu.toFixed(1)} ms), ours ${o.wall.toFixed(1)} ms/call (CPU ${o.cpu.toFixed(1)} ms); ` +
      `added ${(o.wall - b.wall).toFixed(1)} ms/call (CPU ${(o.cpu - b.cpu).toFixed(1)} ms), ratio ${(o.wall / b.wall).toFixed(3)} (medians of ${ROUNDS} alternating rounds)`,
  );
}
console.log(`model ${modelPath}, ${CALLS} calls per run, ${THREADS} threads, max_tokens ${MAX_TOKENS}`);
for (const r of rows) console.log(r);
rmSync(tmp, { recursive: true, force: true });
