// Reward service latency and throughput against the simulated VLM (run: npx tsx bench/reward.ts).
// Figures (issue: reward service): 64 concurrent clients sending single-item requests for ~10 s with
// judge.concurrency 64 and a 100 ms judge; the service adds ≤ 5 ms at the median over the judge's own
// latency; throughput ≥ 90% of the ideal 64 / 0.1 s; a burst beyond the queue limit is refused with
// 503 + Retry-After while the requests it accepted succeed.
import { execa } from 'execa';
import { mkdirSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import sharp from 'sharp';
import { gradeItem } from '../src/judge/grade.js';
import { openJudge } from '../src/judge/session.js';
import { startRewardService } from '../src/reward/service.js';
import { loadValidExperiment } from '../src/manifest/valid.js';
import { makeWorkspace, writePng } from '../test/helpers/workspace.js';

const LATENCY_MS = 100;
const CLIENTS = 64;
const DURATION_S = Number(process.env.DURATION_S ?? 10);
const MAX_QUEUE = 256;
const BURST = 400;
const TOKEN = 'bench-token';

export interface Answer {
  status: number;
  retryAfter?: string;
  /** The service's own measure of the time spent judging (Server-Timing judge;dur). */
  judgeMs?: number;
  totalMs?: number;
  body: string;
  ms: number;
}

function clients(url: string, bright: string, dark: string) {
  const { hostname, port } = new URL(url);
  let serial = 0;
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  function post(query: string): Promise<Answer> {
    const body = JSON.stringify({ items: [{ query, images: [bright, dark] }] });
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: hostname,
          port,
          path: '/v1/rewards',
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            authorization: `Bearer ${TOKEN}`,
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (text += d));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              retryAfter: res.headers['retry-after'] as string | undefined,
              judgeMs: Number(/judge;dur=([\d.]+)/.exec(String(res.headers['server-timing']))?.[1]),
              totalMs: Number(/total;dur=([\d.]+)/.exec(String(res.headers['server-timing']))?.[1]),
              body: text,
              ms: performance.now() - t0,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  async function steady(seconds: number, record: boolean) {
    const times: number[] = [];
    const overheads: number[] = [];
    const inside: number[] = [];
    const statuses: Record<number, number> = {};
    let wrong = 0;
    const end = performance.now() + seconds * 1000;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (performance.now() < end) {
          const a = await post(`service ${serial++}`);
          statuses[a.status] = (statuses[a.status] ?? 0) + 1;
          if (a.status === 200) {
            if (JSON.parse(a.body).results[0].rewards.join() !== '1,-0.1') wrong++;
            if (record) times.push(a.ms);
            if (record) overheads.push(a.ms - a.judgeMs!);
            if (record) inside.push(a.totalMs! - a.judgeMs!);
          }
        }
      }),
    );
    return { times, overheads, inside, statuses, wrong, wallS: (performance.now() - t0) / 1000 };
  }
  return { post, steady, agent };
}

// Client mode: the 64 trainers' clients run in their own process, as trainers do, so their CPU and
// event loop are not the service's. Prints the steady-phase result as JSON.
if (process.argv[2] === 'clients') {
  const [, , , url, seconds, warm, bright, dark] = process.argv;
  const { steady, agent } = clients(url, bright, dark);
  await steady(Number(warm), false);
  const cpu0 = process.cpuUsage();
  const result = await steady(Number(seconds), true);
  const cpu = process.cpuUsage(cpu0);
  const summary = { ...result, cpuMs: (cpu.user + cpu.system) / 1000 };
  agent.destroy();
  await new Promise<void>((resolve) => process.stdout.write(JSON.stringify(summary) + '\n', () => resolve()));
}

if (process.argv[2] !== 'clients') await main();

async function main(): Promise<void> {
  const server = execa('node', ['--import', 'tsx', join(import.meta.dirname, 'sim-server.ts'), String(LATENCY_MS)], {
    stdout: 'pipe',
    stderr: 'inherit',
  });
  const simUrl = await new Promise<string>((resolve) =>
    server.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim().split('\n')[0])),
  );

  const ws = makeWorkspace();
  const side = Number(process.env.SIDE ?? 512);
  const raw = (seed: number, level: number) => {
    const buf = Buffer.alloc(side * side * 3);
    let s = seed;
    for (let i = 0; i < buf.length; i++)
      buf[i] = Math.min(255, level + (((s = (s * 1103515245 + 12345) >>> 0) >>> 16) & 31));
    return sharp(buf, { raw: { width: side, height: side, channels: 3 } })
      .png()
      .toFile(ws.path(`images/${seed}.png`));
  };
  mkdirSync(ws.path('images'), { recursive: true });
  await raw(1, 200);
  await raw(2, 40);
  await writePng(ws.path('images/unused.png'), 3);
  const [bright, dark] = [ws.path('images/1.png'), ws.path('images/2.png')];
  ws.write('rubrics/r.txt', 'Rubric 1:\nTheme: Brightness\n- Tip1: the brighter image is better.\n');
  ws.write(
    'experiments/bench.yaml',
    `task: t2i\nrubric: { from: ../rubrics/r.txt }\njudge:\n  base_url: ${simUrl}\n  concurrency: ${CLIENTS}\n  reasks: 0\n`,
  );
  const { experiment } = await loadValidExperiment(
    { experiment: 'bench', workspaceRoot: ws.root },
    { checkData: false },
  );
  const rubric = 'Rubric 1:\nTheme: Brightness\n- Tip1: the brighter image is better.\n';
  const judge = openJudge(experiment, ws.root);
  await judge.client.preflight();

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)];
  let serial = 0;
  // 1. The judge's own latency: gradeItem called directly, as many workers as clients, no service.
  async function direct(seconds: number): Promise<number[]> {
    const times: number[] = [];
    const end = performance.now() + seconds * 1000;
    const options = {
      task: 't2i' as const,
      mode: 'pairwise' as const,
      language: experiment.rubric.language,
      taskDescription: '',
      rubric,
      bothOrders: false,
      minScore: 1,
      maxScore: 5,
      noCache: true,
    };
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (performance.now() < end) {
          const t0 = performance.now();
          const g = await gradeItem(
            {
              index: 0,
              query: `direct ${serial++}`,
              candidates: [
                { kind: 'file', path: bright },
                { kind: 'file', path: dark },
              ],
              meta: {},
            },
            options,
            judge,
          );
          if (g.verdict !== 'single') throw new Error(`direct judgement ${g.verdict}`);
          times.push(performance.now() - t0);
        }
      }),
    );
    return times;
  }
  await direct(1); // warm: images encoded and cached, connections open, JIT
  const baselineS = Math.min(5, DURATION_S);
  const baseline = await direct(baselineS);

  // 2. The same through the service: 64 clients, single-item requests, keep-alive connections.
  const service = await startRewardService({
    experiment,
    workspaceRoot: ws.root,
    rubric,
    token: TOKEN,
    judge,
    limits: { maxQueue: MAX_QUEUE },
  });
  const { post, steady, agent } = clients(service.url, bright, dark);
  // The clients run in their own process (as trainers do); this process holds the service and the judge client.
  const cpu0 = process.cpuUsage();
  const clientRun = await execa(
    'node',
    ['--import', 'tsx', import.meta.filename, 'clients', service.url, String(DURATION_S), '1', bright, dark],
    { stderr: 'inherit' },
  );
  const cpu = process.cpuUsage(cpu0);
  const run = JSON.parse(clientRun.stdout.trim().split('\n').at(-1)!) as Awaited<ReturnType<typeof steady>> & {
    cpuMs: number;
  };
  const ok = run.statuses[200] ?? 0;
  const rate = ok / run.wallS;
  const ideal = CLIENTS / (LATENCY_MS / 1000);
  const added = median(run.times) - median(baseline);
  console.log(
    `judge alone (gradeItem, ${CLIENTS} workers): median ${median(baseline).toFixed(2)} ms, p95 ${p95(baseline).toFixed(2)} ms over ${baseline.length} judgements`,
  );
  console.log(
    `through the service: median ${median(run.times).toFixed(2)} ms, p95 ${p95(run.times).toFixed(2)} ms over ${run.times.length} requests; statuses ${JSON.stringify(run.statuses)}; wrong rewards ${run.wrong}`,
  );
  const perRequest = median(run.overheads);
  console.log(
    `service added latency, per request (client-observed minus the service's judge time), median ${perRequest.toFixed(2)} ms, p95 ${p95(run.overheads).toFixed(2)} ms (target <= 5 ms at the median) ${perRequest <= 5 ? 'PASS' : 'FAIL'}; of which inside the handler (body, checks, reply) median ${median(run.inside).toFixed(2)} ms`,
  );
  console.log(`service median minus judge-alone median (two runs, sensitive to machine load): ${added.toFixed(2)} ms`);
  const aloneRate = baseline.length / baselineS;
  console.log(
    `throughput: ${ok} requests in ${run.wallS.toFixed(2)} s = ${rate.toFixed(1)} req/s; ideal ${ideal} req/s; ratio ${(rate / ideal).toFixed(3)} (target >= 0.90) ${rate / ideal >= 0.9 ? 'PASS' : 'FAIL'}; judge alone ${aloneRate.toFixed(1)} req/s (ratio ${(aloneRate / ideal).toFixed(3)}), service/judge-alone ${(rate / aloneRate).toFixed(3)}`,
  );
  console.log(
    `CPU per request: service + judge client ${((cpu.user + cpu.system) / 1000 / ok).toFixed(3)} ms (includes the 1 s client warm-up and process start), clients ${(run.cpuMs / ok).toFixed(3)} ms`,
  );
  const s = service.stats();
  console.log(
    `service stats: p50 ${s.latencyMs.p50} ms, p95 ${s.latencyMs.p95} ms (handling time); judge calls ${s.judge.calls}, cached ${s.judge.cached}, failures ${s.judge.failures}`,
  );

  // 3. A burst beyond the queue limit while the 64 clients keep going.
  const background = steady(3, false);
  await new Promise((r) => setTimeout(r, 300));
  const burst = await Promise.all(
    Array.from({ length: BURST }, (_, i) =>
      post(`burst ${i}`).catch((e: Error) => ({ status: -1, body: e.message, ms: 0, retryAfter: undefined }) as Answer),
    ),
  );
  const bg = await background;
  const accepted = burst.filter((a) => a.status === 200);
  const refused = burst.filter((a) => a.status === 503);
  const clean = refused.every((a) => a.retryAfter === '1' && /queue full/.test(JSON.parse(a.body).error));
  const others = burst.length - accepted.length - refused.length;
  const acceptedRight = accepted.every((a) => JSON.parse(a.body).results[0].rewards.join() === '1,-0.1');
  console.log(
    `burst of ${BURST} with maxQueue ${MAX_QUEUE} and ${CLIENTS} clients running: ${accepted.length} accepted (all right: ${acceptedRight}), ${refused.length} refused 503 (Retry-After: 1 on all: ${clean}), ${others} other; ` +
      `background clients meanwhile: ${JSON.stringify(bg.statuses)}, wrong ${bg.wrong} ${refused.length > 0 && clean && others === 0 && acceptedRight && (bg.statuses[200] ?? 0) > 0 ? 'PASS' : 'FAIL'}`,
  );

  agent.destroy();
  await service.close();
  server.kill('SIGTERM');
  await server.catch(() => {});
  ws.cleanup();
}
