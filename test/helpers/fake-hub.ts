// A stand-in for the Hugging Face Hub on 127.0.0.1 (test support): the tree listing of model
// repositories and `resolve` downloads with HTTP ranges, enough for @huggingface/hub's listFiles and
// downloadFile. Files can be served with a wrong sha256, or cut off after some bytes.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeHubFile {
  path: string;
  bytes: Buffer;
  /** Listed sha256 (default: the real one). */
  sha256?: string;
}

export interface FakeHub {
  url: string;
  /** Request lines received, e.g. `GET /api/models/o/r/tree/main?recursive=true`. */
  requests: string[];
  /** Bytes of each download response body sent, by file path (a cut-off one ends early). */
  cutAfter: Map<string, number>;
  /** Bytes sent before the response stops sending without closing (a stalled connection), by file path. */
  stallAfter: Map<string, number>;
  close(): Promise<void>;
}

export async function startFakeHub(repos: Record<string, FakeHubFile[]>): Promise<FakeHub> {
  const requests: string[] = [];
  const cutAfter = new Map<string, number>();
  const stallAfter = new Map<string, number>();
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push(`${req.method} ${req.url}${req.headers.range ? ` ${req.headers.range}` : ''}`);
    const url = new URL(req.url ?? '/', 'http://x');
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)\/?(.*)$/.exec(url.pathname);
    if (tree) {
      const files = repos[decodeURIComponent(tree[1])];
      if (!files)
        return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Repository not found"}');
      const body = files.map((f) => ({
        type: 'file',
        path: f.path,
        size: f.bytes.length,
        oid: sha(Buffer.from(f.path)).slice(0, 40),
        lfs: { oid: f.sha256 ?? sha(f.bytes), size: f.bytes.length, pointerSize: 134 },
      }));
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    }
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const file =
      resolve && repos[decodeURIComponent(resolve[1])]?.find((f) => f.path === decodeURIComponent(resolve[3]));
    if (!file) return void res.writeHead(404).end('not found');
    const total = file.bytes.length;
    const headers: Record<string, string> = {
      'accept-ranges': 'bytes',
      etag: `"${sha(file.bytes)}"`,
      'x-repo-commit': 'c'.repeat(40),
      'content-type': 'application/octet-stream',
    };
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = total - 1;
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), total - 1) : total - 1;
      headers['content-range'] = `bytes ${start}-${end}/${total}`;
    }
    const body = file.bytes.subarray(start, end + 1);
    headers['content-length'] = String(body.length);
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD') return void res.end();
    const stall = stallAfter.get(file.path);
    if (stall !== undefined && stall < body.length) {
      stallAfter.delete(file.path);
      return void res.write(body.subarray(0, stall)); // and nothing more until the client gives up
    }
    const cut = cutAfter.get(file.path);
    if (cut !== undefined && cut < body.length) {
      cutAfter.delete(file.path);
      res.write(body.subarray(0, cut));
      return void setImmediate(() => res.destroy());
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    cutAfter,
    stallAfter,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
