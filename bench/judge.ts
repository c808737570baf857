// Judge client throughput and CPU against the simulated VLM (run: npx tsx bench/judge.ts).
// Figures (issue #3): ≥ 90% of the ideal throughput (concurrency / latency) for 2,000 requests with
// cached images; client CPU ≤ 1 ms per request.
import { execa } from 'execa';
import { join } from 'node:path';
import sharp from 'sharp';
import { parseRankAnswer } from '../src/judge/answers.js';
import { JudgeClient } from '../src/judge/client.js';
import { ImageEncoder } from '../src/judge/images/encoder.js';
import { Limiter } from '../src/judge/limiter.js';
import { gradingMessage } from '../src/judge/prompts.js';

const LATENCY_MS = 100;
const CONCURRENCY = 32;
const REQUESTS = 2_000;

const server = execa('node', ['--import', 'tsx', join(import.meta.dirname, 'sim-server.ts'), String(LATENCY_MS)], {
  stdout: 'pipe',
  stderr: 'inherit',
});
const url = await new Promise<string>((resolve) =>
  server.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim().split('\n')[0])),
);

const encoder = new ImageEncoder({ maxSide: 768 });
const noise = (seed: number) => {
  const side = Number(process.env.SIDE ?? 512);
  const raw = Buffer.alloc(side * side * 3);
  let s = seed;
  for (let i = 0; i < raw.length; i++) raw[i] = ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) & 255;
  return sharp(raw, { raw: { width: side, height: side, channels: 3 } })
    .png()
    .toBuffer();
};
const [a, b] = await Promise.all([noise(1), noise(2)]);
const images = await Promise.all(
  [a, b].map((png) =>
    encoder.encode({ kind: 'data', url: `data:image/png;base64,${png.toString('base64')}`, mime: 'image/png' }),
  ),
);

const client = new JudgeClient(
  {
    model: 'Qwen/Qwen3-VL-8B-Instruct',
    baseUrls: [url],
    apiKey: undefined,
    provider: 'vllm',
    temperature: 0,
    maxTokens: 256,
    timeoutS: 30,
    retries: 2,
    reasks: 0,
    concurrency: CONCURRENCY,
    imageMaxSide: 768,
    maxCalls: null,
    maxCost: null,
    prices: { input_per_mtok: null, output_per_mtok: null },
  },
  { limiter: new Limiter(CONCURRENCY) },
);
await client.preflight();

const request = (i: number) => ({
  turns: [
    {
      role: 'user' as const,
      content: gradingMessage({
        task: 't2i',
        mode: 'listwise',
        language: 'en',
        query: `request ${i}`,
        taskDescription: '',
        rubric: undefined,
        base: undefined,
        candidates: images,
        minScore: 1,
        maxScore: 5,
      }),
    },
  ],
  answer: { kind: 'rank' as const, n: 2 },
});
// Warm up connections and the JIT, then measure.
await Promise.all(
  Array.from({ length: CONCURRENCY }, (_, i) => client.ask(request(-i - 1), (r) => parseRankAnswer(r, 2))),
);

const cpuBefore = process.cpuUsage();
const started = performance.now();
// As evaluate() drives it: as many workers as the concurrency limit, each asking in turn.
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < REQUESTS) {
      const i = next++;
      await client.ask(request(i), (r) => parseRankAnswer(r, 2));
    }
  }),
);
const wallS = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
server.kill('SIGTERM');
await server.catch(() => {});

const ideal = CONCURRENCY / (LATENCY_MS / 1000);
const rate = REQUESTS / wallS;
const cpuMsPerRequest = (cpu.user + cpu.system) / 1000 / REQUESTS;
console.log(
  `judge throughput: ${REQUESTS} requests in ${wallS.toFixed(2)} s = ${rate.toFixed(1)} req/s; ideal ${ideal} req/s; ratio ${(rate / ideal).toFixed(3)} (target >= 0.90) ${rate / ideal >= 0.9 ? 'PASS' : 'FAIL'}`,
);
console.log(
  `client CPU per request: ${cpuMsPerRequest.toFixed(3)} ms (target <= 1 ms) ${cpuMsPerRequest <= 1 ? 'PASS' : 'FAIL'}; payload ${images.reduce((n, i) => n + i.url.length, 0)} data-URL chars per request`,
);
if (process.env.PARTS) {
  const time = (name: string, f: (i: number) => unknown) => {
    const c0 = process.cpuUsage();
    for (let i = 0; i < REQUESTS; i++) f(i);
    const c = process.cpuUsage(c0);
    console.log(`  ${name}: ${((c.user + c.system) / 1000 / REQUESTS).toFixed(3)} ms`);
  };
  time('gradingMessage', (i) => request(i));
  const reqs = Array.from({ length: REQUESTS }, (_, i) => request(i));
  time('requestKey', (i) => client.requestKey(reqs[i]));
  time('body', (i) => (client as any).body(reqs[i].turns, reqs[i]));
  time('parse', () => parseRankAnswer('{"rank":[1,2],"reason":"mean brightness 120.1 vs 80.2"}', 2));
}
