// The reward service (DESIGN §6): trainers POST generated images and get rubric rewards back, computed
// exactly as the reference (rank → reward, arr-method.md §4) but over HTTP, with a token, bounded
// requests and a bounded queue. node:http only. A failed judgement fails the request; it never becomes
// a made-up reward.
import { createHash, timingSafeEqual } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import type { DatasetItem, ImageRef } from '../data/types.js';
import { fromStoredPath, isInside } from '../manifest/paths.js';
import type { Experiment } from '../types/experiment.js';
import { describeError, type Usage } from '../judge/client.js';
import { gradeItem, type Grade } from '../judge/grade.js';
import { rankToRewards } from '../judge/rewards.js';
import { openJudge, type JudgeSession } from '../judge/session.js';
import { ArrError } from '../util/errors.js';

export interface RewardLimits {
  /** Request bodies larger than this get 413 (default 64 MiB). */
  maxBodyBytes: number;
  /** Items per request (default 64); more get 413. */
  maxItems: number;
  /** Items accepted and not yet answered, over all requests (default 1024); more get 503 + Retry-After. */
  maxQueue: number;
}

export interface RewardServiceOptions {
  experiment: Experiment;
  workspaceRoot: string;
  /** The frozen rubric text every item is judged with. */
  rubric: string;
  /** The bearer token clients must send. */
  token: string;
  /** Absolute folders image paths may come from, besides the workspace and `reward.allowed_roots`. */
  allowedRoots?: string[];
  /** Listen address (default `reward.bind`). */
  bind?: string;
  /** Listen port (default `reward.port`; 0 picks a free one). */
  port?: number;
  limits?: Partial<RewardLimits>;
  /** One line per notable event (refusals, failures); never the token. */
  log?: (line: string) => void;
  /** Judge endpoint(s) instead of judge.base_url. */
  baseUrl?: string;
  /** A judge session to use instead of opening one (tests). */
  judge?: JudgeSession;
  /**
   * Use the judge response cache (default false): training images are new at every step, so the cache
   * would almost never answer, while each miss costs a file write with fsync in the judged path and
   * the cache would grow by a file per judgement for the whole run.
   */
  cache?: boolean;
}

export interface RewardStats {
  requests: number;
  items: number;
  /** Requests answered 502 (a failed judgement, a disagreement under `error`, an unusable judge). */
  failures: number;
  refused: { 401: number; 400: number; 413: number; 503: number };
  /** Items accepted and not yet answered. */
  inFlightItems: number;
  /** Request handling time in ms over the last requests answered 200. */
  latencyMs: { p50: number | null; p95: number | null; samples: number };
  judge: Usage;
}

export interface RewardService {
  /** `http://host:port` */
  url: string;
  token: string;
  close(): Promise<void>;
  stats(): RewardStats;
}

/** One item's answer. `ranks` is null and `agree` false when the orders disagreed under `zero`. */
export interface RewardResult {
  rewards: number[];
  ranks: number[] | null;
  /** null: one order judged; true/false: both orders judged and they (dis)agreed. */
  agree: boolean | null;
}

const DEFAULT_LIMITS: RewardLimits = { maxBodyBytes: 64 * 1024 * 1024, maxItems: 64, maxQueue: 1024 };
const LATENCY_WINDOW = 4096;
const DATA_URL = /^data:(image\/[a-z0-9.+-]+);base64,/i;

class HttpError extends ArrError {
  constructor(
    readonly status: 400 | 401 | 404 | 405 | 413 | 502 | 503,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface ParsedItem {
  query: string;
  images: string[];
  source?: string;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

export async function startRewardService(options: RewardServiceOptions): Promise<RewardService> {
  const { experiment, workspaceRoot, rubric, token } = options;
  if (!token) throw new Error('the reward service needs a token');
  if (!rubric.trim()) throw new Error('the reward service needs a rubric');
  const limits: RewardLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const log = options.log ?? (() => {});
  const session = options.judge ?? openJudge(experiment, workspaceRoot, { baseUrl: options.baseUrl, warn: (m) => log(`warning: ${m}`) });
  const rubricSha256 = createHash('sha256').update(rubric).digest('hex');
  const tokenDigest = digest(token);
  const onDisagreement = experiment.reward.on_disagreement;
  const gradeOptions = {
    task: experiment.task,
    language: experiment.rubric.language,
    taskDescription: experiment.rubric.task_description,
    rubric,
    bothOrders: experiment.reward.both_orders,
    minScore: experiment.rubric.min_score,
    maxScore: experiment.rubric.max_score,
    noCache: !options.cache,
  };

  // Allowed roots, resolved through symlinks once (a path is checked after realpath too).
  const declared = [workspaceRoot, ...experiment.reward.allowed_roots.map((r) => fromStoredPath(r, workspaceRoot)), ...(options.allowedRoots ?? [])].map((r) => resolve(r));
  const roots = [...new Set((await Promise.all(declared.map((r) => realpath(r).catch(() => r)))).flatMap((real, i) => [declared[i], real]))];

  const counters = { requests: 0, items: 0, failures: 0, refused: { 401: 0, 400: 0, 413: 0, 503: 0 } };
  const latencies: number[] = [];
  let latencyNext = 0;
  let inFlightItems = 0;

  function authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization;
    if (typeof header !== 'string' || !/^Bearer\s+/i.test(header)) return false;
    return timingSafeEqual(digest(header.replace(/^Bearer\s+/i, '').trim()), tokenDigest);
  }

  function send(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return;
    const text = JSON.stringify(payload);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  /** Answers without reading the body: the connection closes, so an unread body is never consumed. */
  function refuseUnread(req: IncomingMessage, res: ServerResponse, error: HttpError): void {
    count(error.status);
    req.pause();
    send(res, error.status, { error: error.message }, { ...error.headers, connection: 'close' });
    res.once('finish', () => req.socket.destroySoon?.());
  }

  function count(status: number): void {
    if (status === 401 || status === 400 || status === 413 || status === 503) counters.refused[status]++;
    else if (status === 502) counters.failures++;
  }

  function readBody(req: IncomingMessage): Promise<Buffer> {
    return new Promise((resolveBody, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > limits.maxBodyBytes) {
          req.off('data', onData);
          req.pause();
          chunks.length = 0;
          reject(new HttpError(413, `request body over ${limits.maxBodyBytes} bytes`, { connection: 'close' }));
          return;
        }
        chunks.push(chunk);
      };
      req.on('data', onData);
      req.once('end', () => resolveBody(Buffer.concat(chunks, size)));
      req.once('error', reject);
    });
  }

  function parseItems(raw: Buffer): ParsedItem[] {
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (error) {
      throw new HttpError(400, `body: not valid JSON (${(error as Error).message})`);
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'body: expected a JSON object {"items": [...]}');
    const items = (body as { items?: unknown }).items;
    if (!Array.isArray(items)) throw new HttpError(400, 'items: expected a list of {"query", "images", "source_image"?}');
    if (items.length === 0) throw new HttpError(400, 'items: empty list');
    if (items.length > limits.maxItems) throw new HttpError(413, `items: ${items.length} items in one request; the limit is ${limits.maxItems}`);
    return items.map((item, i): ParsedItem => {
      const at = `items[${i}]`;
      if (!item || typeof item !== 'object' || Array.isArray(item)) throw new HttpError(400, `${at}: expected an object`);
      const o = item as Record<string, unknown>;
      if (typeof o.query !== 'string') throw new HttpError(400, `${at}.query: expected a string`);
      const key = o.images !== undefined ? 'images' : 'response';
      const images = o[key];
      if (!Array.isArray(images) || images.some((x) => typeof x !== 'string' || x === '')) throw new HttpError(400, `${at}.${key}: expected a list of image paths or data:image URLs (the key \`images\`, or \`response\` as the reference sends)`);
      if (images.length < 2) throw new HttpError(400, `${at}.${key}: ${images.length} image(s); a reward compares at least 2`);
      const source = o.source_image;
      if (source !== undefined && source !== null && (typeof source !== 'string' || source === '')) throw new HttpError(400, `${at}.source_image: expected a path or data:image URL`);
      if (experiment.task === 'edit' && !source) throw new HttpError(400, `${at}.source_image: required for an edit experiment`);
      if (experiment.task === 't2i' && source) throw new HttpError(400, `${at}.source_image: the experiment is t2i; source images belong to edit experiments`);
      return { query: o.query, images: images as string[], source: (source as string | null | undefined) ?? undefined };
    });
  }

  async function imageRef(value: string, field: string): Promise<ImageRef> {
    const data = DATA_URL.exec(value);
    if (data) return { kind: 'data', url: value, mime: data[1].toLowerCase() };
    if (/^[a-z][a-z0-9+.-]*:/i.test(value) && !isAbsolute(value)) throw new HttpError(400, `${field}: ${value.slice(0, 80)} is neither a local path nor a data:image/...;base64, URL`);
    if (!isAbsolute(value)) throw new HttpError(400, `${field}: ${value} is relative; send absolute paths (the Python client makes them absolute)`);
    let real: string;
    try {
      real = await realpath(value);
    } catch (error) {
      throw new HttpError(400, `${field}: ${value} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    if (!roots.some((root) => isInside(real, root))) {
      throw new HttpError(400, `${field}: ${value}${real !== value ? ` (${real})` : ''} is outside the allowed roots: ${declared.join(', ')}`);
    }
    return { kind: 'file', path: real };
  }

  async function toDatasetItems(items: ParsedItem[]): Promise<DatasetItem[]> {
    return Promise.all(
      items.map(async (item, i) => {
        const key = `items[${i}]`;
        const [source, ...candidates] = await Promise.all([
          item.source ? imageRef(item.source, `${key}.source_image`) : Promise.resolve(undefined),
          ...item.images.map((image, j) => imageRef(image, `${key}.images[${j}]`)),
        ]);
        return { index: i, query: item.query, candidates: candidates as ImageRef[], ...(source ? { source } : {}), meta: {} };
      }),
    );
  }

  function result(grade: Grade, i: number): RewardResult {
    if (grade.verdict === 'failed') {
      const why = grade.orders.map((o) => o.error).filter(Boolean).join('; ');
      throw new HttpError(502, `items[${i}]: the judgement failed: ${why}`);
    }
    if (grade.verdict === 'disagree') {
      const ranks = grade.orders.map((o) => JSON.stringify(o.rank)).join(' vs ');
      if (onDisagreement === 'error') throw new HttpError(502, `items[${i}]: the two orders disagree (${ranks}) and reward.on_disagreement is error`);
      if (onDisagreement === 'zero') return { rewards: grade.orders[0].rank!.map(() => 0.0), ranks: null, agree: false };
      return { rewards: rankToRewards(grade.orders[0].rank!), ranks: grade.orders[0].rank!, agree: false };
    }
    return { rewards: rankToRewards(grade.rank!), ranks: grade.rank!, agree: grade.verdict === 'agree' ? true : null };
  }

  async function rewards(req: IncomingMessage, res: ServerResponse, started: number): Promise<void> {
    const declaredLength = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declaredLength) && declaredLength > limits.maxBodyBytes) {
      return refuseUnread(req, res, new HttpError(413, `request body of ${declaredLength} bytes is over the limit of ${limits.maxBodyBytes}`));
    }
    const parsed = parseItems(await readBody(req));
    // Reserve queue room before any work, synchronously, so concurrent requests cannot overshoot.
    if (inFlightItems + parsed.length > limits.maxQueue) {
      throw new HttpError(503, `queue full: ${inFlightItems} items in flight, ${parsed.length} more would pass reward limit ${limits.maxQueue}; retry shortly`, { 'retry-after': '1' });
    }
    inFlightItems += parsed.length;
    let pending = parsed.length;
    const release = (n: number) => {
      inFlightItems -= n;
      pending -= n;
    };
    try {
      const items = await toDatasetItems(parsed);
      const judgeStarted = performance.now();
      const settled = await Promise.allSettled(
        items.map((item) =>
          gradeItem(item, { ...gradeOptions, mode: item.candidates.length === 2 ? 'pairwise' : 'listwise' }, session).finally(() => release(1)),
        ),
      );
      const judgeMs = performance.now() - judgeStarted;
      const results = settled.map((s, i) => {
        if (s.status === 'rejected') throw new HttpError(502, `items[${i}]: the judge failed: ${describeError(s.reason)}`);
        return result(s.value, i);
      });
      counters.items += results.length;
      const totalMs = performance.now() - started;
      latencies[latencyNext] = totalMs;
      latencyNext = (latencyNext + 1) % LATENCY_WINDOW;
      send(res, 200, { results, timing: { total_ms: round(totalMs), judge_ms: round(judgeMs) } }, { 'server-timing': `judge;dur=${judgeMs.toFixed(2)}, total;dur=${totalMs.toFixed(2)}` });
    } finally {
      if (pending > 0) release(pending);
    }
  }

  const server = createServer((req, res) => {
    const started = performance.now();
    counters.requests++;
    const path = (req.url ?? '/').split('?')[0];
    const handle = async () => {
      if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
        req.resume();
        return send(res, 200, { ok: true, model: experiment.judge.model, rubric_sha256: rubricSha256 });
      }
      if (path !== '/v1/rewards' && path !== '/v1/stats') return refuseUnread(req, res, new HttpError(404, `no such endpoint: ${req.method} ${path} (POST /v1/rewards, GET /v1/stats, GET /healthz)`));
      // The token is checked before a byte of the body is read.
      if (!authorized(req)) return refuseUnread(req, res, new HttpError(401, 'missing or wrong token: send Authorization: Bearer <token> (ARR_REWARD_TOKEN)'));
      if (path === '/v1/stats') {
        req.resume();
        return send(res, 200, stats());
      }
      if (req.method !== 'POST') return refuseUnread(req, res, new HttpError(405, `${req.method} ${path}: use POST`));
      await rewards(req, res, started);
    };
    handle().catch((error: unknown) => {
      const e = error instanceof HttpError ? error : new HttpError(502, `the judge failed: ${describeError(error)}`);
      count(e.status);
      if (e.status === 502 || e.status === 503) log(`${e.status} ${e.message}`);
      const unread = !req.readableEnded;
      send(res, e.status, { error: e.message }, unread ? { ...e.headers, connection: 'close' } : e.headers);
      if (unread) res.once('finish', () => req.socket.destroySoon?.());
    });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0; // judgements can take long; the judge client has its own timeouts
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const bind = options.bind ?? experiment.reward.bind;
  const port = options.port ?? experiment.reward.port;
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, bind, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  function stats(): RewardStats {
    const window = latencies.slice().sort((a, b) => a - b);
    const pct = (p: number) => (window.length ? round(window[Math.min(window.length - 1, Math.floor(p * window.length))]) : null);
    return { ...counters, refused: { ...counters.refused }, inFlightItems, latencyMs: { p50: pct(0.5), p95: pct(0.95), samples: window.length }, judge: { ...session.client.usage } };
  }

  return {
    url: `http://${host}:${address.port}`,
    token,
    stats,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeIdleConnections();
        for (const socket of sockets) socket.destroy();
      }),
  };
}

const round = (ms: number) => Math.round(ms * 100) / 100;
