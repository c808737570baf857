import { join } from 'node:path';
import type { Experiment } from '../types/experiment.js';
import { cacheDir } from '../workspace.js';
import { JudgeClient } from './client.js';
import { ImageEncoder } from './images/encoder.js';
import { LocalBackend, type LocalBackendOptions } from './local/backend.js';
import { ResponseCache } from './response-cache.js';
import { judgeBackend, judgeSettings, localJudgeSettings } from './settings.js';

export interface JudgeSession {
  client: JudgeClient;
  encoder: ImageEncoder;
  /** The in-process backend, when the judge runs locally. */
  local?: LocalBackend;
}

/**
 * A judge client and image encoder for an experiment, sharing the workspace's response and image
 * caches. With the local backend the model files are resolved (downloaded if needed) and loaded on
 * the first judgement, once per process.
 */
export function openJudge(
  experiment: Experiment,
  workspaceRoot: string,
  options: {
    baseUrl?: string;
    concurrency?: number;
    warn?: (m: string) => void;
    local?: Omit<LocalBackendOptions, 'base'>;
  } = {},
): JudgeSession {
  const settings = judgeSettings(experiment, options);
  const cache = new ResponseCache(join(cacheDir(workspaceRoot), 'judge'));
  const backend =
    judgeBackend(experiment, { baseUrl: options.baseUrl }) === 'local'
      ? new LocalBackend(localJudgeSettings(experiment), { base: workspaceRoot, ...options.local })
      : undefined;
  return {
    client: new JudgeClient(settings, { cache, warn: options.warn, backend }),
    encoder: new ImageEncoder({ maxSide: settings.imageMaxSide, cacheDir: join(cacheDir(workspaceRoot), 'images') }),
    local: backend,
  };
}

/** Where a session's judge runs and, when local, its model files: what reports, traces and locks record. */
export async function judgeProvenance(
  session: JudgeSession,
): Promise<{ backend: 'http' | 'local'; model_files?: { name: string; sha256: string }[] }> {
  if (!session.local) return { backend: 'http' };
  const files = await session.local.files();
  return {
    backend: 'local',
    model_files: [files.model, files.mmproj].map((f) => ({ name: f.name, sha256: f.sha256 })),
  };
}

/** What the judge's provenance adds to a report: `backend`, and the local model files' hashes. */
export type JudgeProvenance = Awaited<ReturnType<typeof judgeProvenance>>;

/**
 * Opens the experiment's judge for a run that reports on it: the session, after the endpoint (or the
 * local model) answered the preflight, with its provenance for the report.
 */
export async function openCheckedJudge(
  experiment: Experiment,
  workspaceRoot: string,
  options: Parameters<typeof openJudge>[2] = {},
): Promise<JudgeSession & { provenance: JudgeProvenance }> {
  const session = openJudge(experiment, workspaceRoot, options);
  await session.client.preflight();
  return { ...session, provenance: await judgeProvenance(session) };
}
