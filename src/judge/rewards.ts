/**
 * Rank → reward exactly as the reference (docs/architecture.md, "Rewards"): one candidate gets 1.0; a pair gets 1.0
 * for rank 1 and −0.1 for rank 2; N ≥ 3 falls linearly from 1.0 (rank 1) to −0.1 (rank N). Unlike the
 * reference, an empty or invalid rank raises: a failed judgement never becomes a reward.
 */
export function rankToRewards(rank: readonly number[]): number[] {
  const n = rank.length;
  const sorted = [...rank].sort((a, b) => a - b);
  if (n === 0 || !sorted.every((r, i) => r === i + 1))
    throw new Error(
      `cannot turn rank ${JSON.stringify(rank)} into rewards: it must be a permutation of 1..${n || 'N'}`,
    );
  if (n === 1) return [1.0];
  if (n === 2) return rank.map((r) => (r === 1 ? 1.0 : -0.1));
  return rank.map((r) => 1.0 - ((r - 1) / (n - 1)) * 1.1);
}
