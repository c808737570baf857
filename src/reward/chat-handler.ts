// The OpenAI-compatible face of the service, for trainers that build their judge from a judge.yaml and
// call a chat endpoint themselves: POST /v1/chat/completions and GET /v1/models. Each completion goes
// through the service's judge client (one concurrency limit for every rank, retries, the breaker), with
// its images downscaled by the image encoder; the judge's completion comes back unchanged, for the
// trainer to parse as it always does.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describeError } from '../judge/client.js';
import type { ServiceContext } from './context.js';
import { HttpError, parseJsonBody, readBody, sendJson } from './http.js';

const DATA_URL = /^data:(image\/[a-z0-9.+-]+);base64,/i;

/** GET /v1/models: the one model this service judges with. */
export function handleModels(ctx: ServiceContext, res: ServerResponse): void {
  sendJson(res, 200, {
    object: 'list',
    data: [{ id: ctx.experiment.judge.model, object: 'model', created: 0, owned_by: 'arr-reward-service' }],
  });
}

/** POST /v1/chat/completions, forwarded to the judge. */
export async function handleChat(
  ctx: ServiceContext,
  req: IncomingMessage,
  res: ServerResponse,
  started: number,
): Promise<void> {
  ctx.stats.chat.requests++;
  ctx.breaker.admit();
  const body = parseChatBody(
    parseJsonBody(await readBody(req, res, ctx.limits, ctx.budget)),
    ctx.limits.maxChatTextChars,
  );
  const release = ctx.queue.reserve(1);
  try {
    await downscaleImages(ctx, body);
    let completion;
    try {
      completion = await ctx.session.client.forwardChat(body);
    } catch (error) {
      ctx.breaker.failed(error);
      throw new HttpError(502, `the judge failed: ${describeError(error)}`);
    }
    ctx.breaker.succeeded();
    ctx.stats.answered('chat', performance.now() - started);
    sendJson(res, 200, completion);
  } finally {
    release();
  }
}

interface ChatBody extends Record<string, unknown> {
  messages: { role: string; content: unknown }[];
}

/** Checks the request is a non-streaming chat completion whose text stays within `maxTextChars`. */
function parseChatBody(value: unknown, maxTextChars: number): ChatBody {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new HttpError(400, 'body: expected a JSON object (an OpenAI chat completion request)');
  const body = value as Record<string, unknown>;
  if (body.stream === true)
    throw new HttpError(400, 'stream: true is not served; send stream: false (the reference judge does)');
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0)
    throw new HttpError(400, 'messages: expected a non-empty list');
  let chars = 0;
  messages.forEach((message: unknown, i) => {
    const at = `messages[${i}]`;
    if (!message || typeof message !== 'object' || Array.isArray(message))
      throw new HttpError(400, `${at}: expected an object with role and content`);
    const { role, content } = message as Record<string, unknown>;
    if (typeof role !== 'string') throw new HttpError(400, `${at}.role: expected a string`);
    if (typeof content === 'string') chars += content.length;
    else if (Array.isArray(content)) {
      content.forEach((block: unknown, j) => {
        const b = block as Record<string, unknown> | null;
        if (!b || typeof b !== 'object') throw new HttpError(400, `${at}.content[${j}]: expected a content block`);
        if (b.type === 'text') {
          if (typeof b.text !== 'string') throw new HttpError(400, `${at}.content[${j}].text: expected a string`);
          chars += b.text.length;
        } else if (b.type === 'image_url') {
          const url = (b.image_url as { url?: unknown } | undefined)?.url;
          if (typeof url !== 'string' || !DATA_URL.test(url)) {
            throw new HttpError(
              400,
              `${at}.content[${j}].image_url.url: expected a data:image/...;base64, URL (the service does not fetch images)`,
            );
          }
        } else {
          throw new HttpError(
            400,
            `${at}.content[${j}].type: ${JSON.stringify(b.type)} is not served (text and image_url are)`,
          );
        }
      });
    } else if (content !== null && content !== undefined) {
      throw new HttpError(400, `${at}.content: expected a string or a list of content blocks`);
    }
  });
  if (chars > maxTextChars)
    throw new HttpError(
      413,
      `messages: ${chars} characters of text; the limit is ${maxTextChars} (nothing was sent to the judge)`,
    );
  return body as ChatBody;
}

/** Re-encodes every image block through the judge's image encoder (judge.image_max_side), in place. */
async function downscaleImages(ctx: ServiceContext, body: ChatBody): Promise<void> {
  const jobs: Promise<void>[] = [];
  body.messages.forEach((message, i) => {
    if (!Array.isArray(message.content)) return;
    message.content.forEach((block: { type?: string; image_url?: { url: string } }, j: number) => {
      if (block.type !== 'image_url' || !block.image_url) return;
      const url = block.image_url.url;
      const mime = DATA_URL.exec(url)![1].toLowerCase();
      jobs.push(
        ctx.session.encoder.encode({ kind: 'data', url, mime }).then(
          (encoded) => {
            block.image_url = { ...block.image_url, url: encoded.url };
          },
          (error: unknown) => {
            throw new HttpError(400, `messages[${i}].content[${j}].image_url: ${(error as Error).message}`);
          },
        ),
      );
    });
  });
  await Promise.all(jobs);
}
