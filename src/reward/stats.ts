// Counters the reward service reports at GET /v1/stats.
import type { Usage } from '../judge/client.js';
import type { BreakerState } from './breaker.js';

const LATENCY_WINDOW = 4096;

/** Handling times of the last requests answered 200, as a ring. */
class LatencyWindow {
  private readonly samples: number[] = [];
  private next = 0;

  add(ms: number): void {
    this.samples[this.next] = ms;
    this.next = (this.next + 1) % LATENCY_WINDOW;
  }

  summary(): { p50: number | null; p95: number | null; samples: number } {
    const sorted = this.samples.slice().sort((a, b) => a - b);
    const pct = (p: number) =>
      sorted.length ? roundMs(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]) : null;
    return { p50: pct(0.5), p95: pct(0.95), samples: sorted.length };
  }
}

export interface RefusedCounts {
  400: number;
  401: number;
  408: number;
  413: number;
  503: number;
}

export interface RewardStats {
  /** Every request, whatever its path. */
  requests: number;
  /** Items rewarded (answered 200). */
  items: number;
  /** Reward requests answered 502: a failed judgement, a disagreement under `error`, an unusable judge. */
  failures: number;
  /** Reward requests whose client went away before the answer was sent; never judge failures. */
  disconnects: number;
  refused: RefusedCounts;
  /** Items (and chat completions) accepted and not yet answered. */
  inFlightItems: number;
  /** Reward request handling time in ms over the last requests answered 200. */
  latencyMs: { p50: number | null; p95: number | null; samples: number };
  /** The OpenAI-compatible endpoint: completions forwarded to the judge for trainers that call it directly. */
  chat: {
    requests: number;
    completions: number;
    failures: number;
    disconnects: number;
    latencyMs: { p50: number | null; p95: number | null; samples: number };
  };
  /** The service's breaker: `open` while the judge is unreachable, `half-open` while it is being retried. */
  breaker: { state: BreakerState; opened: number; recovered: number };
  judge: Usage;
}

export type Endpoint = 'rewards' | 'chat';

/** Mutable counters behind RewardStats. */
export class ServiceStats {
  requests = 0;
  readonly rewards = { items: 0, failures: 0, disconnects: 0 };
  readonly chat = { requests: 0, completions: 0, failures: 0, disconnects: 0 };
  readonly refused: RefusedCounts = { 400: 0, 401: 0, 408: 0, 413: 0, 503: 0 };
  private readonly rewardLatency = new LatencyWindow();
  private readonly chatLatency = new LatencyWindow();

  /** Counts a non-200 answer under refusals (4xx, 503) or failures (502) of `endpoint`. */
  countError(status: number, endpoint: Endpoint | undefined): void {
    if (status in this.refused) this.refused[status as keyof RefusedCounts]++;
    else if (status === 502) {
      if (endpoint === 'chat') this.chat.failures++;
      else this.rewards.failures++;
    }
  }

  countDisconnect(endpoint: Endpoint | undefined): void {
    if (endpoint === 'chat') this.chat.disconnects++;
    else this.rewards.disconnects++;
  }

  answered(endpoint: Endpoint, ms: number, items = 1): void {
    if (endpoint === 'chat') {
      this.chat.completions++;
      this.chatLatency.add(ms);
    } else {
      this.rewards.items += items;
      this.rewardLatency.add(ms);
    }
  }

  snapshot(extra: { inFlightItems: number; breaker: RewardStats['breaker']; judge: Usage }): RewardStats {
    return {
      requests: this.requests,
      ...this.rewards,
      refused: { ...this.refused },
      inFlightItems: extra.inFlightItems,
      latencyMs: this.rewardLatency.summary(),
      chat: { ...this.chat, latencyMs: this.chatLatency.summary() },
      breaker: extra.breaker,
      judge: { ...extra.judge },
    };
  }
}

export const roundMs = (ms: number): number => Math.round(ms * 100) / 100;
