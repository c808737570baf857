// Prompts of the Auto-Rubric loop, written for this project: generate criteria from a labelled pair,
// revise them after a failed verification, merge them into Theme/Tips rubrics. Verification itself is
// the judge's grading prompt with the candidate criteria as the rubric (src/judge/prompts.ts), shown
// in the labelled order and never with the label. Any wording change here must bump
// PROMPT_TEMPLATE_VERSION (src/keys/prompt-version.ts): it is part of every rubric and verify key.
import type { Block } from '../judge/client.js';
import type { EncodedImage } from '../judge/images.js';
import { imageBlocks, sampleContent, type Language, type Task } from '../judge/prompts.js';

export interface PairContext {
  task: Task;
  mode: 'listwise' | 'pointwise';
  language: Language;
  query: string;
  taskDescription: string;
  base: EncodedImage | undefined;
  candidates: EncodedImage[];
  label: { rank: number[] } | { score: number };
  minScore: number;
  maxScore: number;
  taskType?: string;
}

export const SYSTEM = {
  en: 'You are a professional visual evaluation criteria expert.',
  zh: '你是一个专业的视觉评估标准制定专家。',
};
export const CATEGORIZE_SYSTEM = {
  en: 'You are an expert at merging scattered evaluation criteria into clear Theme–Tips rubrics.',
  zh: '你是一名擅长将零散评估要点整合为清晰“主题-要点”评估标准的专家。',
};

const FOCUS = {
  en: {
    't2i-listwise': 'prompt adherence (objects, counts, colours, positions, relations), detail completeness, realism, composition, artifacts and aesthetics',
    't2i-pointwise': 'prompt adherence, completeness of subjects, attributes and relations, visual quality, artifact control and aesthetics',
    'edit-listwise': 'whether the instruction is carried out, fidelity to Image BASE, preservation of untouched regions, natural blending at the edit boundary, consistent lighting and perspective, artifacts and aesthetics',
    'edit-pointwise': 'whether the instruction is carried out, fidelity to Image BASE, local and global consistency, natural blending, artifacts and aesthetics',
  },
  zh: {
    't2i-listwise': '对文本的遵循（物体、数量、颜色、位置、关系）、细节完整性、真实感、构图、瑕疵与美感',
    't2i-pointwise': '对文本的遵循，主体、属性与关系的完整性，画面质量，瑕疵控制与美感',
    'edit-listwise': '编辑指令是否完成、对 Image BASE 的忠实度、未编辑区域是否保持不变、编辑边界融合是否自然、光照与透视是否一致、瑕疵与美感',
    'edit-pointwise': '编辑指令是否完成、对 Image BASE 的忠实度、局部与整体一致性、融合是否自然、瑕疵与美感',
  },
};

/** The sample as the generator and reviser see it: unlike verification, the label is included. */
function labelledSample(p: PairContext): string {
  const lines = [sampleContent(p.task, p.query, p.candidates.length, p.base !== undefined, p.language)];
  const zh = p.language === 'zh';
  if ('rank' in p.label) {
    lines.push(zh ? `本样本评估模式：${p.candidates.length === 2 ? '成对比较' : '列表排序'}` : `Evaluation mode for this sample: ${p.candidates.length === 2 ? 'Pairwise' : 'Listwise'}`);
    lines.push(zh ? `期望排名（1 为最好）：${JSON.stringify(p.label.rank)}` : `Expected ranks (1 = best): ${JSON.stringify(p.label.rank)}`);
  } else lines.push(zh ? `期望分数：${p.label.score}` : `Expected score: ${p.label.score}`);
  if (p.task === 'edit' && p.taskType) lines.push(zh ? `编辑操作标签：${p.taskType}` : `Edit operation tags: ${p.taskType}`);
  return lines.join('\n');
}

const numbered = (items: string[]) => items.map((c, i) => `${i + 1}. ${c}`).join('\n');
const rubricsShape = (k: number) => `{"rubrics": [<criterion 1>${k > 1 ? ', …' : ''}], "reason": "<why these criteria separate the images>"}`;

export function generationMessage(p: PairContext, perPair: number): Block[] {
  const zh = p.language === 'zh';
  const key = `${p.task}-${p.mode}` as keyof (typeof FOCUS)['en'];
  const focus = FOCUS[p.language][key];
  const n = p.candidates.length;
  const lines = zh
    ? [
        p.mode === 'listwise'
          ? `请根据下方样本及其期望排名，写出恰好 ${perPair} 条可复用的评估标准，使得依据这些标准可以把 ${n} 张${p.task === 'edit' ? '编辑后' : '生成'}图像排出期望的顺序。`
          : `请根据下方样本及其期望分数，写出恰好 ${perPair} 条可复用的评分标准（${p.minScore} 到 ${p.maxScore} 的整数），使不同分数等级可以区分。`,
        `重点考虑：${focus}。`,
        p.task === 'edit' ? '有 Image BASE 时，每条标准都必须要求与 Image BASE 对照。' : '',
        '标准要具体、可观察、可用于其他同类样本；不要依赖图像的展示顺序；不要直接给当前图像排名或打分。',
      ]
    : [
        p.mode === 'listwise'
          ? `Using the sample below and its expected ranking, write exactly ${perPair} reusable evaluation criteria that, applied by a careful judge, put the ${n} ${p.task === 'edit' ? 'edited' : 'generated'} images in the expected order.`
          : `Using the sample below and its expected score, write exactly ${perPair} reusable scoring criteria for an integer scale from ${p.minScore} to ${p.maxScore} that separate the score levels.`,
        `Consider ${focus}.`,
        p.task === 'edit' ? 'When Image BASE is given, every criterion must require comparing against it.' : '',
        'Make each criterion concrete, observable and reusable for other samples of this kind; never depend on the order the images are shown in; do not rank or score the current images.',
      ];
  if (p.taskDescription.trim()) lines.push('', zh ? '## 任务场景描述' : '## Task description', p.taskDescription.trim());
  lines.push('', zh ? '## 样本' : '## Sample', labelledSample(p), '', `${zh ? '只回答如下 JSON 对象' : 'Answer with only this JSON object'}: ${rubricsShape(perPair)}`);
  return [...imageBlocks(p.task, p.base, p.candidates), { type: 'text', text: lines.filter((l) => l !== '').join('\n').replace(/\n## /g, '\n\n## ') }];
}

export function revisionMessage(p: PairContext, perPair: number, previous: string[], feedback: string): Block[] {
  const zh = p.language === 'zh';
  const lines = zh
    ? [
        `下面的评估标准在验证中没有得到期望结果。请修订，给出恰好 ${perPair} 条标准。`,
        p.mode === 'listwise' ? '分析期望排名与实际排名之间的差距，加强能区分图像的标准，减少歧义与位置偏差。' : '说明原标准为何给错分数，并加强对各分数等级的区分。',
        p.task === 'edit' ? '标准必须明确要求与 Image BASE 对照。' : '',
      ]
    : [
        `The criteria below did not produce the expected result when a judge applied them. Revise them into exactly ${perPair} criteria.`,
        p.mode === 'listwise'
          ? 'Work out why the actual ranking differs from the expected one; strengthen the criteria that separate the images, remove ambiguity and anything that favours a position.'
          : 'Work out why the score was missed and sharpen what separates the score levels.',
        p.task === 'edit' ? 'The criteria must explicitly require comparing each edit with Image BASE.' : '',
      ];
  if (p.taskDescription.trim()) lines.push('', zh ? '## 任务场景描述' : '## Task description', p.taskDescription.trim());
  lines.push('', zh ? '## 样本' : '## Sample', labelledSample(p));
  lines.push('', zh ? '## 原标准' : '## Previous criteria', numbered(previous));
  lines.push('', zh ? '## 验证反馈' : '## Validation feedback', feedback);
  lines.push('', `${zh ? '只回答如下 JSON 对象' : 'Answer with only this JSON object'}: ${rubricsShape(perPair)}`);
  return [...imageBlocks(p.task, p.base, p.candidates), { type: 'text', text: lines.filter((l) => l !== '').join('\n').replace(/\n## /g, '\n\n## ') }];
}

export function categorizationMessage(criteria: string[], maxCategories: number, language: Language): string {
  const shape = '{"categories": [{"theme": "<one concise statement>", "tips": ["<specific check>", …]}, …], "reason": "<how you grouped them>"}';
  if (language === 'zh') {
    return [
      `请把下面的评估要点整合为不超过 ${maxCategories} 条结构化评估标准：`,
      '- 每条标准自成一体，非专业人士无需额外信息即可使用；',
      '- 各条标准评估相互独立的维度，彼此不矛盾；',
      '- 对所有样本的判断保持一致。',
      '每条标准包含一个主题（一句简洁的话）和若干具体要点。',
      '',
      '## 评估要点',
      numbered(criteria),
      '',
      `只回答如下 JSON 对象：${shape}`,
    ].join('\n');
  }
  return [
    `Merge the evaluation criteria below into at most ${maxCategories} structured rubrics such that:`,
    '- each rubric is self-contained: a non-expert can apply it without outside information;',
    '- each assesses an independent dimension, and no two contradict each other;',
    '- judgements stay consistent across all samples.',
    'Each rubric has a Theme (one concise statement) and Tips (several specific checks).',
    '',
    '## Criteria',
    numbered(criteria),
    '',
    `Answer with only this JSON object: ${shape}`,
  ].join('\n');
}

/** The candidate criteria as the verification prompt's rubric: a numbered list, as the reference does. */
export const criteriaAsRubric = numbered;
