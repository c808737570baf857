// The body of POST /v1/rewards: `{"items": [{"query", "images" | "response", "source_image"?}]}`.
import type { Experiment } from '../types/experiment.js';
import { HttpError, parseJsonBody } from './http.js';
import type { RewardLimits } from './limits.js';

export interface RewardItemRequest {
  query: string;
  images: string[];
  source?: string;
}

/** Checks a reward request's shape and limits, naming the first field that is wrong. */
export function parseRewardRequest(
  raw: Buffer,
  task: Experiment['task'],
  limits: Pick<RewardLimits, 'maxItems' | 'maxQueryChars'>,
): RewardItemRequest[] {
  const body = parseJsonBody(raw);
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new HttpError(400, 'body: expected a JSON object {"items": [...]}');
  const items = (body as { items?: unknown }).items;
  if (!Array.isArray(items)) throw new HttpError(400, 'items: expected a list of {"query", "images", "source_image"?}');
  if (items.length === 0) throw new HttpError(400, 'items: empty list');
  if (items.length > limits.maxItems)
    throw new HttpError(413, `items: ${items.length} items in one request; the limit is ${limits.maxItems}`);
  return items.map((item, i) => parseItem(item, `items[${i}]`, task, limits.maxQueryChars));
}

function parseItem(item: unknown, at: string, task: Experiment['task'], maxQueryChars: number): RewardItemRequest {
  if (!item || typeof item !== 'object' || Array.isArray(item)) throw new HttpError(400, `${at}: expected an object`);
  const o = item as Record<string, unknown>;
  if (typeof o.query !== 'string') throw new HttpError(400, `${at}.query: expected a string`);
  if (o.query.length > maxQueryChars)
    throw new HttpError(
      413,
      `${at}.query: ${o.query.length} characters; the limit is ${maxQueryChars} (nothing was sent to the judge)`,
    );
  const key = o.images !== undefined ? 'images' : 'response';
  const images = o[key];
  if (!Array.isArray(images) || images.some((x) => typeof x !== 'string' || x === '')) {
    throw new HttpError(
      400,
      `${at}.${key}: expected a list of image paths or data:image URLs (the key \`images\`, or \`response\` as the reference sends)`,
    );
  }
  if (images.length < 2)
    throw new HttpError(400, `${at}.${key}: ${images.length} image(s); a reward compares at least 2`);
  const source = o.source_image;
  if (source !== undefined && source !== null && (typeof source !== 'string' || source === ''))
    throw new HttpError(400, `${at}.source_image: expected a path or data:image URL`);
  if (task === 'edit' && !source) throw new HttpError(400, `${at}.source_image: required for an edit experiment`);
  if (task === 't2i' && source)
    throw new HttpError(400, `${at}.source_image: the experiment is t2i; source images belong to edit experiments`);
  return { query: o.query, images: images as string[], source: (source as string | null | undefined) ?? undefined };
}
