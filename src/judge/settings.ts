import type { Experiment } from '../types/experiment.js';
import type { JudgeSettings } from './client.js';
import { ArrError } from '../util/errors.js';
import { urlSecretMessage } from '../util/url-secrets.js';

/** The judge client's settings from a resolved experiment; CLI flags override. */
export function judgeSettings(experiment: Experiment, overrides: { baseUrl?: string; concurrency?: number } = {}): JudgeSettings {
  const j = experiment.judge;
  const baseUrls = overrides.baseUrl ? overrides.baseUrl.split(',') : Array.isArray(j.base_url) ? j.base_url : [j.base_url];
  for (const url of baseUrls) {
    // The manifest loader refuses these already; a --base-url flag has not been through it.
    const problem = urlSecretMessage(overrides.baseUrl ? '--base-url' : 'judge.base_url', url);
    if (problem) throw new ArrError(problem);
  }
  return {
    model: j.model,
    baseUrls: baseUrls.map((u) => u.trim()).filter(Boolean),
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
