import { ArrError } from '../util/errors.js';
import type { Experiment } from '../types/experiment.js';
import type { JudgeSettings } from './client.js';
import { urlSecretMessage } from '../util/url-secrets.js';
import type { LocalJudgeSettings } from './local/backend.js';

export type JudgeBackendKind = 'http' | 'local';

/**
 * Where the judge runs. `ARR_JUDGE_BACKEND` overrides judge.backend; an explicit `http` or `local`
 * wins; `auto` is `http` when there is an endpoint (ARR_JUDGE_URL, a --base-url flag, or
 * judge.base_url set by a manifest) and `local` otherwise.
 */
export function judgeBackend(
  experiment: Experiment,
  options: { baseUrl?: string; env?: NodeJS.ProcessEnv } = {},
): JudgeBackendKind {
  const env = options.env ?? process.env;
  const setting = env.ARR_JUDGE_BACKEND || experiment.judge.backend;
  if (setting === 'http' || setting === 'local') return setting;
  if (setting !== 'auto') throw new ArrError(`ARR_JUDGE_BACKEND must be auto, http or local, not "${setting}"`);
  return options.baseUrl || env.ARR_JUDGE_URL || baseUrls(experiment).length > 0 ? 'http' : 'local';
}

const baseUrls = (experiment: Experiment): string[] => {
  const value = experiment.judge.base_url;
  const list = value === null || value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.map((u) => u.trim()).filter(Boolean);
};

/** The judge client's settings from a resolved experiment; CLI flags override. */
export function judgeSettings(
  experiment: Experiment,
  overrides: { baseUrl?: string; concurrency?: number } = {},
): JudgeSettings {
  const j = experiment.judge;
  const urls = overrides.baseUrl
    ? overrides.baseUrl
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean)
    : baseUrls(experiment);
  for (const url of urls) {
    // The manifest loader refuses these already; a --base-url flag has not been through it.
    const problem = urlSecretMessage(overrides.baseUrl ? '--base-url' : 'judge.base_url', url);
    if (problem) throw new ArrError(problem);
  }
  return {
    model: j.model,
    baseUrls: urls,
    apiKey: j.api_key === 'EMPTY' || j.api_key === '' ? undefined : j.api_key,
    provider: j.provider,
    temperature: j.temperature,
    maxTokens: j.max_tokens,
    timeoutS: j.timeout_s,
    retries: j.retries,
    reasks: j.reasks,
    concurrency: overrides.concurrency ?? j.concurrency,
    imageMaxSide: j.image_max_side,
    maxCalls: j.max_calls,
    maxCost: j.max_cost,
    prices: j.prices,
  };
}

/** judge.local with its defaults, as the local backend takes it. */
export function localJudgeSettings(experiment: Experiment): LocalJudgeSettings {
  const l = experiment.judge.local;
  return {
    model: l.model,
    mmproj: l.mmproj,
    quant: l.quant,
    gpuLayers: l.gpu_layers,
    threads: l.threads,
    parallel: l.parallel,
    context: l.context,
  };
}
