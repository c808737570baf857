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
  let last = 0;
  return (done) => {
    // Chunks arrive every few KiB; redraw at most ten times a second, and always at the end.
    const now = Date.now();
    if (done < totalBytes && now - last < 100) return;
    last = now;
    bar.update({ done, total: totalBytes });
  };
}
