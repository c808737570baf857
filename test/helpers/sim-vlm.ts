// A simulated OpenAI-compatible vision-language judge for tests and benchmarks (test support, not product code).
//
// Serves `GET /v1/models` and `POST /v1/chat/completions` on 127.0.0.1 with an ephemeral port, using node:http only.
// Images arrive as `image_url` blocks (data URLs are decoded with sharp; results are cached by the sha256 of the base64
// payload). Each image is classified from the text label block just before it, as the ARR layout sends them
// (docs/architecture.md, "Image blocks in a judge request"): "Image BASE (original image):" is the base; "Edited Image i:", "Image i:", "Edited Image:",
// "Generated Image:" (or no label) are candidates, in the order they appear. The answer is plain text holding JSON
// such as {"rank":[1,2],"reason":"..."} or {"score":4,"reason":"..."}, optionally damaged by configured faults.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import sharp from 'sharp';

export interface SimImage {
  sha256: string;
  width: number;
  height: number;
  /** mean R,G,B in 0..255 */
  mean: [number, number, number];
  /** the text label block right before the image ('' when there is none) */
  label: string;
  /** extra: the media type of a data URL ('' for http(s) URLs) */
  mime: string;
  /** extra: length in characters of the data URL's payload (base64 text), 0 for http(s) URLs */
  payloadChars: number;
}

export interface SimRequestView {
  model: string;
  images: SimImage[];
  /** all text blocks and string contents joined (with '\n'), labels included */
  text: string;
  /** the parsed request body; each data URL is shortened to `data:<mime>;base64,<sha256=…;chars=N>` unless
   * `keepImageData` is set, so thousands of recorded requests don't hold every image in memory */
  body: any;
  /** position among chat requests, in arrival order (0-based) */
  index: number;
  /** when the request arrived (Date.now()), for timing analyses */
  receivedAt?: number;
  /** extra: the last text block of the last message (the prompt itself, with no labels) */
  prompt: string;
  /** extra: the images that are candidates (not BASE), in order; `rank` aligns with this */
  candidates: SimImage[];
  /** extra: the BASE image, when a label names one */
  base?: SimImage;
}

export interface SimVerdict {
  /** Any other answer object (e.g. {"rubrics": [...]} for rubric generation); sent as JSON, faults still apply. */
  answer?: Record<string, unknown>;
  rank?: number[];
  score?: number;
  reason?: string;
}

export type SimRule = (req: SimRequestView) => SimVerdict | Promise<SimVerdict>;

export type SimFaultKind =
  | '429'
  | '500'
  | 'hang'
  | 'truncated'
  | 'fenced'
  | 'think'
  | 'preamble'
  | 'garbage'
  | 'wrong-length'
  | 'tie'
  | 'empty';

export interface SimFault {
  kind: SimFaultKind;
  /** probability per request (seeded, so runs repeat); default 1 */
  rate?: number;
  /** fire at most this many times: on the first N requests it gets a chance at (combined with `rate` when both are set) */
  times?: number;
  /** Retry-After seconds for '429' (default 1) */
  retryAfterS?: number;
  /** extra: only requests from this 0-based arrival index on can get the fault (a judge that breaks mid-run) */
  after?: number;
}

export interface SimVlmOptions {
  /** served by GET /v1/models (default ['Qwen/Qwen3-VL-8B-Instruct']) */
  models?: string[];
  /** when set, other bearer tokens get 401 */
  apiKey?: string;
  latencyMs?: number | (() => number);
  /** default: prefer the brighter candidate (ranks among candidates, BASE excluded); pointwise prompts get a score */
  rule?: SimRule;
  /** 0..1: probability (seeded PRNG) that a pairwise verdict is replaced by "first candidate wins" */
  positionBias?: number;
  /** checked in order; the first that fires decides the request's fault */
  faults?: SimFault[];
  seed?: number;
  /** extra: request bodies larger than this get 413 (default 50 MB) */
  maxBodyBytes?: number;
  /** extra: when true, a model not in `models` gets 404 model_not_found (like vLLM); default false */
  strictModel?: boolean;
  /** extra: keep full data URLs in `requests[i].body` (default false: they are shortened, see SimRequestView.body) */
  keepImageData?: boolean;
  /** extra: listen on this port (default 0, a free one); lets a test restart a judge where it was */
  port?: number;
}

export interface SimVlm {
  /** http://127.0.0.1:PORT/v1 */
  url: string;
  close(): Promise<void>;
  requests: SimRequestView[];
  stats: { requests: number; byStatus: Record<number, number>; decodes: number; cacheHits: number };
  setOptions(patch: Partial<SimVlmOptions>): void;
}

const DEFAULT_MODEL = 'Qwen/Qwen3-VL-8B-Instruct';
const DEFAULT_MAX_BODY = 50 * 1024 * 1024;

/** Brightness of an image: the mean of its mean R, G and B. */
export function brightness(img: SimImage): number {
  return (img.mean[0] + img.mean[1] + img.mean[2]) / 3;
}

/** Ranks (1 = best) of `values`, higher value = better; ties go to the earlier item so the result is a permutation. */
export function rankByValue(values: number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => b.v - a.v || a.i - b.i);
  const rank = new Array<number>(values.length);
  order.forEach((o, pos) => (rank[o.i] = pos + 1));
  return rank;
}

/** The default rule: brighter candidate wins; a pointwise prompt gets a score scaled into its range. */
export const brightnessRule: SimRule = (req) => {
  const cands = req.candidates;
  const pointwise = /"rank"/.test(req.prompt) ? false : /"score"/.test(req.prompt) ? true : cands.length <= 1;
  if (pointwise) {
    const m = /between\s+(-?\d+)\s+and\s+(-?\d+)/i.exec(req.prompt);
    const lo = m ? Number(m[1]) : 1;
    const hi = m ? Number(m[2]) : 5;
    const b = cands.length ? brightness(cands[0]) : 0;
    return { score: Math.round(lo + (b / 255) * (hi - lo)), reason: `mean brightness ${b.toFixed(1)}` };
  }
  const values = cands.map(brightness);
  return { rank: rankByValue(values), reason: `mean brightness ${values.map((v) => v.toFixed(1)).join(' vs ')}` };
};

/** mulberry32 seeded by a hash of (seed, request index, salt): the same request gets the same draw whatever else ran. */
function draw(seed: number, index: number, salt: string): number {
  const h = createHash('sha256').update(`${seed}:${index}:${salt}`).digest();
  let a = h.readUInt32LE(0);
  a = (a + 0x6d2b79f5) | 0;
  let t = Math.imul(a ^ (a >>> 15), 1 | a);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly code: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function classify(label: string): 'base' | 'candidate' {
  return /^\s*image\s+base\b/i.test(label) ? 'base' : 'candidate';
}

export async function startSimVlm(options: SimVlmOptions = {}): Promise<SimVlm> {
  let opts: SimVlmOptions = { ...options };
  const cache = new Map<string, Promise<Omit<SimImage, 'label'>>>();
  const requests: SimRequestView[] = [];
  const stats: SimVlm['stats'] = { requests: 0, byStatus: {}, decodes: 0, cacheHits: 0 };
  const fired = new Map<SimFault, number>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let chatIndex = 0;
  let closed = false;

  const seed = () => opts.seed ?? 1;

  async function decode(url: string): Promise<Omit<SimImage, 'label'>> {
    if (/^https?:\/\//i.test(url)) {
      return {
        sha256: createHash('sha256').update(url).digest('hex'),
        width: 0,
        height: 0,
        mean: [0, 0, 0],
        mime: '',
        payloadChars: 0,
      };
    }
    const m = /^data:([^,]*?),/i.exec(url);
    if (!m)
      throw new HttpError(
        400,
        `Invalid image_url: expected a data: or http(s): URL, got ${JSON.stringify(url.slice(0, 40))}`,
      );
    const isBase64 = /;base64$/i.test(m[1]);
    const payload = url.slice(m[0].length);
    const sha256 = createHash('sha256').update(payload).digest('hex');
    const hit = cache.get(sha256);
    if (hit) {
      stats.cacheHits++;
      return hit.catch((e: unknown) => {
        throw new HttpError(400, `Failed to decode image: ${e instanceof Error ? e.message : String(e)}`);
      });
    }
    stats.decodes++;
    const p = (async () => {
      const bytes = isBase64 ? Buffer.from(payload, 'base64') : Buffer.from(decodeURIComponent(payload), 'latin1');
      const img = sharp(bytes);
      const meta = await img.metadata();
      const st = await img.stats();
      const scale = meta.depth === 'ushort' ? 1 / 257 : 1;
      const colour = st.channels.slice(0, Math.max(1, st.channels.length - (meta.hasAlpha ? 1 : 0)));
      const ch = (i: number) => (colour[Math.min(i, colour.length - 1)]?.mean ?? 0) * scale;
      const mean: [number, number, number] = colour.length >= 3 ? [ch(0), ch(1), ch(2)] : [ch(0), ch(0), ch(0)];
      const mime = m[1].replace(/;base64$/i, '').split(';')[0] || 'text/plain';
      return { sha256, width: meta.width ?? 0, height: meta.height ?? 0, mean, mime, payloadChars: payload.length };
    })();
    cache.set(sha256, p);
    p.catch(() => cache.delete(sha256));
    try {
      return await p;
    } catch (e) {
      throw new HttpError(400, `Failed to decode image: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  async function view(body: any, index: number): Promise<SimRequestView> {
    if (!body || typeof body !== 'object' || !Array.isArray(body.messages)) {
      throw new HttpError(
        400,
        "Missing required parameter: 'messages'.",
        'invalid_request_error',
        'missing_required_parameter',
      );
    }
    const texts: string[] = [];
    const refs: Array<{ label: string; url: string; block: any }> = [];
    let prompt = '';
    body.messages.forEach((msg: any, mi: number) => {
      const last = mi === body.messages.length - 1;
      if (typeof msg?.content === 'string') {
        texts.push(msg.content);
        if (last) prompt = msg.content;
        return;
      }
      if (!Array.isArray(msg?.content)) return;
      let label = '';
      for (const block of msg.content) {
        if (block?.type === 'text' && typeof block.text === 'string') {
          texts.push(block.text);
          label = block.text;
          if (last) prompt = block.text;
        } else if (block?.type === 'image_url') {
          const url = typeof block.image_url === 'string' ? block.image_url : block.image_url?.url;
          if (typeof url !== 'string') throw new HttpError(400, 'image_url block without a url');
          refs.push({ label, url, block });
          label = '';
          if (last) prompt = '';
        }
      }
    });
    const decoded = await Promise.all(refs.map((r) => decode(r.url)));
    const images: SimImage[] = decoded.map((d, i) => ({ ...d, label: refs[i].label }));
    if (!opts.keepImageData) {
      refs.forEach((r, i) => {
        if (!/^data:/i.test(r.url)) return;
        const short = `data:${images[i].mime};base64,<sha256=${images[i].sha256};chars=${images[i].payloadChars}>`;
        if (typeof r.block.image_url === 'string') r.block.image_url = short;
        else r.block.image_url.url = short;
      });
    }
    const candidates = images.filter((im) => classify(im.label) === 'candidate');
    const base = images.find((im) => classify(im.label) === 'base');
    return { model: String(body.model ?? ''), images, text: texts.join('\n'), body, index, prompt, candidates, base };
  }

  function pickFault(index: number): SimFault | undefined {
    for (const [i, f] of (opts.faults ?? []).entries()) {
      const n = fired.get(f) ?? 0;
      if (f.times !== undefined && n >= f.times) continue;
      if (f.after !== undefined && index < f.after) continue;
      const rate = f.rate ?? 1;
      if (rate < 1 && draw(seed(), index, `fault:${i}:${f.kind}`) >= rate) continue;
      fired.set(f, n + 1);
      return f;
    }
    return undefined;
  }

  function wait(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });
  }

  function send(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
    if (res.writableEnded || res.destroyed) return;
    const text = JSON.stringify(payload);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  function sendError(res: ServerResponse, e: HttpError): void {
    send(res, e.status, { error: { message: e.message, type: e.type, param: null, code: e.code } }, e.headers);
  }

  function readBody(req: IncomingMessage): Promise<Buffer> {
    const max = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
    const tooLarge = () =>
      new HttpError(
        413,
        `Request body too large: the limit is ${max} bytes.`,
        'invalid_request_error',
        'request_too_large',
        {
          connection: 'close',
        },
      );
    return new Promise((resolve, reject) => {
      const declared = Number(req.headers['content-length'] ?? NaN);
      if (Number.isFinite(declared) && declared > max) {
        req.resume(); // drain and discard, so the client can read the 413
        return reject(tooLarge());
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let over = false;
      req.on('data', (c: Buffer) => {
        if (over) return;
        size += c.length;
        if (size > max) {
          over = true;
          chunks.length = 0;
          reject(tooLarge());
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => !over && resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }

  function completion(v: SimRequestView, content: string, finish: 'stop' | 'length') {
    const prompt_tokens = 300 * v.images.length + Math.ceil(v.text.length / 4);
    const completion_tokens = Math.ceil(content.length / 4);
    return {
      id: `chatcmpl-sim-${v.index}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: v.model || (opts.models ?? [DEFAULT_MODEL])[0],
      choices: [
        { index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: finish },
      ],
      usage: { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens },
    };
  }

  async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    let body: any;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HttpError(400, 'We could not parse the JSON body of your request.');
    }
    if (body?.stream) throw new HttpError(400, 'stream=true is not supported by the simulated VLM');
    const index = chatIndex++;
    const v = await view(body, index);
    v.receivedAt = Date.now();
    requests[index] = v;
    const models = opts.models ?? [DEFAULT_MODEL];
    if (opts.strictModel && !models.includes(v.model)) {
      throw new HttpError(404, `The model \`${v.model}\` does not exist.`, 'NotFoundError', 'model_not_found');
    }
    const fault = pickFault(index);
    const lat = typeof opts.latencyMs === 'function' ? opts.latencyMs() : (opts.latencyMs ?? 0);
    if (fault?.kind === 'hang') return; // never answer; close() destroys the socket
    await wait(lat);
    if (closed) return;
    if (fault?.kind === '429') {
      const s = fault.retryAfterS ?? 1;
      throw new HttpError(
        429,
        'Rate limit reached for requests. Please try again later.',
        'requests',
        'rate_limit_exceeded',
        {
          'retry-after': String(s),
        },
      );
    }
    if (fault?.kind === '500')
      throw new HttpError(500, 'The server had an error while processing your request.', 'server_error');

    let verdict: SimVerdict;
    try {
      verdict = await (opts.rule ?? brightnessRule)(v);
    } catch (e) {
      throw new HttpError(500, `rule failed: ${e instanceof Error ? e.message : String(e)}`, 'server_error');
    }
    const answer: Record<string, unknown> = {};
    let rank = verdict.rank ? [...verdict.rank] : undefined;
    if (
      rank &&
      rank.length === 2 &&
      (opts.positionBias ?? 0) > 0 &&
      draw(seed(), index, 'position-bias') < opts.positionBias!
    ) {
      rank = [1, 2];
    }
    if (rank && fault?.kind === 'wrong-length') rank.push(rank.length + 1);
    if (rank && fault?.kind === 'tie') rank = rank.map(() => 1);
    if (verdict.answer) Object.assign(answer, verdict.answer);
    else if (rank) answer.rank = rank;
    else if (verdict.score !== undefined) answer.score = verdict.score;
    answer.reason = verdict.reason ?? 'simulated judgement';
    const json = JSON.stringify(answer);

    let content = json;
    let finish: 'stop' | 'length' = 'stop';
    switch (fault?.kind) {
      case 'truncated':
        content = json.slice(0, Math.max(1, Math.floor(json.length / 2)));
        finish = 'length';
        break;
      case 'fenced':
        content = '```json\n' + json + '\n```';
        break;
      case 'think': {
        // The fake verdict inside <think> is the opposite of the real one ({"rank":[2,1]} when the real rank is [1,2]),
        // so a parser that takes the first JSON it sees gets the wrong answer.
        const fake = rank
          ? { rank: rank.map((r) => rank!.length + 1 - r) }
          : { score: (verdict.score ?? 0) === 1 ? 5 : 1 };
        content = `<think>some reasoning with a fake ${JSON.stringify(fake)} inside</think>\n` + json;
        break;
      }
      case 'preamble':
        content = 'Sure! Here is my answer:\n' + json + '\nHope this helps.';
        break;
      case 'garbage':
        content = 'I am unable to compare these images; both look fine to me.';
        break;
      case 'empty':
        content = '';
        break;
    }
    send(res, 200, completion(v, content, finish));
  }

  function authorized(req: IncomingMessage): boolean {
    if (opts.apiKey === undefined) return true;
    return req.headers.authorization === `Bearer ${opts.apiKey}`;
  }

  const server = createServer((req, res) => {
    stats.requests++;
    const path = (req.url ?? '/').split('?')[0];
    const handle = async () => {
      if (path !== '/v1/models' && path !== '/v1/chat/completions') {
        req.resume();
        throw new HttpError(404, `Unknown path ${req.method} ${path}`, 'invalid_request_error', 'unknown_url');
      }
      if (!authorized(req)) {
        req.resume();
        const got = (req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
        throw new HttpError(
          401,
          `Incorrect API key provided: ${got.slice(0, 3)}***${got.slice(-2)}. You can find your API key in your settings.`,
          'invalid_request_error',
          'invalid_api_key',
        );
      }
      if (path === '/v1/models') {
        req.resume();
        if (req.method !== 'GET') throw new HttpError(405, `Method ${req.method} not allowed`);
        const data = (opts.models ?? [DEFAULT_MODEL]).map((id) => ({
          id,
          object: 'model',
          created: 0,
          owned_by: 'sim-vlm',
        }));
        return send(res, 200, { object: 'list', data });
      }
      if (req.method !== 'POST') {
        req.resume();
        throw new HttpError(405, `Method ${req.method} not allowed`);
      }
      await chat(req, res);
    };
    handle().catch((e: unknown) => {
      if (e instanceof HttpError) sendError(res, e);
      else sendError(res, new HttpError(500, e instanceof Error ? e.message : String(e), 'server_error'));
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    stats,
    setOptions(patch) {
      opts = { ...opts, ...patch };
    },
    close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
    },
  };
}
