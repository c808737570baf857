// The invalidation contract: which fields and files each cached target's key reads. The specs live
// with the targets in targets/registry.ts; this module is the keys' view of them.
export { CACHED_TARGETS, keySpec, type CachedTarget, type FileInput, type KeySpec } from '../targets/registry.js';

/** Never in any key: where the judge runs and how hard we push it, and pass/fail thresholds. */
export const NEVER_IN_KEYS = [
  'judge.api_key',
  'judge.base_url',
  'judge.backend',
  'judge.local.gpu_layers',
  'judge.local.threads',
  'judge.local.parallel',
  'judge.local.context',
  'judge.concurrency',
  'judge.timeout_s',
  'judge.retries',
  'verify.min_accuracy',
  'verify.min_agreement',
  'verify.min_gain',
  'verify.max_failures',
  'rubric.max_failures',
  'rubric.allow_unlocked',
];
