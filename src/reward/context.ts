// What every handler of the reward service shares.
import type { JudgeSession } from '../judge/session.js';
import type { Experiment } from '../types/experiment.js';
import type { ServiceBreaker } from './breaker.js';
import { HttpError, type BodyBudget } from './http.js';
import type { RewardLimits } from './limits.js';
import type { AllowedRoots } from './roots.js';
import type { ServiceStats } from './stats.js';

export interface ServiceContext {
  experiment: Experiment;
  /** The frozen rubric text every reward item is judged with. */
  rubric: string;
  limits: RewardLimits;
  session: JudgeSession;
  roots: AllowedRoots;
  stats: ServiceStats;
  breaker: ServiceBreaker;
  budget: BodyBudget;
  queue: WorkQueue;
  /** Use the judge response cache for reward judgements. */
  cache: boolean;
  log: (line: string) => void;
}

/** Work accepted and not yet answered (reward items and chat completions), bounded by reward limits. */
export class WorkQueue {
  private pending = 0;
  constructor(private readonly max: number) {}

  get inFlight(): number {
    return this.pending;
  }

  /** Reserves room for `n` units synchronously (so concurrent requests cannot overshoot) or throws 503. */
  reserve(n: number): (done?: number) => void {
    if (this.pending + n > this.max) {
      throw new HttpError(
        503,
        `queue full: ${this.pending} items in flight, ${n} more would pass the limit of ${this.max}; retry shortly`,
        { 'retry-after': '1' },
      );
    }
    this.pending += n;
    let left = n;
    return (k = left) => {
      const give = Math.min(k, left);
      left -= give;
      this.pending -= give;
    };
  }
}
