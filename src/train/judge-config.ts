// The judge.yaml a run hands the trainer (`--arr_config_path`). An unchanged reference trainer builds
// its judge from it in every rank; pointing `base_url` at the reward service's OpenAI-compatible API
// sends every rank's calls through the service (one concurrency limit, retries, breaker, stats).
import { stringify } from 'yaml';
import type { TrainPlan } from './plan.js';

/** The variable that carries the run-scoped reward token to the ranks; judge.yaml names it, never its value. */
export const REWARD_TOKEN_ENV = 'ARR_REWARD_TOKEN';

/** The OpenAI-compatible base URL of a reward service listening at `serviceUrl`. */
export const openAiBaseUrl = (serviceUrl: string): string => `${serviceUrl.replace(/\/+$/, '')}/v1`;

/**
 * The judge config in the reference's format. `api_key` is the literal text `${ARR_REWARD_TOKEN}`:
 * the reference loader expands `${ENV}` references in it, so the token lives only in the ranks'
 * environment and never on disk.
 */
export function judgeConfigYaml(plan: TrainPlan, rubricFile: string, serviceUrl: string): string {
  const config = {
    grader_name: 'image quality comparator',
    model_name: plan.judge.model,
    base_url: openAiBaseUrl(serviceUrl),
    api_key: `\${${REWARD_TOKEN_ENV}}`,
    temperature: plan.judge.temperature,
    task_type: plan.task === 't2i' ? 't2i' : 'image_edit',
    eval_mode: plan.judge.mode,
    language: plan.judge.language,
    ...(plan.judge.taskDescription ? { task_description: plan.judge.taskDescription } : {}),
    rubrics_file: rubricFile,
  };
  return `# Written by arr for this run. base_url is the run's reward service; api_key names the variable\n# holding the run's token (the reference loader expands it), never its value.\n${stringify(config)}`;
}
