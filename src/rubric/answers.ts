import { AnswerError, extractAnswerObject } from '../judge/answers.js';

/** `{"rubrics": [...]}`: 1..perPair non-empty criteria; extra ones are dropped (the caller notes it). */
export function parseRubricsAnswer(
  reply: string,
  perPair: number,
): { rubrics: string[]; returned: number; reason: string } {
  const obj = extractAnswerObject(reply, 'rubrics');
  if (!Array.isArray(obj.rubrics)) throw new AnswerError('"rubrics" must be a list of strings', reply);
  const rubrics = obj.rubrics
    .filter((r): r is string => typeof r === 'string')
    .map((r) => r.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
  if (rubrics.length === 0) throw new AnswerError('"rubrics" has no non-empty criterion', reply);
  return {
    rubrics: rubrics.slice(0, perPair),
    returned: rubrics.length,
    reason: typeof obj.reason === 'string' ? obj.reason : '',
  };
}

/** `{"categories": [{"theme", "tips"}]}`: 1..max categories, each with a theme and at least one tip. */
export function parseCategoriesAnswer(reply: string, max: number): { theme: string; tips: string[] }[] {
  const obj = extractAnswerObject(reply, 'categories');
  if (!Array.isArray(obj.categories) || obj.categories.length === 0)
    throw new AnswerError('"categories" must be a non-empty list', reply);
  if (obj.categories.length > max)
    throw new AnswerError(`"categories" has ${obj.categories.length} entries; at most ${max} are allowed`, reply);
  return obj.categories.map((c: unknown, i: number) => {
    const cat = c as { theme?: unknown; tips?: unknown };
    const theme = typeof cat.theme === 'string' ? cat.theme.replace(/\s+/g, ' ').trim() : '';
    const tips = Array.isArray(cat.tips)
      ? cat.tips
          .filter((t): t is string => typeof t === 'string')
          .map((t) => t.replace(/\s+/g, ' ').trim())
          .filter(Boolean)
      : [];
    if (!theme) throw new AnswerError(`category ${i + 1} has no "theme"`, reply);
    if (tips.length === 0) throw new AnswerError(`category ${i + 1} has no "tips"`, reply);
    return { theme, tips };
  });
}
