// The reward service: trainers POST generated images and get rubric rewards back (or call its
// OpenAI-compatible chat endpoint with their own judge), over HTTP with a token, bounded requests, a
// bounded queue and a breaker that comes back when the judge does. node:http only. This file wires the
// parts together and routes; each part lives in its own module.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describeError } from '../judge/client.js';
import { openJudge, type JudgeSession } from '../judge/session.js';
import { fromStoredPath } from '../manifest/paths.js';
import type { Experiment } from '../types/experiment.js';
import { ArrError } from '../util/errors.js';
import { ServiceBreaker, type BreakerOptions } from './breaker.js';
import { handleChat, handleModels } from './chat-handler.js';
import { WorkQueue, type ServiceContext } from './context.js';
import { BodyBudget, bearerChecker, ClientGoneError, HttpError, sendAndClose, sendJson } from './http.js';
import { assertSafeBind, resolveLimits, type RewardLimits } from './limits.js';
import { handleRewards } from './rewards-handler.js';
import { AllowedRoots } from './roots.js';
import { ServiceStats, type Endpoint, type RewardStats } from './stats.js';

export type { RewardLimits } from './limits.js';
export type { RewardResult } from './rewards-handler.js';
export type { RewardStats } from './stats.js';

export interface RewardServiceOptions {
  experiment: Experiment;
  workspaceRoot: string;
  /** The frozen rubric text every item is judged with. */
  rubric: string;
  /** The bearer token clients must send. */
  token: string;
  /** Absolute folders image paths may come from, besides the workspace and `reward.allowed_roots`. */
  allowedRoots?: string[];
  /** Listen address (default `reward.bind`). Beyond loopback the token must be at least 32 characters. */
  bind?: string;
  /** Listen port (default `reward.port`; 0 picks a free one). */
  port?: number;
  limits?: Partial<RewardLimits>;
  breaker?: Omit<BreakerOptions, 'log'>;
  /** One line per notable event (refusals, failures, breaker changes); never the token. */
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

export interface RewardService {
  /** `http://host:port` */
  url: string;
  token: string;
  close(): Promise<void>;
  stats(): RewardStats;
}

const ROUTES: Record<string, { method: string; endpoint?: Endpoint }> = {
  '/v1/rewards': { method: 'POST', endpoint: 'rewards' },
  '/v1/chat/completions': { method: 'POST', endpoint: 'chat' },
  '/v1/models': { method: 'GET' },
  '/v1/stats': { method: 'GET' },
};

/** Starts the service and resolves once it listens. */
export async function startRewardService(options: RewardServiceOptions): Promise<RewardService> {
  const { experiment, workspaceRoot, rubric, token } = options;
  if (!token) throw new ArrError('the reward service needs a token');
  if (!rubric.trim()) throw new ArrError('the reward service needs a rubric');
  const bind = options.bind ?? experiment.reward.bind;
  assertSafeBind(bind, token);
  const limits = resolveLimits(options.limits);
  const log = options.log ?? (() => {});
  const session =
    options.judge ??
    openJudge(experiment, workspaceRoot, { baseUrl: options.baseUrl, warn: (m) => log(`warning: ${m}`) });
  const ctx: ServiceContext = {
    experiment,
    rubric,
    limits,
    session,
    roots: await AllowedRoots.create([
      workspaceRoot,
      ...experiment.reward.allowed_roots.map((r) => fromStoredPath(r, workspaceRoot)),
      ...(options.allowedRoots ?? []),
    ]),
    stats: new ServiceStats(),
    breaker: new ServiceBreaker(session.client, { ...options.breaker, log }),
    budget: new BodyBudget(limits.maxBufferedBytes),
    queue: new WorkQueue(limits.maxQueue),
    cache: options.cache ?? false,
    log,
  };
  const rubricSha256 = createHash('sha256').update(rubric).digest('hex');
  const authorized = bearerChecker(token);

  const stats = (): RewardStats =>
    ctx.stats.snapshot({
      inFlightItems: ctx.queue.inFlight,
      breaker: { state: ctx.breaker.state, ...ctx.breaker.counts },
      judge: session.client.usage,
    });

  async function route(req: IncomingMessage, res: ServerResponse, started: number, path: string): Promise<void> {
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      req.resume();
      return sendJson(res, 200, {
        status: 'ok',
        judge: ctx.breaker.state,
        model: experiment.judge.model,
        rubric_sha256: rubricSha256,
      });
    }
    const known = ROUTES[path];
    if (!known)
      throw new HttpError(
        404,
        `no such endpoint: ${req.method} ${path} (POST /v1/rewards, POST /v1/chat/completions, GET /v1/models, GET /v1/stats, GET /healthz)`,
      );
    // The token is checked before a byte of the body is read.
    if (!authorized(req))
      throw new HttpError(401, 'missing or wrong token: send Authorization: Bearer <token> (ARR_REWARD_TOKEN)');
    if (req.method !== known.method) throw new HttpError(405, `${req.method} ${path}: use ${known.method}`);
    if (path === '/v1/stats') {
      req.resume();
      return sendJson(res, 200, stats());
    }
    if (path === '/v1/models') {
      req.resume();
      return handleModels(ctx, res);
    }
    if (known.endpoint === 'chat') return handleChat(ctx, req, res, started);
    return handleRewards(ctx, req, res, started);
  }

  const server = createServer((req, res) => {
    const started = performance.now();
    ctx.stats.requests++;
    const path = (req.url ?? '/').split('?')[0];
    const endpoint = ROUTES[path]?.endpoint;
    // A client that leaves before its answer is complete is counted as a disconnect, never a judge failure.
    let gone = false;
    res.once('close', () => {
      if (!res.writableFinished) gone = true;
    });
    route(req, res, started, path).then(
      () => {
        if (gone) ctx.stats.countDisconnect(endpoint);
      },
      (error: unknown) => {
        if (gone || error instanceof ClientGoneError) {
          ctx.stats.countDisconnect(endpoint);
          return;
        }
        const e = error instanceof HttpError ? error : new HttpError(502, `the judge failed: ${describeError(error)}`);
        ctx.stats.countError(e.status, endpoint);
        if (e.status === 502 || e.status === 503) log(`${e.status} ${e.message}`);
        if (req.readableEnded) sendJson(res, e.status, { error: e.message }, e.headers);
        else sendAndClose(req, res, e);
      },
    );
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0; // judgements can take long; bodies have their own timeout (limits.bodyTimeoutMs)
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

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

  return {
    url: `http://${host}:${address.port}`,
    token,
    stats,
    close: () =>
      new Promise<void>((resolveClose) => {
        ctx.breaker.stop();
        server.close(() => resolveClose());
        server.closeIdleConnections();
        for (const socket of sockets) socket.destroy();
      }),
  };
}
