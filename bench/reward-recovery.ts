// Reward service under faults (run: npx tsx bench/reward-recovery.ts).
// 1. Recovery: the simulated judge stops listening for 2 s and comes back on the same port while a
//    client keeps sending; the figure is the time from the judge's return to the first 200 (target
//    well under 5 s), over several outages falling at different points between two probes (1 s apart).
// 2. Memory: 40 clients at once each send a body of the maximum size (64 MiB by default) holding one
//    huge query, to a service running in its own process; the figure is that process's peak RSS, next
//    to what 40 bodies would weigh, and how each request was answered.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname } from 'node:path';
import sharp from 'sharp';
import { startRewardService } from '../src/reward/service.js';
import { DEFAULT_LIMITS } from '../src/reward/limits.js';
import { loadValidExperiment } from '../src/manifest/valid.js';
import { startSimVlm } from '../test/helpers/sim-vlm.js';
import { makeWorkspace, type TestWorkspace } from '../test/helpers/workspace.js';

const TOKEN = 'bench-recovery-token';
const OUTAGE_MS = 2_000;
const OUTAGES = Number(process.env.OUTAGES ?? 6);
const CLIENTS = 40;
const MiB = 1024 * 1024;

async function grey(file: string, level: number): Promise<string> {
  mkdirSync(dirname(file), { recursive: true });
  await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: level, g: level, b: level } } })
    .png()
    .toFile(file);
  return file;
}

async function experimentFor(ws: TestWorkspace, name: string, judgeUrl: string) {
  ws.write(
    `experiments/${name}.yaml`,
    `task: t2i\nrubric: { from: ../rubrics/r.txt }\njudge:\n  base_url: ${judgeUrl}\n  retries: 0\n  reasks: 0\n  timeout_s: 5\n`,
  );
  return (await loadValidExperiment({ experiment: name, workspaceRoot: ws.root }, { checkData: false })).experiment;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function recovery(ws: TestWorkspace): Promise<number[]> {
  const bright = await grey(ws.path('images/bright.png'), 220);
  const dark = await grey(ws.path('images/dark.png'), 30);
  let judge = await startSimVlm({});
  const port = Number(new URL(judge.url).port);
  const service = await startRewardService({
    experiment: await experimentFor(ws, 'recovery', judge.url),
    workspaceRoot: ws.root,
    rubric: 'Rubric 1:\nTheme: x\n- Tip1: y\n',
    token: TOKEN,
  });
  const post = async () =>
    (
      await fetch(`${service.url}/v1/rewards`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ items: [{ query: 'q', images: [bright, dark] }] }),
      })
    ).status;
  const times: number[] = [];
  try {
    for (let round = 0; round < OUTAGES; round++) {
      if ((await post()) !== 200) throw new Error('the service does not answer 200 before the outage');
      await judge.close();
      const down = Date.now();
      const statuses = new Map<number, number>();
      // Where the outage falls between two probes decides the wait; a random first request varies it.
      await sleep(Math.random() * 1_000);
      while (Date.now() - down < OUTAGE_MS) {
        const s = await post();
        statuses.set(s, (statuses.get(s) ?? 0) + 1);
        await sleep(20);
      }
      judge = await startSimVlm({ port });
      const back = performance.now();
      while ((await post()) !== 200) await sleep(20);
      const ms = performance.now() - back;
      times.push(ms);
      console.log(
        `outage ${round + 1}: answers while down ${JSON.stringify(Object.fromEntries(statuses))}; first 200 ${ms.toFixed(0)} ms after the judge came back`,
      );
    }
  } finally {
    await service.close();
    await judge.close();
  }
  return times;
}

/** Peak RSS (VmHWM) of a process, in MiB. */
const peakRss = (pid: number) =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
const currentRss = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

async function memory(ws: TestWorkspace): Promise<void> {
  const judge = await startSimVlm({});
  await experimentFor(ws, 'memory', judge.url);
  // The service runs in its own node process so that its RSS is what is measured.
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--serve', ws.root], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /URL=(\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`the service process exited with ${code}`)));
  });
  const servicePid = child.pid!;
  const baseline = currentRss(servicePid);
  const max = DEFAULT_LIMITS.maxBodyBytes;
  const head = Buffer.from('{"items":[{"images":["/a.png","/b.png"],"query":"');
  const tail = Buffer.from('"}]}');
  const body = Buffer.alloc(max, 'x');
  head.copy(body, 0);
  tail.copy(body, max - tail.length);
  const { hostname, port } = new URL(url);
  const started = performance.now();
  const answers = await Promise.all(
    Array.from(
      { length: CLIENTS },
      () =>
        new Promise<string>((resolve) => {
          const req = request(
            {
              hostname,
              port,
              path: '/v1/rewards',
              method: 'POST',
              headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'content-length': max },
            },
            (res) => {
              res.resume();
              res.on('end', () => resolve(String(res.statusCode)));
              res.on('error', () => resolve(String(res.statusCode)));
            },
          );
          req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
          req.end(body);
        }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const peak = peakRss(servicePid);
  child.kill('SIGTERM');
  await once(child, 'exit');
  await judge.close();
  const counts = answers.reduce<Record<string, number>>((m, a) => ((m[a] = (m[a] ?? 0) + 1), m), {});
  console.log(
    `${CLIENTS} concurrent ${max / MiB} MiB bodies (one huge query each) in ${seconds.toFixed(1)} s: answers ${JSON.stringify(counts)}`,
  );
  console.log(
    `service RSS: ${baseline.toFixed(0)} MiB idle, ${peak.toFixed(0)} MiB peak (+${(peak - baseline).toFixed(0)} MiB); the bodies sent weigh ${((CLIENTS * max) / MiB).toFixed(0)} MiB`,
  );
  console.log(
    `peak growth / body limit: ${((peak - baseline) / (max / MiB)).toFixed(1)}× one maximum-size body (buffered-bytes budget ${DEFAULT_LIMITS.maxBufferedBytes / MiB} MiB)`,
  );
}

/** The child process of the memory measure: a service with the default limits, until SIGTERM. */
async function serveChild(root: string): Promise<void> {
  const { experiment } = await loadValidExperiment({ experiment: 'memory', workspaceRoot: root }, { checkData: false });
  const service = await startRewardService({
    experiment,
    workspaceRoot: root,
    rubric: 'Rubric 1:\nTheme: x\n- Tip1: y\n',
    token: TOKEN,
  });
  console.log(`URL=${service.url}`);
  process.once('SIGTERM', () => void service.close().then(() => process.exit(0)));
}

if (process.argv[2] === '--serve') {
  await serveChild(process.argv[3]);
} else {
  const ws = makeWorkspace();
  try {
    ws.write('rubrics/r.txt', 'Rubric 1:\nTheme: x\n- Tip1: y\n');
    const times = await recovery(ws);
    console.log(
      `recovery after a ${OUTAGE_MS / 1000} s judge outage: ${times.map((t) => `${(t / 1000).toFixed(2)} s`).join(', ')} (max ${(Math.max(...times) / 1000).toFixed(2)} s; target < 5 s)`,
    );
    await memory(ws);
  } finally {
    ws.cleanup();
  }
}
