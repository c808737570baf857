import { ProgressReporter } from './progress.js';

/** Transfers smaller than this finish before a bar would help; they get no bar. */
const BAR_FROM_BYTES = 1 << 20;

/**
 * A byte progress bar (amount, rate, ETA) on stderr for one transfer of `totalBytes`; a no-op for
 * small ones. Matches the store's ProgressFactory shape.
 */
export function byteProgress(label: string, totalBytes: number): (doneBytes: number) => void {
  if (totalBytes < BAR_FROM_BYTES) return () => {};
  const bar = new ProgressReporter(label, process.stderr, false, 'bytes');
  return (done) => bar.update({ done, total: totalBytes });
}
