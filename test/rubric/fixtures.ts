// Shared by the rubric tests: a categorised rubric text and lock inputs that pass their thresholds.
import type { RubricLockInput } from '../../src/rubric/freeze.js';

export const TEXT =
  'Rubric 1:\nTheme: Prompt alignment\n- Tip1: Count the objects.\n- Tip2: Check colours.\n\nRubric 2:\nTheme: Artifacts\n- Tip1: No extra fingers.\n';

export function lockInput(
  over: Partial<RubricLockInput['metrics']> = {},
  thresholds: Partial<RubricLockInput['thresholds']> = {},
): RubricLockInput {
  return {
    source_artifact: 'a'.repeat(64),
    verify_key: 'b'.repeat(64),
    prompt_version: 'arr-prompts/1',
    judge_model: 'Qwen/Qwen3-VL-8B-Instruct',
    datasets: { seed: { path: 'data/seed.jsonl', sha256: 'c'.repeat(64) }, test: null },
    // 0.75 - 0.65 is 0.09999999999999998 in floating point: must still meet min_gain 0.1.
    metrics: {
      accuracy: 0.75,
      ci95: [0.6, 0.86],
      agreement: 0.9,
      baseline_accuracy: 0.65,
      gain: 0.75 - 0.65,
      seed_accuracy: null,
      failures: 0,
      ...over,
    },
    thresholds: { min_accuracy: 0.6, min_agreement: 0.8, min_gain: 0.1, ...thresholds },
  };
}
