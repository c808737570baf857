// What `arr train --plan` says about rewards. An unchanged reference trainer builds its judge from
// judge.yaml and calls a chat endpoint itself; judge.yaml points that endpoint at the reward service,
// so the service's limits hold, but the judging procedure (order, how a verdict becomes rewards) stays
// the trainer's. The settings that shape that procedure need the trainer to ask the service for rewards.
import { fileURLToPath } from 'node:url';
import type { TrainPlan } from './plan.js';

/** python/ of this package: where arr_reward_client.py lives. */
export const PYTHON_DIR = fileURLToPath(new URL('../../python', import.meta.url));

export interface RewardModeReport {
  /** How rewards flow in this mode, in one sentence. */
  mode: string;
  /** `reward.*` (and judge.*) settings in force, each with why. */
  applies: string[];
  /** Settings that have no effect in this mode, each with why. */
  ignored: string[];
  /** The trainer lines that switch it to python/arr_reward_client.py, where the other settings apply too. */
  switchLines: string[];
}

/** Which reward settings apply when the trainer judges through judge.yaml, and how to apply the rest. */
export function rewardMode(plan: TrainPlan, pythonDir = PYTHON_DIR): RewardModeReport {
  const r = plan.reward;
  const script = plan.task === 't2i' ? 'fastvideo/train_rpo_flux.py' : 'fastvideo/train_rpo_qwen_edit.py';
  return {
    mode: "the trainer builds its judge from judge.yaml, whose base_url is the reward service's OpenAI-compatible /v1: every rank's chat completion goes through the service",
    applies: [
      `reward.bind ${r.bind}, reward.port ${r.port}: where the service listens`,
      "judge.concurrency, judge retries, the breaker and image downscaling: the service forwards every rank's completions through one judge client",
    ],
    ignored: [
      `reward.both_orders ${r.both_orders}: the trainer's own judge chooses the order of each pair`,
      `reward.on_disagreement ${r.on_disagreement}: only meaningful with both orders, which the trainer's judge does not do`,
      `reward.allowed_roots: images arrive inside the chat requests, not as paths`,
    ],
    switchLines: [
      `in ${script}, replace the two lines that build the judge from --arr_config_path`,
      '    arr_judge = Judger(config_path=args.arr_config_path)',
      '    asyncio.run(arr_judge.initialize())',
      'with',
      `    sys.path.insert(0, ${JSON.stringify(pythonDir)})  # needs: import sys`,
      '    import arr_reward_client as arr_judge',
      'get_arr_reward_sync(arr_judge, pair_item, device) then asks the service for rewards (POST /v1/rewards),',
      "where reward.both_orders and reward.on_disagreement apply; ARR_REWARD_URL and ARR_REWARD_TOKEN are already in the ranks' environment.",
    ],
  };
}

/** The report as plan lines. */
export function describeRewardMode(report: RewardModeReport): string[] {
  return [
    `rewards: ${report.mode}`,
    '  applies:',
    ...report.applies.map((l) => `    ${l}`),
    '  does not apply in this mode:',
    ...report.ignored.map((l) => `    ${l}`),
    '  to apply them, switch the trainer to python/arr_reward_client.py:',
    ...report.switchLines.map((l) => `    ${l}`),
  ];
}
