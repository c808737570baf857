// Building a rubric from labelled seed pairs: the per-pair loop over every seed (under the judge's
// concurrency limit), aggregation (all criteria, or coding-rate selection), Theme/Tips categorization,
// and a final check of the merged rubric on the seed pairs.
import type { DatasetItem } from '../data/types.js';
import { JudgementError, type AskRequest, type JudgeClient } from '../judge/client.js';
import type { ImageEncoder } from '../judge/images/encoder.js';
import { ImageError } from '../judge/images/image-error.js';
import { gradeSettingsOf } from '../judge/grade.js';
import type { Experiment } from '../types/experiment.js';
import { parseCategoriesAnswer } from './answers.js';
import { dedupeExact, selectByCodingRate } from './select.js';
import { OnnxEmbedder } from './onnx-embedder.js';
import { resolveEncoders } from '../preprocess/specs.js';
import { makeEmbedder } from './embed.js';
import {
  judgementsPerSeed,
  runSeed,
  verifyWithRubric,
  type LoopSettings,
  type SeedOutcome,
  type TraceEvent,
} from './loop.js';
import { categorizationMessage, CATEGORIZE_SYSTEM } from './prompts.js';
import { renderRubric, type RubricDoc } from './text.js';
import { ArrError } from '../util/errors.js';

/** Above these sizes `select.method: auto` switches from keeping everything to coding-rate selection. */
export const AUTO_SELECT = { seeds: 100, criteria: 200 };
/** How many criteria coding-rate selection keeps at most. */
export const MAX_SELECTED = 50;

export interface BuildStats {
  seeds: { total: number; kept: number; dropped: { seed: number; reason: string; last_verdict: string }[] };
  criteria: { generated: number; distinct: number; used: number; selection: 'all' | 'mcr2' };
  categorized: boolean;
  categorization_note: string | null;
  seed_accuracy: number | null;
  worst_case: { judgements: number; calls: number };
  usage: JudgeClient['usage'];
  calls_per_kept_criterion: number | null;
}

export class NoSeedSurvivedError extends ArrError {
  override name = 'NoSeedSurvivedError';
}

/** The first text encoder of the experiment's preprocess encoders, run as the selection's embedder. */
function onnxEmbedder(experiment: Experiment, workspaceRoot: string): OnnxEmbedder {
  const encoders = resolveEncoders(experiment, workspaceRoot, { file: 'the experiment manifest', origins: new Map() });
  const text = encoders.specs.find((s) => s.tokenizer);
  if (!text) throw new Error(`rubric.select.embedder: onnx needs a text encoder among ${encoders.source}`);
  return new OnnxEmbedder(text, encoders.modelsDir);
}

export function worstCase(
  seeds: number,
  maxEpochs: number,
  reasks: number,
  categorize: boolean,
): BuildStats['worst_case'] {
  const judgements = seeds * judgementsPerSeed(maxEpochs) + (categorize ? 1 : 0) + seeds;
  return { judgements, calls: judgements * (1 + reasks) };
}

export async function buildRubric(
  experiment: Experiment,
  seeds: DatasetItem[],
  deps: {
    client: JudgeClient;
    encoder: ImageEncoder;
    onSeed?: (done: number, total: number) => void;
    noCache?: boolean;
    workspaceRoot: string;
  },
): Promise<{ text: string; doc: RubricDoc; trace: TraceEvent[]; stats: BuildStats }> {
  const r = experiment.rubric;
  const settings: LoopSettings = { ...gradeSettingsOf(experiment), perPair: r.per_pair, maxEpochs: r.max_epochs };
  const trace: TraceEvent[] = [];
  const loopDeps = {
    client: deps.client,
    encoder: deps.encoder,
    trace: (e: TraceEvent) => trace.push(e),
    noCache: deps.noCache,
  };

  // Seeds share the judge's process-wide limit; a small pool keeps every slot busy without holding all seeds.
  const outcomes: SeedOutcome[] = new Array(seeds.length);
  let next = 0;
  let done = 0;
  const workers = Math.min(seeds.length, Math.max(1, deps.client.settings.concurrency));
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < seeds.length) {
        const i = next++;
        outcomes[i] = await runSeed(seeds[i], settings, loopDeps);
        deps.onSeed?.(++done, seeds.length);
      }
    }),
  );

  const kept = outcomes.filter((o) => o.kept);
  const dropped = outcomes
    .filter((o) => !o.kept)
    .map((o) => ({ seed: o.seed, reason: o.reason ?? 'did not pass', last_verdict: o.lastVerdict }));
  if (kept.length === 0) {
    throw new NoSeedSurvivedError(
      `no seed pair produced criteria that pass verification:\n${dropped.map((d) => `  seed ${d.seed}: ${d.reason} (last verdict ${d.last_verdict})`).join('\n')}`,
    );
  }

  const generated = kept.flatMap((o) => o.criteria);
  const distinct = dedupeExact(generated).texts;
  const method =
    r.select.method === 'auto'
      ? seeds.length > AUTO_SELECT.seeds || distinct.length > AUTO_SELECT.criteria
        ? 'mcr2'
        : 'all'
      : r.select.method;
  let used = distinct;
  if (method === 'mcr2' && distinct.length > MAX_SELECTED) {
    const embedder =
      r.select.embedder === 'onnx'
        ? onnxEmbedder(experiment, deps.workspaceRoot)
        : makeEmbedder(r.select.embedder, {
            baseUrl: deps.client.settings.baseUrls[0],
            apiKey: deps.client.settings.apiKey,
            model: deps.client.settings.model,
          });
    const vectors = await embedder.embed(distinct);
    used = selectByCodingRate(distinct, vectors, { maxSelected: MAX_SELECTED, seed: 0 }).selected.map(
      (i) => distinct[i],
    );
  }

  let doc: RubricDoc = { kind: 'list', items: used };
  let categorizationNote: string | null = null;
  if (r.categorize.enabled) {
    const request: AskRequest = {
      turns: [
        { role: 'system', content: CATEGORIZE_SYSTEM[r.language] },
        { role: 'user', content: categorizationMessage(used, r.categorize.max_categories, r.language) },
      ],
      answer: { kind: 'categories', n: r.categorize.max_categories },
    };
    try {
      const result = await deps.client.ask(
        request,
        (reply) => parseCategoriesAnswer(reply, r.categorize.max_categories),
        { noCache: deps.noCache },
      );
      doc = { kind: 'categories', categories: result.value };
      trace.push({
        purpose: 'categorize',
        seed: null,
        prompt_hash: result.key,
        cached: result.cached,
        replies: result.replies,
        parsed: result.value,
      });
    } catch (error) {
      if (!(error instanceof JudgementError)) throw error;
      categorizationNote = `categorization failed (${error.message}); the numbered list is used`;
      trace.push({
        purpose: 'categorize',
        seed: null,
        prompt_hash: deps.client.requestKey(request),
        cached: false,
        replies: error.replies,
        error: error.message,
        note: categorizationNote,
      });
    }
  }
  const text = renderRubric(doc);

  // The merged rubric is what trains: check it on the seed pairs it came from, without labels.
  const finals = await Promise.all(
    seeds.map(async (seed) => {
      try {
        const [base, ...candidates] = await Promise.all([
          seed.source ? deps.encoder.encode(seed.source) : undefined,
          ...seed.candidates.map((c) => deps.encoder.encode(c)),
        ]);
        return (
          await verifyWithRubric(
            seed,
            { base, candidates: candidates as NonNullable<typeof base>[] },
            text,
            settings,
            loopDeps,
            'final-verify',
          )
        ).pass;
      } catch (error) {
        if (error instanceof ImageError) return false;
        throw error;
      }
    }),
  );
  const correct = finals.filter(Boolean).length;

  const usage = { ...deps.client.usage };
  return {
    text,
    doc,
    trace,
    stats: {
      seeds: { total: seeds.length, kept: kept.length, dropped },
      criteria: { generated: generated.length, distinct: distinct.length, used: used.length, selection: method },
      categorized: doc.kind === 'categories',
      categorization_note: categorizationNote,
      seed_accuracy: seeds.length ? correct / seeds.length : null,
      worst_case: worstCase(seeds.length, r.max_epochs, deps.client.settings.reasks, r.categorize.enabled),
      usage,
      calls_per_kept_criterion: used.length ? usage.calls / used.length : null,
    },
  };
}
