// Progress for long work: done/total, rate, ETA and tokens; a redrawn bar on a terminal, a line every
// few seconds otherwise (CI logs), nothing when quiet.
export interface ProgressState {
  done: number;
  total: number;
  tokens?: number;
  cost?: number | null;
}

export class ProgressReporter {
  private readonly started = Date.now();
  private lastLine = 0;
  private readonly tty: boolean;

  /**
   * @param unit 'bytes' shows amounts as KiB/MiB and the rate per second in bytes (transfers);
   * 'items' (the default) shows plain counts.
   */
  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly quiet = false,
    private readonly unit: 'items' | 'bytes' = 'items',
  ) {
    this.tty = Boolean(stream.isTTY) && !process.env.CI;
  }

  update(state: ProgressState): void {
    if (this.quiet) return;
    const now = Date.now();
    const finished = state.done >= state.total;
    if (!this.tty && !finished && now - this.lastLine < 5_000) return;
    this.lastLine = now;
    const text = this.format(state, now);
    if (this.tty) this.stream.write(`\r${text}\x1b[K${finished ? '\n' : ''}`);
    else this.stream.write(`${text}\n`);
  }

  format(state: ProgressState, now = Date.now()): string {
    const elapsed = Math.max((now - this.started) / 1000, 1e-3);
    const rate = state.done / elapsed;
    const eta = rate > 0 ? (state.total - state.done) / rate : Infinity;
    const width = 24;
    const filled = state.total ? Math.round((state.done / state.total) * width) : width;
    const bar = `${'='.repeat(filled)}${' '.repeat(width - filled)}`;
    const amount =
      this.unit === 'bytes' ? `${formatBytes(state.done)}/${formatBytes(state.total)}` : `${state.done}/${state.total}`;
    const speed = this.unit === 'bytes' ? `${formatBytes(rate)}/s` : `${rate.toFixed(1)}/s`;
    const parts = [`${this.label} [${bar}] ${amount}`, speed, `ETA ${Number.isFinite(eta) ? formatSeconds(eta) : '?'}`];
    if (state.tokens !== undefined) parts.push(`${state.tokens.toLocaleString('en-US')} tokens`);
    if (state.cost !== undefined && state.cost !== null) parts.push(`cost ${state.cost.toFixed(4)}`);
    return parts.join('  ');
  }
}

/** 1536 → "1.5 KiB": binary units, one decimal above bytes. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = bytes;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(n)} B` : `${n.toFixed(1)} ${units[u]}`;
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.ceil(s)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${Math.round(s % 60)}s` : `${Math.floor(m / 60)}h${m % 60}m`;
}
