import { join } from 'node:path';
import type { Experiment } from '../types/experiment.js';
import { cacheDir } from '../workspace.js';
import { JudgeClient } from './client.js';
import { ImageEncoder } from './images.js';
import { ResponseCache } from './response-cache.js';
import { judgeSettings } from './settings.js';

export interface JudgeSession {
  client: JudgeClient;
  encoder: ImageEncoder;
}

/** A judge client and image encoder for an experiment, sharing the workspace's response and image caches. */
export function openJudge(
  experiment: Experiment,
  workspaceRoot: string,
  options: { baseUrl?: string; concurrency?: number; warn?: (m: string) => void } = {},
): JudgeSession {
  const settings = judgeSettings(experiment, options);
  const cache = new ResponseCache(join(cacheDir(workspaceRoot), 'judge'));
  return {
    client: new JudgeClient(settings, { cache, warn: options.warn }),
    encoder: new ImageEncoder({ maxSide: settings.imageMaxSide, cacheDir: join(cacheDir(workspaceRoot), 'images') }),
  };
}
