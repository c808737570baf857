// A one-line download progress bar on stderr: bytes, rate and time left, redrawn at most twice a second.
import { gib, type DownloadProgress } from './hub.js';

export function progressBar(stream: NodeJS.WriteStream = process.stderr): (p: DownloadProgress) => void {
  let file = '';
  let started = 0;
  let startBytes = 0;
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (p.file !== file) {
      file = p.file;
      started = now;
      startBytes = p.done;
    }
    const finished = p.done >= p.total;
    if (!finished && now - last < 500) return;
    last = now;
    const rate = (p.done - startBytes) / Math.max(0.001, (now - started) / 1000);
    const eta = rate > 0 ? (p.total - p.done) / rate : Infinity;
    const width = 24;
    const filled = Math.round((p.done / Math.max(1, p.total)) * width);
    const line = `${file} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${gib(p.done)} / ${gib(p.total)}  ${gib(rate)}/s  ETA ${clock(eta)}`;
    if (stream.isTTY) stream.write(`\r${line}\x1b[K${finished ? '\n' : ''}`);
    else if (
      finished ||
      now - started < 600 ||
      Math.floor((now - started) / 10_000) !== Math.floor((now - 500 - started) / 10_000)
    )
      stream.write(`${line}\n`);
  };
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h > 0 ? `${h}:` : ''}${String(m).padStart(h > 0 ? 2 : 1, '0')}:${String(s % 60).padStart(2, '0')}`;
}
