import { describe, expect, it } from 'vitest';
import { AnswerError, extractAnswerObject, parseRankAnswer, parseScoreAnswer } from '../../src/judge/answers.js';
import { rankToRewards } from '../../src/judge/rewards.js';
import { wilson } from '../../src/judge/evaluate.js';

describe('extracting the answer from a reply', () => {
  const cases: [string, string][] = [
    ['plain JSON', '{"rank": [2, 1], "reason": "b"}'],
    ['a code fence', '```json\n{"rank": [2, 1], "reason": "b"}\n```'],
    ['a preamble and trailing text', 'Sure! Here it is: {"rank": [2, 1], "reason": "b"} Hope this helps.'],
    ['a think block with a decoy answer', '<think>maybe {"rank": [1, 2]} hmm</think>\n{"rank": [2, 1], "reason": "b"}'],
    ['an echoed format example without the key first', '{"format": "x"} then {"rank": [2, 1], "reason": "b"}'],
    ['braces inside strings', '{"rank": [2, 1], "reason": "the {left} one has a } in it"}'],
  ];
  for (const [name, reply] of cases) {
    it(`tolerates ${name}`, () => expect(parseRankAnswer(reply, 2).rank).toEqual([2, 1]));
  }

  it('names what is wrong when there is no usable object, keeping the raw reply', () => {
    expect(() => extractAnswerObject('', 'rank')).toThrow('the reply is empty');
    expect(() => extractAnswerObject('I prefer the first image.', 'rank')).toThrow('the reply has no JSON object');
    const truncated = '{"rank": [2, 1], "reason": "the second image shows';
    try {
      extractAnswerObject(truncated, 'rank');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AnswerError);
      expect((error as AnswerError).message).toContain('truncated');
      expect((error as AnswerError).raw).toBe(truncated);
    }
  });

  it('accepts only a permutation of 1..n as a rank', () => {
    expect(() => parseRankAnswer('{"rank": [1, 1]}', 2)).toThrow('"rank" [1,1] is not a permutation of 1..2 (no ties)');
    expect(() => parseRankAnswer('{"rank": [1, 2, 3]}', 2)).toThrow('"rank" has 3 entries but there are 2 candidates');
    expect(() => parseRankAnswer('{"rank": ["first"]}', 1)).toThrow('"rank" must be a list of integers');
    expect(parseRankAnswer('{"rank": [3, 1, 2]}', 3).rank).toEqual([3, 1, 2]);
  });

  it('accepts only an integer score within the range', () => {
    expect(parseScoreAnswer('{"score": 4, "reason": "ok"}', 1, 5)).toEqual({ score: 4, reason: 'ok' });
    expect(parseScoreAnswer('{"score": "3"}', 1, 5).score).toBe(3);
    expect(() => parseScoreAnswer('{"score": 7}', 1, 5)).toThrow('"score" 7 is outside 1..5');
    expect(() => parseScoreAnswer('{"score": 3.5}', 1, 5)).toThrow('"score" must be an integer');
  });
});

describe('rank to reward', () => {
  it('matches the reference for one, two and N candidates', () => {
    expect(rankToRewards([1])).toEqual([1.0]);
    expect(rankToRewards([1, 2])).toEqual([1.0, -0.1]);
    expect(rankToRewards([2, 1])).toEqual([-0.1, 1.0]);
    const four = rankToRewards([4, 1, 3, 2]);
    expect(four[1]).toBeCloseTo(1.0);
    expect(four[0]).toBeCloseTo(-0.1);
    expect(four[3]).toBeCloseTo(1.0 - (1 / 3) * 1.1);
  });

  it('raises instead of rewarding a failed or invalid judgement', () => {
    expect(() => rankToRewards([])).toThrow('cannot turn rank [] into rewards');
    expect(() => rankToRewards([1, 1])).toThrow('must be a permutation');
  });
});

describe('Wilson interval', () => {
  it('is bounded, contains the estimate and narrows with n', () => {
    const [lo, hi] = wilson(8, 10);
    expect(lo).toBeGreaterThan(0.44);
    expect(hi).toBeLessThan(0.97);
    const [lo2, hi2] = wilson(80, 100);
    expect(hi2 - lo2).toBeLessThan(hi - lo);
    expect(wilson(0, 0)).toEqual([0, 0]);
    expect(wilson(10, 10)[1]).toBeCloseTo(1, 12);
    expect(wilson(8, 10)[0]).toBeCloseTo(0.4902, 4);
  });
});
