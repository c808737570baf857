// Shared pieces of the judge tests: settings, image pairs with a known right answer, and a rule.
import sharp from 'sharp';
import type { DatasetItem, ImageRef } from '../../src/data/types.js';
import { parseRankAnswer } from '../../src/judge/answers.js';
import { type AskRequest, JudgeClient, type JudgeSettings } from '../../src/judge/client.js';
import { ImageEncoder } from '../../src/judge/images/encoder.js';
import { gradingMessage } from '../../src/judge/prompts.js';
import { Limiter } from '../../src/judge/limiter.js';
import { ResponseCache } from '../../src/judge/response-cache.js';
import type { SimRule } from '../helpers/sim-vlm.js';

export function settings(baseUrls: string[], patch: Partial<JudgeSettings> = {}): JudgeSettings {
  return {
    model: 'Qwen/Qwen3-VL-8B-Instruct',
    baseUrls,
    apiKey: undefined,
    provider: 'auto',
    temperature: 0,
    maxTokens: 512,
    timeoutS: 2,
    retries: 4,
    reasks: 2,
    concurrency: 8,
    imageMaxSide: 256,
    maxCalls: null,
    maxCost: null,
    prices: { input_per_mtok: null, output_per_mtok: null },
    ...patch,
  };
}

/** A client with its own limiter (tests must not share the process-wide one) and optional cache. */
export function client(s: JudgeSettings, cacheDir?: string, warnings: string[] = []): JudgeClient {
  return new JudgeClient(s, {
    limiter: new Limiter(s.concurrency),
    cache: cacheDir ? new ResponseCache(cacheDir) : undefined,
    warn: (m) => warnings.push(m),
  });
}

export const encoder = () => new ImageEncoder({ maxSide: 256 });

export async function grey(level: number, size = 64): Promise<ImageRef> {
  const png = await sharp({
    create: { width: size, height: size, channels: 3, background: { r: level, g: level, b: level } },
  })
    .png()
    .toBuffer();
  return { kind: 'data', url: `data:image/png;base64,${png.toString('base64')}`, mime: 'image/png' };
}

/** n pairs whose brighter image is labelled preferred, preferred first in about half. */
export async function brightnessPairs(n: number): Promise<DatasetItem[]> {
  const items: DatasetItem[] = [];
  for (let i = 0; i < n; i++) {
    const dark = await grey(40 + i);
    const bright = await grey(200 - i);
    const brightFirst = i % 2 === 0;
    items.push({
      index: i,
      query: `pair ${i}`,
      candidates: brightFirst ? [bright, dark] : [dark, bright],
      label: { rank: brightFirst ? [1, 2] : [2, 1] },
      meta: {},
    });
  }
  return items;
}

/** A rule that only knows the right answer when the rubric mentions brightness; otherwise it prefers the first image. */
export const rubricAwareRule: SimRule = (req) => {
  if (!/bright/i.test(req.prompt)) return { rank: req.candidates.map((_, i) => i + 1), reason: 'first looks fine' };
  const values = req.candidates.map((c) => c.mean[0] + c.mean[1] + c.mean[2]);
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => b.v - a.v);
  const rank = new Array<number>(values.length);
  order.forEach((o, pos) => (rank[o.i] = pos + 1));
  return { rank, reason: 'brighter wins' };
};

/** A listwise grading request over a grey of `level` and a dark grey: the right rank is [1, 2]. */
export async function pairRequest(level = 200): Promise<AskRequest> {
  const enc = encoder();
  const [a, b] = await Promise.all([enc.encode(await grey(level)), enc.encode(await grey(30))]);
  const blocks = gradingMessage({
    task: 't2i',
    mode: 'listwise',
    language: 'en',
    query: 'q',
    taskDescription: '',
    rubric: undefined,
    base: undefined,
    candidates: [a, b],
    minScore: 1,
    maxScore: 5,
  });
  return { turns: [{ role: 'user', content: blocks }], answer: { kind: 'rank', n: 2 } };
}
/** Parses a two-candidate rank answer. */
export const parse2 = (reply: string) => parseRankAnswer(reply, 2);
