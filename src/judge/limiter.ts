/** A counting semaphore: at most `limit` holders at once, served first come, first served. */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private limit: number) {}

  get inFlight(): number {
    return this.active;
  }

  /** Raises the limit (never lowers it below what is in flight); the process shares one limiter. */
  setLimit(limit: number): void {
    this.limit = limit;
    while (this.active < this.limit && this.waiting.length) this.next();
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      if (this.waiting.length) this.waiting.shift()!();
      else this.active--;
    }
  }

  private next(): void {
    this.active++;
    this.waiting.shift()!();
  }
}

let shared: Limiter | undefined;
/** One concurrency limit for the whole process, whatever number of clients it makes. */
export function processLimiter(limit: number): Limiter {
  if (!shared) shared = new Limiter(limit);
  else shared.setLimit(limit);
  return shared;
}
