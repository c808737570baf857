// The reward service's breaker over the judge client's. A batch build ends when every judge replica has
// refused connections for a while (the client's breaker); a service that runs for a whole training run
// must come back instead. So once the client gives up, this breaker is `open`: requests get 503 at once
// (trainers retry on it) while a probe asks each replica's GET /models every `probeIntervalMs`. When
// one answers, the client's breaker is reset and the state is `half-open`: requests go through, the
// first success closes it, another outage opens it again.
import { JudgeUnavailableError, type JudgeClient } from '../judge/client.js';
import { HttpError } from './http.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Time between probes while open (default 1 000 ms). */
  probeIntervalMs?: number;
  /** How long one probe waits for an answer (default 2 000 ms). */
  probeTimeoutMs?: number;
  log?: (line: string) => void;
}

export class ServiceBreaker {
  private current: BreakerState = 'closed';
  private reason = '';
  private openedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  /** Times the breaker opened, and times it closed again after a successful call. */
  readonly counts = { opened: 0, recovered: 0 };
  private readonly probeIntervalMs: number;
  private readonly probeTimeoutMs: number;

  constructor(
    private readonly client: JudgeClient,
    private readonly options: BreakerOptions = {},
  ) {
    this.probeIntervalMs = options.probeIntervalMs ?? 1_000;
    this.probeTimeoutMs = options.probeTimeoutMs ?? 2_000;
  }

  get state(): BreakerState {
    return this.current;
  }

  /** Throws a 503 with Retry-After while open; otherwise the call may go to the judge. */
  admit(): void {
    if (this.current !== 'open') return;
    const since = ((Date.now() - this.openedAt) / 1000).toFixed(1);
    throw new HttpError(
      503,
      `the judge is unreachable (for ${since} s: ${this.reason}); the service retries it every ${this.probeIntervalMs / 1000} s and resumes when it answers`,
      {
        'retry-after': String(Math.max(1, Math.ceil(this.probeIntervalMs / 1000))),
      },
    );
  }

  /** A call reached the judge and came back: the breaker closes. */
  succeeded(): void {
    if (this.current === 'closed') return;
    this.current = 'closed';
    this.counts.recovered++;
    this.options.log?.('judge answering again: breaker closed');
  }

  /** A call failed; only the client giving up on an unreachable judge opens the breaker. */
  failed(error: unknown): void {
    if (!(error instanceof JudgeUnavailableError) || this.current === 'open') return;
    this.current = 'open';
    this.reason = error.message;
    this.openedAt = Date.now();
    this.counts.opened++;
    this.options.log?.(`breaker open: ${error.message}; probing every ${this.probeIntervalMs / 1000} s`);
    this.schedule();
  }

  /** Stops probing (the service is closing). */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.probe(), this.probeIntervalMs);
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    if (this.current !== 'open' || this.probing) return;
    this.probing = true;
    try {
      if (await this.anyReplicaAnswers()) {
        this.client.resetBreaker();
        this.current = 'half-open';
        this.options.log?.('judge reachable again: breaker half-open');
        return;
      }
    } finally {
      this.probing = false;
    }
    if (this.current === 'open') this.schedule();
  }

  /** True when some replica answers GET /models with any HTTP status: the endpoint is listening again. */
  private async anyReplicaAnswers(): Promise<boolean> {
    const { baseUrls, apiKey } = this.client.settings;
    const answers = await Promise.all(
      baseUrls.map(async (url) => {
        try {
          const response = await fetch(`${url.replace(/\/$/, '')}/models`, {
            headers: { authorization: `Bearer ${apiKey || 'EMPTY'}` },
            signal: AbortSignal.timeout(this.probeTimeoutMs),
          });
          await response.arrayBuffer().catch(() => undefined);
          return response.status < 500;
        } catch {
          return false;
        }
      }),
    );
    return answers.some(Boolean);
  }
}
