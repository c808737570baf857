// A simulated judge that behaves like a VLM building rubrics over brightness pairs: the right answer is
// "the brighter image", and it only judges by brightness when the rubric it is given says so.
import { brightness, rankByValue, type SimRequestView, type SimVerdict } from './sim-vlm.js';

/** The rubric section of a grading prompt (what verification and judging condition on). */
function rubricOf(prompt: string): string {
  const start = prompt.search(/## (Evaluation rubric|评估标准)/);
  const end = prompt.search(/## (Sample|样本)/);
  return start >= 0 && end > start ? prompt.slice(start, end) : '';
}

export interface RubricSimOptions {
  /** Seeds whose query contains this never yield a usable criterion (they must be dropped). */
  hardMarker?: string;
  /** Seeds whose query contains this get a brightness criterion at once. */
  easyMarker?: string;
}

/**
 * - generation: generic criteria first ("easy" seeds: brightness at once; "hard" seeds: never);
 * - revision: adds a brightness criterion (except for "hard" seeds);
 * - categorization: one Theme/Tips rubric per group of 3 criteria;
 * - grading: by brightness when the rubric mentions it, else the first image wins (position bias).
 */
export function makeRubricSimRule(options: RubricSimOptions = {}) {
  const hard = options.hardMarker ?? 'HARD';
  const easy = options.easyMarker ?? 'EASY';
  return (req: SimRequestView): SimVerdict => {
    const prompt = req.prompt;
    if (prompt.includes('"categories"')) {
      const criteria = [...prompt.matchAll(/^\d+\. (.+)$/gm)].map((m) => m[1]);
      const max = Number(/at most (\d+) structured rubrics/.exec(prompt)?.[1] ?? 5);
      const categories = [];
      for (let i = 0; i < criteria.length && categories.length < max; i += 3)
        categories.push({
          theme: `Theme ${categories.length + 1}: ${criteria[i].split(' ').slice(0, 4).join(' ')}`,
          tips: criteria.slice(i, i + 3),
        });
      return { answer: { categories }, reason: 'grouped by topic' };
    }
    if (prompt.includes('"rubrics"')) {
      const k = Number(/exactly (\d+)/.exec(prompt)?.[1] ?? 3);
      const query = /(?:Caption|Editing instruction): (.*)/.exec(prompt)?.[1] ?? '';
      const revising = prompt.includes('## Previous criteria');
      const generic = [
        'The image with the better composition is preferred.',
        'Prefer fewer artifacts and cleaner edges.',
        'Prefer the more aesthetic colour balance.',
        'Prefer sharper details.',
        'Prefer natural lighting.',
      ];
      const useful = !query.includes(hard) && (revising || query.includes(easy));
      const rubrics = useful
        ? ['The brighter image is preferred: compare mean brightness.', ...generic].slice(0, k)
        : generic.slice(0, k);
      return { answer: { rubrics }, reason: useful ? 'brightness separates them' : 'general quality' };
    }
    const rubric = rubricOf(prompt);
    if (/bright/i.test(rubric))
      return { rank: rankByValue(req.candidates.map(brightness)), reason: 'the brighter one wins' };
    return { rank: req.candidates.map((_, i) => i + 1), reason: 'the first looks fine' };
  };
}
