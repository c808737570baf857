// The per-pair loop: generate criteria from a labelled pair, verify them WITHOUT the label and in the
// labelled order, revise after a miss, up to rubric.max_epochs revisions; the last revision is verified
// too. A pair whose criteria never pass is dropped, with its last verdict kept for the report.
import type { DatasetItem } from '../data/types.js';
import { parseRankAnswer, parseScoreAnswer } from '../judge/answers.js';
import { JudgementError, type AskRequest, type JudgeClient } from '../judge/client.js';
import type { EncodedImage, ImageEncoder } from '../judge/images/encoder.js';
import { ImageError } from '../judge/images/image-error.js';
import type { GradeSettings } from '../judge/grade.js';
import { gradingMessage } from '../judge/prompts.js';
import { parseRubricsAnswer } from './answers.js';
import { criteriaAsRubric, generationMessage, revisionMessage, SYSTEM, type PairContext } from './prompts.js';

/** The experiment's grading settings plus how many criteria a pair yields and how many revisions it gets. */
export interface LoopSettings extends GradeSettings {
  perPair: number;
  maxEpochs: number;
}

/** One judge call of the build, as `trace.jsonl` records it. */
export interface TraceEvent {
  purpose: 'generate' | 'verify' | 'revise' | 'categorize' | 'final-verify';
  seed: number | null;
  epoch?: number;
  prompt_hash: string;
  cached: boolean;
  replies: string[];
  parsed?: unknown;
  verdict?: 'pass' | 'fail';
  error?: string;
  note?: string;
}

export interface SeedOutcome {
  seed: number;
  kept: boolean;
  criteria: string[];
  /** Revisions made before the criteria passed (or the last tried). */
  revisions: number;
  lastVerdict: string;
  reason?: string;
}

export interface LoopDeps {
  client: JudgeClient;
  encoder: ImageEncoder;
  trace: (event: TraceEvent) => void;
  noCache?: boolean;
}

/** The most judgements one seed can take: generate, verify, then (revise, verify) per epoch. */
export const judgementsPerSeed = (maxEpochs: number): number => 2 + 2 * maxEpochs;

async function encodePair(
  item: DatasetItem,
  encoder: ImageEncoder,
): Promise<{ base?: EncodedImage; candidates: EncodedImage[] }> {
  const [base, ...candidates] = await Promise.all([
    item.source ? encoder.encode(item.source) : undefined,
    ...item.candidates.map((c) => encoder.encode(c)),
  ]);
  return { base, candidates: candidates as EncodedImage[] };
}

function labelText(label: PairContext['label']): string {
  return 'rank' in label ? JSON.stringify(label.rank) : String(label.score);
}

/** Judges the pair with `rubric` in the labelled order; passes only on exactly the label (ties never parse). */
export async function verifyWithRubric(
  item: DatasetItem,
  pair: { base?: EncodedImage; candidates: EncodedImage[] },
  rubric: string,
  s: LoopSettings,
  deps: LoopDeps,
  purpose: 'verify' | 'final-verify',
  epoch?: number,
): Promise<{ pass: boolean; actual: string }> {
  const pointwise = s.mode === 'pointwise';
  const blocks = gradingMessage({
    task: s.task,
    mode: pointwise ? 'pointwise' : 'listwise',
    language: s.language,
    query: item.query,
    taskDescription: s.taskDescription,
    rubric,
    base: pair.base,
    candidates: pair.candidates,
    minScore: s.minScore,
    maxScore: s.maxScore,
  });
  const n = pair.candidates.length;
  const request: AskRequest = {
    turns: [{ role: 'user', content: blocks }],
    answer: pointwise ? { kind: 'score', n, min: s.minScore, max: s.maxScore } : { kind: 'rank', n },
  };
  const label = item.label!;
  const expected = labelText('rank' in label ? { rank: label.rank } : { score: label.score });
  try {
    const result = await deps.client.ask(
      request,
      (r) => (pointwise ? parseScoreAnswer(r, s.minScore, s.maxScore) : parseRankAnswer(r, n)),
      { noCache: deps.noCache },
    );
    const value = result.value as { rank?: number[]; score?: number };
    const actual = value.rank ? JSON.stringify(value.rank) : String(value.score);
    const pass = actual === expected;
    deps.trace({
      purpose,
      seed: item.index,
      epoch,
      prompt_hash: result.key,
      cached: result.cached,
      replies: result.replies,
      parsed: result.value,
      verdict: pass ? 'pass' : 'fail',
    });
    return { pass, actual };
  } catch (error) {
    if (!(error instanceof JudgementError)) throw error;
    deps.trace({
      purpose,
      seed: item.index,
      epoch,
      prompt_hash: deps.client.requestKey(request),
      cached: false,
      replies: error.replies,
      verdict: 'fail',
      error: error.message,
    });
    return { pass: false, actual: `no valid answer (${error.message})` };
  }
}

export async function runSeed(item: DatasetItem, s: LoopSettings, deps: LoopDeps): Promise<SeedOutcome> {
  const outcome = (
    kept: boolean,
    criteria: string[],
    revisions: number,
    lastVerdict: string,
    reason?: string,
  ): SeedOutcome => ({ seed: item.index, kept, criteria, revisions, lastVerdict, reason });
  let pair: { base?: EncodedImage; candidates: EncodedImage[] };
  try {
    pair = await encodePair(item, deps.encoder);
  } catch (error) {
    if (!(error instanceof ImageError)) throw error;
    return outcome(false, [], 0, 'not judged', error.message);
  }
  const label = item.label!;
  const context: PairContext = {
    task: s.task,
    mode: s.mode === 'pointwise' ? 'pointwise' : 'listwise',
    language: s.language,
    query: item.query,
    taskDescription: s.taskDescription,
    base: pair.base,
    candidates: pair.candidates,
    label: 'rank' in label ? { rank: label.rank } : { score: label.score },
    minScore: s.minScore,
    maxScore: s.maxScore,
    taskType: item.taskType,
  };
  const system = { role: 'system' as const, content: SYSTEM[s.language] };

  const askCriteria = async (
    purpose: 'generate' | 'revise',
    content: AskRequest['turns'][number]['content'],
    epoch?: number,
  ): Promise<string[] | undefined> => {
    const request: AskRequest = {
      turns: [system, { role: 'user', content }],
      answer: { kind: 'rubrics', n: s.perPair },
    };
    try {
      const result = await deps.client.ask(request, (r) => parseRubricsAnswer(r, s.perPair), { noCache: deps.noCache });
      const { rubrics, returned } = result.value;
      const note =
        returned < s.perPair
          ? `asked for ${s.perPair} criteria, got ${returned}`
          : returned > s.perPair
            ? `asked for ${s.perPair} criteria, got ${returned}; kept the first ${s.perPair}`
            : undefined;
      deps.trace({
        purpose,
        seed: item.index,
        epoch,
        prompt_hash: result.key,
        cached: result.cached,
        replies: result.replies,
        parsed: rubrics,
        ...(note ? { note } : {}),
      });
      return rubrics;
    } catch (error) {
      if (!(error instanceof JudgementError)) throw error;
      deps.trace({
        purpose,
        seed: item.index,
        epoch,
        prompt_hash: deps.client.requestKey(request),
        cached: false,
        replies: error.replies,
        error: error.message,
      });
      return undefined;
    }
  };

  let criteria = await askCriteria('generate', generationMessage(context, s.perPair));
  if (!criteria) return outcome(false, [], 0, 'not judged', 'generation failed');
  let verdict = await verifyWithRubric(item, pair, criteriaAsRubric(criteria), s, deps, 'verify', 0);
  for (let epoch = 1; !verdict.pass && epoch <= s.maxEpochs; epoch++) {
    const feedback = `Label: ${labelText(context.label)}\nJudge with these checks: ${verdict.actual}`;
    const revised = await askCriteria('revise', revisionMessage(context, s.perPair, criteria, feedback), epoch);
    if (!revised) return outcome(false, criteria, epoch, verdict.actual, 'revision failed');
    criteria = revised;
    verdict = await verifyWithRubric(item, pair, criteriaAsRubric(criteria), s, deps, 'verify', epoch);
    if (verdict.pass) return outcome(true, criteria, epoch, verdict.actual);
  }
  return verdict.pass
    ? outcome(true, criteria, 0, verdict.actual)
    : outcome(
        false,
        criteria,
        s.maxEpochs,
        verdict.actual,
        `still ${verdict.actual} after ${s.maxEpochs} revision(s); expected ${labelText(context.label)}`,
      );
}
