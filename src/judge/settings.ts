import type { Experiment } from '../types/experiment.js';
import type { JudgeSettings } from './client.js';

/** The judge client's settings from a resolved experiment; CLI flags override. */
export function judgeSettings(experiment: Experiment, overrides: { baseUrl?: string; concurrency?: number } = {}): JudgeSettings {
  const j = experiment.judge;
  const baseUrls = overrides.baseUrl ? overrides.baseUrl.split(',') : Array.isArray(j.base_url) ? j.base_url : [j.base_url];
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
