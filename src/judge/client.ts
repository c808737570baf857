// The judge client: the openai SDK over HTTP with one retry layer of our own, one process-wide
// concurrency limit, replicas with a circuit breaker, a response cache and a call/cost budget.
import OpenAI from 'openai';
import { keyOf } from '../store/canonical-json.js';
import type { JudgeReport } from '../types/judge-report.js';
import { AnswerError, answerSchema, type AnswerKind } from './answers.js';
import type { Block } from './blocks.js';
import type { EncodedImage } from './images/encoder.js';
import { keepAliveFetch } from './http-fetch.js';
import { answerShape } from './prompts.js';
import { processLimiter, type Limiter } from './limiter.js';
import { capabilities, detectProvider, type Capabilities } from './providers.js';
import type { ResponseCache } from './response-cache.js';
import { ArrError } from '../util/errors.js';
import { MAX_BACKOFF_MS, retryDelayMs, withRetries } from '../util/retry.js';

export interface JudgeSettings {
  model: string;
  baseUrls: string[];
  /** The key's value; never logged, stored or hashed. */
  apiKey: string | undefined;
  provider: string;
  temperature: number;
  maxTokens: number;
  timeoutS: number;
  retries: number;
  reasks: number;
  concurrency: number;
  imageMaxSide: number;
  maxCalls: number | null;
  maxCost: number | null;
  prices: { input_per_mtok: number | null; output_per_mtok: number | null };
}

export interface Turn {
  role: 'system' | 'user' | 'assistant';
  content: string | Block[];
}
export interface AskRequest {
  turns: Turn[];
  answer: { kind: AnswerKind; n: number; min?: number; max?: number };
  /** Distinguishes repeated samples of the same request in the response cache. */
  sample?: number;
}
export interface AskResult<T> {
  value: T;
  /** The request's cache key (also the trace's prompt hash). */
  key: string;
  raw: string;
  cached: boolean;
  /** Replies received for this judgement, the failed ones first. */
  replies: string[];
}

/**
 * Where completions come from when they do not go over HTTP (the in-process llama.cpp judge). The
 * client keeps everything else: cache, keys, re-asks, budget, concurrency limit and usage counts.
 */
export interface CompletionBackend {
  readonly kind: 'local';
  /** What stands for judge.model in request keys (the model files' content hashes). */
  identity(): Promise<string>;
  /** Gets the backend ready (files present, model loaded); its errors end the run. */
  loaded(): Promise<unknown>;
  complete(
    turns: Turn[],
    request: AskRequest,
    call: { maxTokens: number; temperature: number; timeoutMs: number },
  ): Promise<{ content: string; usage: { prompt_tokens: number; completion_tokens: number } }>;
}

export class JudgeUnavailableError extends ArrError {
  override name = 'JudgeUnavailableError';
}
export class JudgeAuthError extends ArrError {
  override name = 'JudgeAuthError';
}
export class BudgetExceededError extends ArrError {
  override name = 'BudgetExceededError';
}
/** A judgement that failed for good: retries and re-asks spent. Keeps every raw reply. */
export class JudgementError extends ArrError {
  override name = 'JudgementError';
  constructor(
    message: string,
    readonly replies: string[],
    /** Why, in a few words fit for a summary (`timeout after 5 s`, `HTTP 503`, `answers that never parsed`). */
    readonly reason: string = message,
  ) {
    super(message);
  }
}

/**
 * Judgements asked through `ask` and how many failed for good, by reason. A failure is an outage
 * (transport error, timeout, refusal, an answer that never parsed), never a verdict: a judge that
 * answered, however wrongly, is a result.
 */
export interface JudgementTally {
  asked: number;
  failed: number;
  reasons: Record<string, number>;
}

/** `timeout after 5 s (18), HTTP 503 (3)`: the reasons of a tally, most frequent first. */
export function describeFailures(tally: JudgementTally): string {
  return Object.entries(tally.reasons)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, n]) => (n === tally.failed ? reason : `${reason}: ${n}`))
    .join(', ');
}

/** Judge traffic counters, as the report records them (schemas/judge-report.schema.json). */
export type Usage = JudgeReport['usage'];

interface Replica {
  url: string;
  client: OpenAI;
  downUntil: number;
}

const BREAKER_WINDOW_MS = 3_000;
const COOLDOWN_MS = 15_000;
const COMMA = Buffer.from(',');

/** `{"type":"image_url","image_url":{"url":"data:…"}}` as bytes, built once per encoded image. */
const fragments = new WeakMap<EncodedImage, Buffer>();
function imageFragment(image: EncodedImage): Buffer {
  let fragment = fragments.get(image);
  if (!fragment) {
    fragment = Buffer.from(JSON.stringify({ type: 'image_url', image_url: { url: image.url } }));
    fragments.set(image, fragment);
  }
  return fragment;
}

/** Connection refused, reset, DNS failure: the endpoint is not there (timeouts are not this). */
const isConnectionFailure = (error: unknown) =>
  error instanceof OpenAI.APIConnectionError && !(error instanceof OpenAI.APIConnectionTimeoutError);
export class JudgeClient {
  readonly usage: Usage;
  /** Every judgement asked and the ones that failed for good; builds refuse to store results with failures. */
  readonly tally: JudgementTally = { asked: 0, failed: 0, reasons: {} };
  readonly caps: Capabilities;
  private readonly replicas: Replica[];
  private next = 0;
  private readonly limiter: Limiter;
  private firstConnectionFailure: number | undefined;
  private breakerOpen: string | undefined;
  /** judge.model in request keys; a local backend replaces it with its files' hashes (see ready()). */
  private modelId: string;

  constructor(
    readonly settings: JudgeSettings,
    private readonly options: {
      cache?: ResponseCache;
      limiter?: Limiter;
      warn?: (message: string) => void;
      backend?: CompletionBackend;
    } = {},
  ) {
    if (settings.baseUrls.length === 0 && !options.backend)
      throw new JudgeUnavailableError('judge.base_url is empty', {
        hint: 'set ARR_JUDGE_URL or judge.base_url, or use judge.backend: local',
      });
    this.modelId = settings.model;
    this.caps = capabilities(detectProvider(settings.provider, settings.baseUrls[0] ?? ''), settings.model);
    const httpFetch = keepAliveFetch({ maxSockets: settings.concurrency });
    this.replicas = settings.baseUrls.map((url) => ({
      url,
      downUntil: 0,
      client: new OpenAI({
        apiKey: settings.apiKey || 'EMPTY',
        baseURL: url,
        maxRetries: 0,
        timeout: settings.timeoutS * 1000,
        fetch: httpFetch,
      }),
    }));
    this.limiter = options.limiter ?? processLimiter(settings.concurrency);
    this.usage = {
      calls: 0,
      cached: 0,
      retries: 0,
      reasks: 0,
      failures: 0,
      promptTokens: 0,
      completionTokens: 0,
      cost: this.hasPrices() ? 0 : null,
    };
  }

  /**
   * Checks each replica answers `GET /models` within a few seconds. Refused connections on every
   * replica end the run here, naming the URLs; a missing model is only a warning.
   */
  async preflight(timeoutMs = 5_000): Promise<{ url: string; ok: boolean; models?: string[]; problem?: string }[]> {
    if (this.options.backend) {
      await this.ready();
      await this.options.backend.loaded();
      return [];
    }
    const results = await Promise.all(
      this.replicas.map(async (replica) => {
        try {
          const response = await fetch(`${replica.url.replace(/\/$/, '')}/models`, {
            headers: { Authorization: `Bearer ${this.settings.apiKey || 'EMPTY'}` },
            signal: AbortSignal.timeout(timeoutMs),
          });
          if (response.status === 401 || response.status === 403)
            throw new JudgeAuthError(authMessage(replica.url, response.status, this.settings.apiKey));
          if (!response.ok) return { url: replica.url, ok: true, problem: `GET /models answered ${response.status}` };
          const body = (await response.json()) as { data?: { id: string }[] };
          const models = (body.data ?? []).map((m) => m.id);
          if (models.length && !models.includes(this.settings.model)) {
            this.options.warn?.(
              `${replica.url} does not list model ${this.settings.model} (it serves ${models.slice(0, 5).join(', ')}); calls may fail`,
            );
          }
          return { url: replica.url, ok: true, models };
        } catch (error) {
          if (error instanceof JudgeAuthError) throw error;
          replica.downUntil = Date.now() + COOLDOWN_MS;
          return { url: replica.url, ok: false, problem: describeFetchFailure(error) };
        }
      }),
    );
    if (results.every((r) => !r.ok)) {
      throw new JudgeUnavailableError(
        `cannot reach the judge: ${results.map((r) => `${r.url} (${r.problem})`).join('; ')}. Start one (e.g. vllm serve ${this.settings.model} --port 8000) or point ARR_JUDGE_URL / --base-url at a running endpoint.`,
      );
    }
    for (const r of results)
      if (!r.ok) this.options.warn?.(`judge replica ${r.url} is unreachable (${r.problem}); using the others`);
    return results;
  }

  /** The cache key of a request: model, family, messages with image hashes, sampling and sample index. */
  requestKey(request: AskRequest): string {
    return keyOf({
      model: this.modelId,
      family: this.caps.provider,
      messages: request.turns.map((t) => ({
        role: t.role,
        content:
          typeof t.content === 'string'
            ? t.content
            : t.content.map((b) =>
                b.type === 'text' ? b : { image: `${b.image.sha256}@${this.settings.imageMaxSide}` },
              ),
      })),
      temperature: this.caps.temperature ? this.settings.temperature : null,
      max_tokens: this.settings.maxTokens,
      response_format: this.caps.responseFormat,
      structured_outputs: this.caps.structuredOutputs,
      thinking_off: this.caps.thinkingOff ?? null,
      sample: request.sample ?? 0,
    });
  }

  /**
   * One judgement: answered from the cache, or asked with retries; a reply that does not parse is
   * asked again with the problem, at most `reasks` times. Only a valid reply is cached.
   */
  async ask<T>(
    request: AskRequest,
    parse: (reply: string) => T,
    options: { noCache?: boolean } = {},
  ): Promise<AskResult<T>> {
    this.tally.asked++;
    try {
      return await this.askOnce(request, parse, options);
    } catch (error) {
      if (error instanceof JudgementError || error instanceof JudgeUnavailableError) {
        const reason = error instanceof JudgementError ? error.reason : 'judge unreachable';
        this.tally.failed++;
        this.tally.reasons[reason] = (this.tally.reasons[reason] ?? 0) + 1;
      }
      throw error;
    }
  }

  private async askOnce<T>(
    request: AskRequest,
    parse: (reply: string) => T,
    options: { noCache?: boolean },
  ): Promise<AskResult<T>> {
    await this.ready();
    const key = this.requestKey(request);
    const cache = options.noCache ? undefined : this.options.cache;
    const hit = await cache?.get(key);
    if (hit) {
      try {
        const value = parse(hit.content);
        this.usage.cached++;
        return { value, key, raw: hit.content, cached: true, replies: [hit.content] };
      } catch {
        /* a reply our parser no longer accepts: ask again */
      }
    }
    const turns = [...request.turns];
    const replies: string[] = [];
    for (let ask = 0; ; ask++) {
      const { content, usage } = await this.complete(turns, request);
      replies.push(content);
      try {
        const value = parse(content);
        await cache?.put(key, { content, usage, created: new Date().toISOString() });
        return { value, key, raw: content, cached: false, replies };
      } catch (error) {
        if (!(error instanceof AnswerError)) throw error;
        if (ask >= this.settings.reasks) {
          this.usage.failures++;
          throw new JudgementError(
            `invalid answer after ${ask + 1} ask(s): ${error.message}`,
            replies,
            'answers that never parsed',
          );
        }
        this.usage.reasks++;
        turns.push({ role: 'assistant', content }, { role: 'user', content: reaskText(error.message, request.answer) });
      }
    }
  }

  /** The backend this client asks: `http`, or the local backend's kind. */
  get backend(): 'http' | CompletionBackend['kind'] {
    return this.options.backend?.kind ?? 'http';
  }

  /** Learns the local backend's model identity (resolving, and if needed downloading, its files). */
  async ready(): Promise<void> {
    if (this.options.backend && this.modelId === this.settings.model)
      this.modelId = await this.options.backend.identity();
  }

  /** One chat completion with retries across replicas. */
  private async complete(
    turns: Turn[],
    request: AskRequest,
  ): Promise<{ content: string; usage: { prompt_tokens: number; completion_tokens: number } }> {
    if (this.options.backend) return this.completeLocally(this.options.backend, turns, request);
    const completion = await this.postChat(this.body(turns, request), (completion) => {
      if (!completion.choices?.[0]) throw new JudgementError('the endpoint returned no choices', []);
    });
    const usage = {
      prompt_tokens: completion.usage?.prompt_tokens ?? 0,
      completion_tokens: completion.usage?.completion_tokens ?? 0,
    };
    return { content: completion.choices[0].message?.content ?? '', usage };
  }

  /** One completion from an in-process backend: no retries (nothing transient to wait out), same counters. */
  private async completeLocally(backend: CompletionBackend, turns: Turn[], request: AskRequest) {
    this.checkBudget();
    this.usage.calls++;
    try {
      const call = {
        maxTokens: this.settings.maxTokens,
        temperature: this.settings.temperature,
        timeoutMs: this.settings.timeoutS * 1000,
      };
      const result = await this.limiter.run(() => backend.complete(turns, request, call));
      this.count(result.usage);
      return result;
    } catch (error) {
      if (error instanceof ArrError) throw error; // missing model files, a model that does not load: the run ends
      this.usage.failures++;
      throw new JudgementError(`local judge call failed: ${describeError(error)}`, []);
    }
  }

  /**
   * Forwards a caller's own chat-completion body (the reward service's OpenAI-compatible endpoint) through
   * this client's limiter, replicas, retries and breaker, and returns the endpoint's completion unchanged.
   * The body's `model` is replaced by the configured model. Nothing is cached: the caller parses the answer.
   */
  async forwardChat(body: Record<string, unknown>): Promise<OpenAI.Chat.ChatCompletion> {
    return this.postChat(Buffer.from(JSON.stringify({ ...body, model: this.settings.model })));
  }

  /**
   * POST /chat/completions through the limiter, one replica per attempt, with the one retry layer
   * (util/retry.ts). Counts calls, retries, failures and tokens; a refused key ends at once; connection
   * failures feed the breaker, and an open breaker ends the call. `check` rejects a completion that
   * cannot be used; its error counts as a failed attempt like any other.
   */
  private async postChat(
    body: unknown,
    check?: (completion: OpenAI.Chat.ChatCompletion) => void,
  ): Promise<OpenAI.Chat.ChatCompletion> {
    let replica: Replica;
    return withRetries(
      async () => {
        this.usage.calls++;
        const completion = await this.limiter.run(() =>
          replica.client.post<OpenAI.Chat.ChatCompletion>('/chat/completions', {
            body,
            headers: { 'content-type': 'application/json' },
            maxRetries: 0,
            timeout: this.settings.timeoutS * 1000,
          }),
        );
        this.firstConnectionFailure = undefined;
        check?.(completion);
        this.count({
          prompt_tokens: completion.usage?.prompt_tokens ?? 0,
          completion_tokens: completion.usage?.completion_tokens ?? 0,
        });
        return completion;
      },
      {
        retries: this.settings.retries,
        beforeAttempt: () => {
          if (this.breakerOpen) throw new JudgeUnavailableError(this.breakerOpen);
          this.checkBudget();
          replica = this.pickReplica();
        },
        inspect: (error, _attempt, last) => {
          if (error instanceof OpenAI.APIError && (error.status === 401 || error.status === 403)) {
            throw new JudgeAuthError(authMessage(replica.url, error.status, this.settings.apiKey));
          }
          if (isConnectionFailure(error)) this.connectionFailed(replica, error, last);
          if (this.breakerOpen) {
            this.usage.failures++;
            throw new JudgeUnavailableError(this.breakerOpen);
          }
        },
        giveUp: (error, attempts) => {
          this.usage.failures++;
          return new JudgementError(
            `judge call failed after ${attempts} attempt(s): ${describeError(error)}`,
            [],
            this.shortReason(error),
          );
        },
        onRetry: () => this.usage.retries++,
        // A refused connection is retried quickly: the breaker, not a long backoff, decides when to stop.
        delayMs: (error, attempt) =>
          retryDelayMs(error, attempt, { capMs: isConnectionFailure(error) ? 1_000 : MAX_BACKOFF_MS }),
      },
    );
  }

  /** Why the breaker ended calls, or undefined while it is closed. */
  get breakerReason(): string | undefined {
    return this.breakerOpen;
  }

  /**
   * Closes the breaker again and forgets every replica's cool-down. Batch builds never call this (an
   * outage ends their run); the long-lived reward service calls it once a probe saw the judge answer.
   */
  resetBreaker(): void {
    this.breakerOpen = undefined;
    this.firstConnectionFailure = undefined;
    for (const replica of this.replicas) replica.downUntil = 0;
  }

  /**
   * The request body as UTF-8 bytes. Image blocks are the bulk of every request and repeat across
   * requests, so each image's JSON fragment is encoded once and spliced in; this keeps client CPU per
   * request well under a millisecond where `JSON.stringify` of the whole body would not.
   */
  private body(turns: Turn[], request: AskRequest): Buffer {
    const caps = this.caps;
    const rest: Record<string, unknown> = {
      model: this.settings.model,
      [caps.maxTokensField]: this.settings.maxTokens,
    };
    if (caps.temperature) rest.temperature = this.settings.temperature;
    const { kind, n, min, max } = request.answer;
    if (caps.responseFormat === 'json_object') rest.response_format = { type: 'json_object' };
    if (caps.responseFormat === 'json_schema')
      rest.response_format = {
        type: 'json_schema',
        json_schema: { name: `${kind}_answer`, schema: answerSchema(kind, n, min, max) },
      };
    if (caps.structuredOutputs) rest.structured_outputs = { json: answerSchema(kind, n, min, max) };
    if (caps.thinkingOff) Object.assign(rest, caps.thinkingOff);

    const parts: Buffer[] = [Buffer.from('{"messages":[')];
    turns.forEach((turn, i) => {
      if (i > 0) parts.push(COMMA);
      if (typeof turn.content === 'string') {
        parts.push(Buffer.from(JSON.stringify({ role: turn.role, content: turn.content })));
        return;
      }
      parts.push(Buffer.from(`{"role":${JSON.stringify(turn.role)},"content":[`));
      turn.content.forEach((block, j) => {
        if (j > 0) parts.push(COMMA);
        parts.push(block.type === 'text' ? Buffer.from(JSON.stringify(block)) : imageFragment(block.image));
      });
      parts.push(Buffer.from(']}'));
    });
    parts.push(Buffer.from(`],${JSON.stringify(rest).slice(1)}`));
    return Buffer.concat(parts);
  }

  /** A failure's cause in a few words, the same for every call it hit, so a summary can count them. */
  private shortReason(error: unknown): string {
    if (error instanceof OpenAI.APIConnectionTimeoutError) return `timeout after ${this.settings.timeoutS} s`;
    if (error instanceof OpenAI.APIError && error.status !== undefined) return `HTTP ${error.status}`;
    if (error instanceof JudgementError) return error.reason;
    return describeError(error);
  }

  private pickReplica(): Replica {
    const now = Date.now();
    for (let i = 0; i < this.replicas.length; i++) {
      const replica = this.replicas[(this.next + i) % this.replicas.length];
      if (replica.downUntil <= now) {
        this.next = (this.next + i + 1) % this.replicas.length;
        return replica;
      }
    }
    // Every replica is set aside: try the one that comes back soonest rather than waiting.
    return this.replicas.reduce((a, b) => (a.downUntil <= b.downUntil ? a : b));
  }

  /**
   * Only connection-level failures trip the breaker: once every replica has refused connections for
   * BREAKER_WINDOW_MS (or a call has spent its retries on them), the run ends, well within 10 s.
   */
  private connectionFailed(replica: Replica, error: unknown, retriesSpent: boolean): void {
    replica.downUntil = Date.now() + COOLDOWN_MS;
    this.firstConnectionFailure ??= Date.now();
    const allDown = this.replicas.every((r) => r.downUntil > Date.now());
    if (allDown && (retriesSpent || Date.now() - this.firstConnectionFailure >= BREAKER_WINDOW_MS)) {
      this.breakerOpen = `the judge stopped answering: ${this.replicas.map((r) => r.url).join(', ')} refused connections for ${((Date.now() - this.firstConnectionFailure) / 1000).toFixed(1)} s (${describeError(error)})`;
    }
  }

  private checkBudget(): void {
    const { maxCalls, maxCost } = this.settings;
    if (maxCalls !== null && this.usage.calls >= maxCalls)
      throw new BudgetExceededError(`judge.max_calls (${maxCalls}) reached`);
    if (maxCost !== null && this.usage.cost !== null && this.usage.cost >= maxCost)
      throw new BudgetExceededError(`judge.max_cost (${maxCost}) reached at ${this.usage.cost.toFixed(4)}`);
  }

  private hasPrices(): boolean {
    return this.settings.prices.input_per_mtok !== null || this.settings.prices.output_per_mtok !== null;
  }

  private count(usage: { prompt_tokens: number; completion_tokens: number }): void {
    this.usage.promptTokens += usage.prompt_tokens;
    this.usage.completionTokens += usage.completion_tokens;
    if (this.usage.cost !== null) {
      const { input_per_mtok, output_per_mtok } = this.settings.prices;
      this.usage.cost +=
        (usage.prompt_tokens * (input_per_mtok ?? 0) + usage.completion_tokens * (output_per_mtok ?? 0)) / 1e6;
    }
  }
}

function reaskText(problem: string, request: AskRequest['answer']): string {
  const shape = answerShape(request.kind, request.n, request.min, request.max);
  return `Your previous answer could not be used: ${problem}. Reply again with only the JSON object ${shape}.`;
}

function authMessage(url: string, status: number, apiKey: string | undefined): string {
  const set = apiKey && apiKey !== 'EMPTY' ? 'a key was set' : 'no key was set';
  return `${url} refused the API key (HTTP ${status}; ${set}). Set the variable judge.api_key refers to (e.g. ARR_JUDGE_API_KEY) to a key this endpoint accepts.`;
}

function describeFetchFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code === 'ECONNREFUSED' ? 'connection refused' : cause.code;
  if (cause?.message) return cause.message; // e.g. fetch's "bad port" for ports browsers refuse
  if ((error as Error).name === 'TimeoutError') return 'no answer within the preflight timeout';
  return (error as Error).message;
}

export function describeError(error: unknown): string {
  if (error instanceof OpenAI.APIConnectionTimeoutError) return 'timed out';
  if (error instanceof OpenAI.APIConnectionError) {
    const code = (error.cause as { code?: string } | undefined)?.code;
    return code === 'ECONNREFUSED' ? 'connection refused' : `connection error${code ? ` (${code})` : ''}`;
  }
  if (error instanceof OpenAI.APIError) return `HTTP ${error.status}: ${error.message}`;
  return (error as Error).message ?? String(error);
}
