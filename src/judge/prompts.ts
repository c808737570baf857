// Grading prompts: the judge sees the images first, then the task, the rubric (if any) and the sample.
// Our own wording of the method's evaluation templates. Changing any text here changes judge answers:
// bump PROMPT_TEMPLATE_VERSION (src/keys/prompt-version.ts) with it.
import type { AnswerKind } from './answers.js';
import type { Block } from './blocks.js';
import type { EncodedImage } from './images/encoder.js';

export type Language = 'en' | 'zh';
export type Task = 't2i' | 'edit';

export interface GradingPrompt {
  task: Task;
  mode: 'listwise' | 'pointwise';
  language: Language;
  query: string;
  taskDescription: string;
  rubric: string | undefined;
  base: EncodedImage | undefined;
  candidates: EncodedImage[];
  minScore: number;
  maxScore: number;
}

/** Labels exactly as the reference lays them out, so rubric text that names "Image 1" still fits. */
export function imageBlocks(task: Task, base: EncodedImage | undefined, candidates: EncodedImage[]): Block[] {
  const blocks: Block[] = [];
  const one = candidates.length === 1;
  if (base) blocks.push({ type: 'text', text: 'Image BASE (original image):' }, { type: 'image', image: base });
  candidates.forEach((image, i) => {
    const label =
      task === 'edit'
        ? one
          ? 'Edited Image:'
          : `Edited Image ${i + 1}:`
        : one
          ? 'Generated Image:'
          : `Image ${i + 1}:`;
    blocks.push({ type: 'text', text: label }, { type: 'image', image });
  });
  return blocks;
}

/** The facts about the sample the judge may see: never its label. */
export function sampleContent(task: Task, query: string, n: number, hasBase: boolean, language: Language): string {
  if (language === 'zh') {
    if (task === 't2i') return `文本描述：${query}\n候选生成图像数量：${n}`;
    return [
      `编辑指令：${query}`,
      hasBase ? '提供了 Image BASE 作为原始/参考图像。' : '只提供了编辑后的图像，没有 Image BASE。',
      `候选编辑图像数量：${n}`,
    ].join('\n');
  }
  if (task === 't2i') return `Caption: ${query}\nNumber of generated candidate images: ${n}`;
  return [
    `Editing instruction: ${query}`,
    hasBase
      ? 'Image BASE is provided as the original/reference image.'
      : 'Only edited image(s) are provided; no Image BASE is available.',
    `Number of edited candidate images: ${n}`,
  ].join('\n');
}

const EN = {
  rankT2i: (n: number) =>
    `Rank the ${n} generated images from best (1) to worst (${n}) for how well each one realises the caption.`,
  rankEdit: (n: number) =>
    `Rank the ${n} edited images from best (1) to worst (${n}) for how well each one carries out the editing instruction.`,
  scoreT2i: (min: number, max: number) =>
    `Score the generated image from ${min} (worst) to ${max} (best) for how well it realises the caption.`,
  scoreEdit: (min: number, max: number) =>
    `Score the edited image from ${min} (worst) to ${max} (best) for how well it carries out the editing instruction.`,
  task: 'Task description',
  rubric: 'Evaluation rubric',
  noRubric:
    'Judge on prompt adherence (objects, counts, colours, positions), detail, realism, artifacts, composition and aesthetics.',
  noRubricEdit:
    'Judge on whether the instruction is carried out, whether unrelated content of Image BASE is preserved, natural blending and artifacts.',
  sample: 'Sample',
  rankRules: (n: number, edit: boolean) =>
    [
      `Give exactly ${n} values, one per ${edit ? 'edited image' : 'image'}, in the order the images are shown (${edit ? 'Edited Image' : 'Image'} 1 first).`,
      `Use each integer from 1 to ${n} once: no ties.`,
      ...(edit ? ['Do not rank Image BASE; compare every edit against it.'] : []),
      'The order in which the images are shown says nothing about their quality.',
    ].join('\n- '),
  scoreRules: (min: number, max: number) => `The score is one integer from ${min} to ${max}.`,
  output: 'Answer with only this JSON object',
};

const ZH = {
  rankT2i: (n: number) => `请将 ${n} 张生成图像按与文本描述的契合程度从最好（1）到最差（${n}）排序。`,
  rankEdit: (n: number) => `请将 ${n} 张编辑后图像按执行编辑指令的好坏从最好（1）到最差（${n}）排序。`,
  scoreT2i: (min: number, max: number) =>
    `请为生成图像打分，${min} 为最差，${max} 为最好，依据其与文本描述的契合程度。`,
  scoreEdit: (min: number, max: number) =>
    `请为编辑后图像打分，${min} 为最差，${max} 为最好，依据其执行编辑指令的好坏。`,
  task: '任务场景描述',
  rubric: '评估标准',
  noRubric: '依据对文本的遵循（物体、数量、颜色、位置）、细节、真实感、瑕疵、构图与美感进行评判。',
  noRubricEdit: '依据是否完成编辑指令、是否保留 Image BASE 中无关内容、融合是否自然以及瑕疵进行评判。',
  sample: '样本',
  rankRules: (n: number, edit: boolean) =>
    [
      `给出恰好 ${n} 个数值，按图像展示顺序对应${edit ? '编辑后图像' : '图像'} 1 到 ${n}。`,
      `1 到 ${n} 的每个整数各用一次，不允许并列。`,
      ...(edit ? ['不要对 Image BASE 排序；每个编辑结果都要与它对照。'] : []),
      '图像的展示顺序与其质量无关。',
    ].join('\n- '),
  scoreRules: (min: number, max: number) => `分数为 ${min} 到 ${max} 之间的一个整数。`,
  output: '只回答如下 JSON 对象',
};

/** The JSON an answer must be, written with placeholders. */
export function answerShape(kind: AnswerKind, n: number, min = 1, max = 5): string {
  if (kind === 'rubrics') return `{"rubrics": [<at most ${n} criteria>], "reason": "<why>"}`;
  if (kind === 'categories')
    return `{"categories": [<at most ${n} of {"theme": "<statement>", "tips": ["<check>", …]}>], "reason": "<why>"}`;
  if (kind === 'score') return `{"score": <integer ${min}..${max}>, "reason": "<one or two sentences>"}`;
  const slots = Array.from({ length: n }, (_, i) => `<rank of image ${i + 1}>`).join(', ');
  return `{"rank": [${slots}], "reason": "<one or two sentences>"}`;
}

/** The user message of a grading call: images first, then the instructions. */
export function gradingMessage(p: GradingPrompt): Block[] {
  const t = p.language === 'zh' ? ZH : EN;
  const n = p.candidates.length;
  const edit = p.task === 'edit';
  const lines: string[] = [];
  if (p.mode === 'listwise') lines.push(edit ? t.rankEdit(n) : t.rankT2i(n));
  else lines.push(edit ? t.scoreEdit(p.minScore, p.maxScore) : t.scoreT2i(p.minScore, p.maxScore));
  if (p.taskDescription.trim()) lines.push('', `## ${t.task}`, p.taskDescription.trim());
  lines.push('', `## ${t.rubric}`, p.rubric?.trim() || (edit ? t.noRubricEdit : t.noRubric));
  lines.push('', `## ${t.sample}`, sampleContent(p.task, p.query, n, p.base !== undefined, p.language));
  lines.push('', `- ${p.mode === 'listwise' ? t.rankRules(n, edit) : t.scoreRules(p.minScore, p.maxScore)}`);
  // Placeholders rather than numbers: an example like [1, 2] nudges judges toward the first image.
  const example = p.mode === 'listwise' ? answerShape('rank', n) : answerShape('score', n, p.minScore, p.maxScore);
  lines.push('', `${t.output}: ${example}`);
  return [...imageBlocks(p.task, p.base, p.candidates), { type: 'text', text: lines.join('\n') }];
}
