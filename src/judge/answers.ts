// Judge answers: find the JSON object in a free-text reply, then check it means something.

import { ArrError } from '../util/errors.js';

/** What an answer holds: ranks or a score (grading), criteria or categories (rubric building). */
export type AnswerKind = 'rank' | 'score' | 'rubrics' | 'categories';

export interface RankAnswer {
  rank: number[];
  reason: string;
}
export interface ScoreAnswer {
  score: number;
  reason: string;
}

/** The reply carried no usable answer; `raw` is kept for the report. */
export class AnswerError extends ArrError {
  constructor(
    message: string,
    readonly raw: string,
  ) {
    super(message);
    this.name = 'AnswerError';
  }
}

/** Removes `<think>…</think>` blocks (and an unterminated one at the start, as truncated replies have). */
export function stripThinking(text: string): string {
  return text.replace(/<think>[\s\S]*?<\/think>/gi, '').replace(/^\s*<think>[\s\S]*$/i, '');
}

/** Every balanced `{…}` span in the text, in order, skipping braces inside JSON strings. */
function* balancedObjects(text: string): Generator<string> {
  for (let start = text.indexOf('{'); start !== -1; start = text.indexOf('{', start + 1)) {
    let depth = 0;
    let inString = false;
    for (let i = start; i < text.length; i++) {
      const c = text[i];
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{') depth++;
      else if (c === '}' && --depth === 0) {
        yield text.slice(start, i + 1);
        break;
      }
    }
  }
}

/**
 * The first JSON object in a reply that has `key`: preambles, code fences, trailing text and thinking
 * are tolerated; an echoed format example inside a think block is not mistaken for the answer.
 */
export function extractAnswerObject(reply: string, key: string): Record<string, unknown> {
  const text = stripThinking(reply);
  for (const candidate of balancedObjects(text)) {
    try {
      const parsed = JSON.parse(candidate);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && key in parsed) return parsed;
    } catch {
      /* not JSON: keep scanning */
    }
  }
  const hint =
    text.trim() === ''
      ? 'the reply is empty'
      : text.includes('{')
        ? `no complete JSON object with "${key}" (truncated?)`
        : 'the reply has no JSON object';
  throw new AnswerError(hint, reply);
}

/** A rank answer: a permutation of 1..n aligned with the candidates, no ties. */
export function parseRankAnswer(reply: string, n: number): RankAnswer {
  const obj = extractAnswerObject(reply, 'rank');
  const rank = obj.rank;
  if (!Array.isArray(rank) || !rank.every((r) => Number.isInteger(r)))
    throw new AnswerError(`"rank" must be a list of integers, got ${JSON.stringify(rank)}`, reply);
  if (rank.length !== n)
    throw new AnswerError(`"rank" has ${rank.length} entries but there are ${n} candidates`, reply);
  const sorted = [...(rank as number[])].sort((a, b) => a - b);
  if (!sorted.every((r, i) => r === i + 1))
    throw new AnswerError(`"rank" ${JSON.stringify(rank)} is not a permutation of 1..${n} (no ties)`, reply);
  return { rank: rank as number[], reason: typeof obj.reason === 'string' ? obj.reason : '' };
}

/** A score answer: an integer within [min, max]. */
export function parseScoreAnswer(reply: string, min: number, max: number): ScoreAnswer {
  const obj = extractAnswerObject(reply, 'score');
  const score = typeof obj.score === 'string' && /^\s*-?\d+\s*$/.test(obj.score) ? Number(obj.score) : obj.score;
  if (typeof score !== 'number' || !Number.isInteger(score))
    throw new AnswerError(`"score" must be an integer, got ${JSON.stringify(obj.score)}`, reply);
  if (score < min || score > max) throw new AnswerError(`"score" ${score} is outside ${min}..${max}`, reply);
  return { score, reason: typeof obj.reason === 'string' ? obj.reason : '' };
}

/** The JSON Schema of an answer, for endpoints that constrain decoding. */
export function answerSchema(kind: AnswerKind, n: number, min = 1, max = 5): Record<string, unknown> {
  // Every string and list is bounded, so a grammar-constrained reply always closes its object within
  // a known number of characters instead of running until max_tokens.
  const text = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength });
  const value = {
    rank: { type: 'array', items: { type: 'integer', minimum: 1, maximum: n }, minItems: n, maxItems: n },
    score: { type: 'integer', minimum: min, maximum: max },
    rubrics: { type: 'array', items: text(400), minItems: 1, maxItems: n },
    categories: {
      type: 'array',
      minItems: 1,
      maxItems: n,
      items: {
        type: 'object',
        properties: { theme: text(120), tips: { type: 'array', items: text(300), minItems: 1, maxItems: 12 } },
        required: ['theme', 'tips'],
        additionalProperties: false,
      },
    },
  }[kind];
  return {
    type: 'object',
    properties: { [kind]: value, reason: { type: 'string', maxLength: 800 } },
    required: [kind, 'reason'],
    additionalProperties: false,
  };
}
