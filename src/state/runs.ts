// Training runs as `arr runs` lists them: read from cache/runs/*/run.json, defensively (a run still
// going, one that never started, records written by older or newer launchers all have fewer fields).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheDir } from '../workspace.js';

export interface RunSummary {
  run_id: string;
  experiment: string | null;
  target: string | null;
  started: string | null;
  ended: string | null;
  /** Seconds from start to end (or to now for a run still marked running). */
  duration_s: number | null;
  status: string;
  exit_code: number | null;
  /** The frozen rubric file the run used and its sha256, when recorded. */
  rubric: { file: string | null; sha256: string | null } | null;
  /** The reward service's final counters, when recorded. */
  reward: { requests: number | null; failures: number | null; mean_reward: number | null } | null;
  /** Why the record could not be read or the run did not start. */
  error?: string;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const obj = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/** The mean reward under any of the names a launcher may record it by. */
function meanReward(stats: Record<string, unknown>): number | null {
  const rewards = obj(stats.rewards) ?? obj(stats.reward);
  return num(stats.mean_reward) ?? num(stats.meanReward) ?? num(stats.reward_mean) ?? num(rewards?.mean) ?? null;
}

/** One run directory's record, summarised; never throws. */
export function summariseRun(runId: string, record: unknown, now = Date.now()): RunSummary {
  const r = obj(record) ?? {};
  const started = str(r.started);
  const ended = str(r.ended);
  const status = str(r.status) ?? 'unknown';
  let duration = num(r.duration_s);
  if (duration === null && started) {
    const end = ended ? Date.parse(ended) : status === 'running' ? now : NaN;
    const start = Date.parse(started);
    if (Number.isFinite(end) && Number.isFinite(start)) duration = Math.round((end - start) / 10) / 100;
  }
  const inputs = obj(r.inputs);
  const rubricIn = inputs?.rubric;
  const rubricObj = obj(rubricIn);
  const rubric =
    rubricIn === undefined
      ? null
      : {
          file: str(rubricObj?.file) ?? str(rubricObj?.path) ?? (typeof rubricIn === 'string' ? rubricIn : null),
          sha256: str(rubricObj?.sha256) ?? str(rubricObj?.hash),
        };
  const stats = obj(obj(r.reward_service)?.stats);
  const reward = stats
    ? { requests: num(stats.requests), failures: num(stats.failures), mean_reward: meanReward(stats) }
    : null;
  return {
    run_id: str(r.run_id) ?? runId,
    experiment: str(r.experiment),
    target: str(r.target),
    started,
    ended,
    duration_s: duration,
    status,
    exit_code: num(r.exit_code),
    rubric,
    reward,
    ...(str(r.error) ? { error: str(r.error)! } : {}),
  };
}

/** Every run under cache/runs/, newest first; `experiment` keeps only that experiment's runs. */
export async function listRuns(workspaceRoot: string, experiment?: string): Promise<RunSummary[]> {
  const dir = join(cacheDir(workspaceRoot), 'runs');
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const runs: RunSummary[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    let record: unknown;
    try {
      record = JSON.parse(await readFile(join(dir, e.name, 'run.json'), 'utf8'));
    } catch (error) {
      const why =
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'no run.json (the launch did not get that far)'
          : `unreadable run.json: ${(error as Error).message}`;
      runs.push({ ...summariseRun(e.name, {}), status: 'unknown', error: why });
      continue;
    }
    runs.push(summariseRun(e.name, record));
  }
  const shown = experiment ? runs.filter((r) => r.experiment === experiment) : runs;
  return shown.sort((a, b) => (b.started ?? b.run_id).localeCompare(a.started ?? a.run_id));
}
