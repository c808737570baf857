// POST /v1/rewards: judge each item with the frozen rubric and turn ranks into rewards as the
// reference does (rank → reward). A failed judgement fails the request; it never becomes a reward.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DatasetItem, ImageRef } from '../data/types.js';
import { describeError } from '../judge/client.js';
import { gradeItem, gradeOptionsFor, type Grade } from '../judge/grade.js';
import { rankToRewards } from '../judge/rewards.js';
import type { ServiceContext } from './context.js';
import { HttpError, readBody, sendJson } from './http.js';
import { parseRewardRequest, type RewardItemRequest } from './rewards-request.js';
import { roundMs } from './stats.js';

/** One item's answer. `ranks` is null and `agree` false when the orders disagreed under `zero`. */
export interface RewardResult {
  rewards: number[];
  ranks: number[] | null;
  /** null: one order judged; true/false: both orders judged and they (dis)agreed. */
  agree: boolean | null;
}

export async function handleRewards(
  ctx: ServiceContext,
  req: IncomingMessage,
  res: ServerResponse,
  started: number,
): Promise<void> {
  const { experiment, limits } = ctx;
  // While the judge is unreachable the body is not even read: the answer is 503 at once.
  ctx.breaker.admit();
  const parsed = parseRewardRequest(await readBody(req, res, limits, ctx.budget), experiment.task, limits);
  const release = ctx.queue.reserve(parsed.length);
  try {
    const items = await toDatasetItems(ctx, parsed);
    const judgeStarted = performance.now();
    const gradeOptions = gradeOptionsFor(experiment, {
      rubric: ctx.rubric,
      bothOrders: experiment.reward.both_orders,
      noCache: !ctx.cache,
    });
    const settled = await Promise.allSettled(
      items.map((item) =>
        gradeItem(
          item,
          { ...gradeOptions, mode: item.candidates.length === 2 ? 'pairwise' : 'listwise' },
          ctx.session,
        ).finally(() => release(1)),
      ),
    );
    const judgeMs = performance.now() - judgeStarted;
    const results = settled.map((s, i) => {
      if (s.status === 'rejected') {
        ctx.breaker.failed(s.reason);
        throw new HttpError(502, `items[${i}]: the judge failed: ${describeError(s.reason)}`);
      }
      if (s.value.verdict !== 'failed') ctx.breaker.succeeded();
      return toResult(s.value, i, experiment.reward.on_disagreement);
    });
    const totalMs = performance.now() - started;
    ctx.stats.answered('rewards', totalMs, results.length);
    sendJson(
      res,
      200,
      { results, timing: { total_ms: roundMs(totalMs), judge_ms: roundMs(judgeMs) } },
      { 'server-timing': `judge;dur=${judgeMs.toFixed(2)}, total;dur=${totalMs.toFixed(2)}` },
    );
  } finally {
    release();
  }
}

async function toDatasetItems(ctx: ServiceContext, items: RewardItemRequest[]): Promise<DatasetItem[]> {
  return Promise.all(
    items.map(async (item, i) => {
      const key = `items[${i}]`;
      const [source, ...candidates] = await Promise.all([
        item.source ? ctx.roots.imageRef(item.source, `${key}.source_image`) : Promise.resolve(undefined),
        ...item.images.map((image, j) => ctx.roots.imageRef(image, `${key}.images[${j}]`)),
      ]);
      return {
        index: i,
        query: item.query,
        candidates: candidates as ImageRef[],
        ...(source ? { source } : {}),
        meta: {},
      };
    }),
  );
}

function toResult(grade: Grade, i: number, onDisagreement: 'zero' | 'first' | 'error'): RewardResult {
  if (grade.verdict === 'failed') {
    const why = grade.orders
      .map((o) => o.error)
      .filter(Boolean)
      .join('; ');
    throw new HttpError(502, `items[${i}]: the judgement failed: ${why}`);
  }
  if (grade.verdict === 'disagree') {
    const ranks = grade.orders.map((o) => JSON.stringify(o.rank)).join(' vs ');
    if (onDisagreement === 'error')
      throw new HttpError(502, `items[${i}]: the two orders disagree (${ranks}) and reward.on_disagreement is error`);
    if (onDisagreement === 'zero') return { rewards: grade.orders[0].rank!.map(() => 0.0), ranks: null, agree: false };
    return { rewards: rankToRewards(grade.orders[0].rank!), ranks: grade.orders[0].rank!, agree: false };
  }
  return { rewards: rankToRewards(grade.rank!), ranks: grade.rank!, agree: grade.verdict === 'agree' ? true : null };
}
