// A judge outage is not a result. A build whose judge calls failed (more than the manifest's
// `*.max_failures` accepts) stores nothing; the answers that did arrive are already in the response
// cache, so the next run re-asks only the calls that failed.
import { describeFailures, JudgeUnavailableError, type JudgementTally } from '../judge/client.js';
import { ArrError } from '../util/errors.js';

/** A build refused to store its artifact because judge calls failed. Exit status 1. */
export class JudgeFailuresError extends ArrError {
  override name = 'JudgeFailuresError';
}

/**
 * Throws JudgeFailuresError when more judgements failed than `maxFailures` allows, e.g.
 * `verify exp-x: 21 of 112 judge calls failed (timeout after 5 s); nothing was stored`.
 * @param field the manifest field that sets the limit (`verify.max_failures`), named in the hint.
 */
export function refuseOnFailures(
  target: string,
  experiment: string,
  tally: JudgementTally,
  maxFailures: number,
  field: string,
): void {
  if (tally.failed <= maxFailures) return;
  throw new JudgeFailuresError(
    `${target} ${experiment}: ${tally.failed} of ${tally.asked} judge calls failed (${describeFailures(tally)}); nothing was stored`,
    {
      hint: `the answers that arrived are cached: run it again once the judge is healthy and only the ${tally.failed} failed call(s) are asked again${maxFailures > 0 ? '' : ` (or accept some failures with ${field})`}`,
    },
  );
}

/**
 * The error a build ends with when the judge stopped answering altogether (the client's breaker), or
 * when the build failed for a reason the failures explain (no seed survived because none was judged).
 */
export function outageOrOriginal(
  target: string,
  experiment: string,
  tally: JudgementTally,
  maxFailures: number,
  field: string,
  error: unknown,
): unknown {
  if (error instanceof JudgeUnavailableError) {
    return new JudgeFailuresError(
      `${target} ${experiment}: ${error.message}; ${tally.failed} of ${tally.asked} judge calls failed; nothing was stored`,
      {
        hint: 'the answers that arrived are cached: start the judge (or fix judge.base_url) and run it again',
        cause: error,
      },
    );
  }
  if (tally.failed > maxFailures) {
    try {
      refuseOnFailures(target, experiment, tally, maxFailures, field);
    } catch (refusal) {
      // Keep what the build itself said (which seeds were dropped, and why) under the count.
      const detail = error instanceof Error ? `\n${error.message}` : '';
      return new JudgeFailuresError(`${(refusal as Error).message}${detail}`, {
        hint: (refusal as JudgeFailuresError).hint,
        cause: error,
      });
    }
  }
  return error;
}

/** Whether a stored artifact was built with more failed judge calls than today's limit accepts. */
export const builtWithTooManyFailures = (storedFailures: number | undefined, maxFailures: number): boolean =>
  (storedFailures ?? 0) > maxFailures;
