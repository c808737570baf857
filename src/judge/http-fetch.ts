// A minimal `fetch` for the openai SDK over node:http(s) with keep-alive agents. Measured on this
// machine with 32 calls in flight against a 100 ms endpoint, Node's built-in fetch (undici) costs about
// 1.2 ms of client CPU per call and node:http about 0.3 ms; the judge's budget is 1 ms per request.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface KeepAliveFetchOptions {
  /** Sockets per endpoint; at least the judge's concurrency so no call waits for a socket. */
  maxSockets: number;
}

function headerRecord(headers: RequestInit['headers']): Record<string, string> {
  if (!headers) return {};
  if (headers instanceof Headers) return Object.fromEntries(headers.entries());
  if (Array.isArray(headers)) return Object.fromEntries(headers);
  return headers as Record<string, string>;
}

function bodyBytes(body: RequestInit['body']): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (Buffer.isBuffer(body)) return body;
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  throw new TypeError('keepAliveFetch sends only string or byte bodies');
}

export function keepAliveFetch(options: KeepAliveFetchOptions): typeof fetch {
  const http = new HttpAgent({ keepAlive: true, maxSockets: options.maxSockets });
  const https = new HttpsAgent({ keepAlive: true, maxSockets: options.maxSockets });
  const fetchImpl = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> =>
    new Promise((resolve, reject) => {
      const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
      const body = bodyBytes(init.body);
      const headers = headerRecord(init.headers);
      if (body) headers['content-length'] = String(body.length);
      const secure = url.protocol === 'https:';
      const req = (secure ? httpsRequest : httpRequest)(
        url,
        { method: init.method ?? 'GET', headers, agent: secure ? https : http },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const responseHeaders = new Headers();
            for (const [name, value] of Object.entries(res.headers)) {
              if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
            }
            const status = res.statusCode ?? 500;
            const payload = status === 204 || status === 304 ? null : Buffer.concat(chunks);
            resolve(new Response(payload, { status, statusText: res.statusMessage, headers: responseHeaders }));
          });
        },
      );
      const signal = init.signal;
      const abort = () => {
        const error = new Error('This operation was aborted');
        error.name = 'AbortError';
        req.destroy(error);
        reject(error);
      };
      if (signal?.aborted) return abort();
      signal?.addEventListener('abort', abort, { once: true });
      req.on('close', () => signal?.removeEventListener('abort', abort));
      req.on('error', reject); // the Node error itself, so its `code` (ECONNREFUSED…) reaches the message
      req.end(body);
    });
  return fetchImpl as typeof fetch;
}
