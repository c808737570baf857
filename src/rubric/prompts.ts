// Prompts of the Auto-Rubric loop, written for this project: generate criteria from a labelled pair,
// revise them after a failed verification, merge them into Theme/Tips rubrics. Verification itself is
// the judge's grading prompt with the candidate criteria as the rubric (src/judge/prompts.ts), shown
// in the labelled order and never with the label. Any wording change here must bump
// PROMPT_TEMPLATE_VERSION (src/keys/prompt-version.ts): it is part of every rubric and verify key.
import type { Block } from '../judge/blocks.js';
import type { EncodedImage } from '../judge/images/encoder.js';
import { imageBlocks, sampleContent, type GradingPrompt, type Language } from '../judge/prompts.js';

/** A labelled pair as the grading prompt shows it (without a rubric: the rubric is what is being written). */
export interface PairContext extends Omit<GradingPrompt, 'rubric'> {
  label: { rank: number[] } | { score: number };
  taskType?: string;
}

export const SYSTEM = {
  en: 'You write the checks an image judge applies: short, concrete statements about what makes one picture better than another.',
  zh: '你负责为图像评审撰写判断依据：用简短、具体的语句说明一张图为何优于另一张。',
};
export const CATEGORIZE_SYSTEM = {
  en: 'You turn a pile of overlapping image-judging checks into a few tidy rubrics, each a Theme line with its Tips.',
  zh: '你把一堆相互重叠的图像评审依据归并成少量条理清楚的评估标准，每条由一个主题及其要点组成。',
};

const FOCUS = {
  en: {
    't2i-listwise':
      'prompt adherence (objects, counts, colours, positions, relations), detail completeness, realism, composition, artifacts and aesthetics',
    't2i-pointwise':
      'prompt adherence, completeness of subjects, attributes and relations, visual quality, artifact control and aesthetics',
    'edit-listwise':
      'whether the instruction is carried out, fidelity to Image BASE, preservation of untouched regions, natural blending at the edit boundary, consistent lighting and perspective, artifacts and aesthetics',
    'edit-pointwise':
      'whether the instruction is carried out, fidelity to Image BASE, local and global consistency, natural blending, artifacts and aesthetics',
  },
  zh: {
    't2i-listwise': '对文本的遵循（物体、数量、颜色、位置、关系）、细节完整性、真实感、构图、瑕疵与美感',
    't2i-pointwise': '对文本的遵循，主体、属性与关系的完整性，画面质量，瑕疵控制与美感',
    'edit-listwise':
      '编辑指令是否完成、对 Image BASE 的忠实度、未编辑区域是否保持不变、编辑边界融合是否自然、光照与透视是否一致、瑕疵与美感',
    'edit-pointwise': '编辑指令是否完成、对 Image BASE 的忠实度、局部与整体一致性、融合是否自然、瑕疵与美感',
  },
};

/** The sample as the generator and reviser see it: unlike verification, the label is included. */
function labelledSample(p: PairContext): string {
  const lines = [sampleContent(p.task, p.query, p.candidates.length, p.base !== undefined, p.language)];
  const zh = p.language === 'zh';
  if ('rank' in p.label) {
    lines.push(
      zh
        ? `比较方式：${p.candidates.length === 2 ? '两图对比' : `${p.candidates.length} 图排序`}`
        : `Compared as: ${p.candidates.length === 2 ? 'a pair' : `a list of ${p.candidates.length}`}`,
    );
    lines.push(
      zh
        ? `标注给出的名次（1 最佳）：${JSON.stringify(p.label.rank)}`
        : `Ranks from the label (1 is best): ${JSON.stringify(p.label.rank)}`,
    );
  } else lines.push(zh ? `标注给出的分数：${p.label.score}` : `Score from the label: ${p.label.score}`);
  if (p.task === 'edit' && p.taskType) lines.push(zh ? `编辑类别：${p.taskType}` : `Kind of edit: ${p.taskType}`);
  return lines.join('\n');
}

const numbered = (items: string[]) => items.map((c, i) => `${i + 1}. ${c}`).join('\n');
const rubricsShape = (k: number) =>
  `{"rubrics": [<check 1>${k > 1 ? ', …' : ''}], "reason": "<what in the images these checks pick up>"}`;

export function generationMessage(p: PairContext, perPair: number): Block[] {
  const zh = p.language === 'zh';
  const key = `${p.task}-${p.mode}` as keyof (typeof FOCUS)['en'];
  const focus = FOCUS[p.language][key];
  const n = p.candidates.length;
  const lines = zh
    ? [
        p.mode === 'listwise'
          ? `一位评审只凭你写的依据来看下面这 ${n} 张${p.task === 'edit' ? '编辑结果' : '生成图'}，就应当排出标注的名次。请写出恰好 ${perPair} 条这样的依据。`
          : `一位评审只凭你写的依据，就应当给下面的图打出标注的分数（${p.minScore} 至 ${p.maxScore} 的整数）。请写出恰好 ${perPair} 条这样的依据，让相邻分数也能分开。`,
        `可以从这些方面入手：${focus}。`,
        p.task === 'edit' ? '给出了 Image BASE 时，每条依据都要拿编辑结果和它比一比。' : '',
        '每条依据都应能在图上直接核对，并且换一组同类图片也照样适用。依据不得看图片出现的先后；你只写依据，本身不对这几张图下结论。',
      ]
    : [
        p.mode === 'listwise'
          ? `A judge reading only your checks should arrive at the labelled ranks for the ${n} ${p.task === 'edit' ? 'edits' : 'pictures'} below. Write exactly ${perPair} such checks.`
          : `A judge reading only your checks should give the picture below the labelled score on the whole-number scale ${p.minScore}–${p.maxScore}. Write exactly ${perPair} such checks, sharp enough to tell neighbouring scores apart.`,
        `Places to look: ${focus}.`,
        p.task === 'edit' ? 'With Image BASE present, every check has to hold each edit up against it.' : '',
        'A check names something a viewer can verify in the picture and still makes sense for a different set of images of the same kind. Checks ignore which image came first; you write checks only and hand down no verdict on these images yourself.',
      ];
  if (p.taskDescription.trim())
    lines.push('', zh ? '## 任务场景描述' : '## Task description', p.taskDescription.trim());
  lines.push(
    '',
    zh ? '## 样本' : '## Sample',
    labelledSample(p),
    '',
    `${zh ? '只回答如下 JSON 对象' : 'Answer with only this JSON object'}: ${rubricsShape(perPair)}`,
  );
  return [
    ...imageBlocks(p.task, p.base, p.candidates),
    {
      type: 'text',
      text: lines
        .filter((l) => l !== '')
        .join('\n')
        .replace(/\n## /g, '\n\n## '),
    },
  ];
}

export function revisionMessage(p: PairContext, perPair: number, previous: string[], feedback: string): Block[] {
  const zh = p.language === 'zh';
  const lines = zh
    ? [
        `评审按下面这组依据判了一遍，结果和标注对不上。请改写成恰好 ${perPair} 条依据。`,
        p.mode === 'listwise'
          ? '先找出评审的名次在哪里偏离了标注，再让真正拉开差距的依据说得更明白；含糊的说法和偏向某个位置的说法一律删掉。'
          : '先找出分数为什么判错，再把相邻分数之间的界线写清楚。',
        p.task === 'edit' ? '每条依据都要写明拿编辑结果与 Image BASE 对照。' : '',
      ]
    : [
        `A judge went through the checks below and landed somewhere other than the label. Rewrite them as exactly ${perPair} checks.`,
        p.mode === 'listwise'
          ? "Find where the judge's order parted from the labelled one, then spell out more plainly the checks that really split the images; drop vague wording and anything that leans towards a slot."
          : 'Find why the score came out wrong, then draw the line between neighbouring scores more clearly.',
        p.task === 'edit' ? 'Each check has to say outright that the edit is held up against Image BASE.' : '',
      ];
  if (p.taskDescription.trim())
    lines.push('', zh ? '## 任务场景描述' : '## Task description', p.taskDescription.trim());
  lines.push('', zh ? '## 样本' : '## Sample', labelledSample(p));
  lines.push('', zh ? '## 上一版依据' : '## Previous criteria', numbered(previous));
  lines.push('', zh ? '## 评审结果' : '## What the judge did', feedback);
  lines.push('', `${zh ? '只回答如下 JSON 对象' : 'Answer with only this JSON object'}: ${rubricsShape(perPair)}`);
  return [
    ...imageBlocks(p.task, p.base, p.candidates),
    {
      type: 'text',
      text: lines
        .filter((l) => l !== '')
        .join('\n')
        .replace(/\n## /g, '\n\n## '),
    },
  ];
}

export function categorizationMessage(criteria: string[], maxCategories: number, language: Language): string {
  const shape =
    '{"categories": [{"theme": "<one concise statement>", "tips": ["<specific check>", …]}, …], "reason": "<how you grouped them>"}';
  if (language === 'zh') {
    return [
      `把下面编号的依据归并成最多 ${maxCategories} 条结构化评估标准。`,
      '- 拿到一条标准的人，不查别的资料也能照着判；',
      '- 两条标准不看同一件事，也不会互相打架；',
      '- 同一条标准用在哪张图上，尺度都一样。',
      '每条标准写一个主题（一句话）加几条可核对的要点。',
      '',
      '## 待归并的依据',
      numbered(criteria),
      '',
      `只回答如下 JSON 对象：${shape}`,
    ].join('\n');
  }
  return [
    `Fold the numbered checks below into at most ${maxCategories} structured rubrics.`,
    '- Someone holding one rubric can apply it with nothing else to hand.',
    '- No two rubrics look at the same thing, and none pulls against another.',
    '- A rubric measures every image by the same yardstick.',
    'Write each rubric as a Theme (a single sentence) followed by a few Tips a viewer can check.',
    '',
    '## Checks to fold',
    numbered(criteria),
    '',
    `Answer with only this JSON object: ${shape}`,
  ].join('\n');
}

/** The candidate criteria as the verification prompt's rubric: a numbered list, as the reference does. */
export const criteriaAsRubric = numbered;
