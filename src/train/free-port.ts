// A TCP port nothing listens on right now, for torchrun's --master_port: two single-node runs on one
// machine would otherwise both take the default 29500 and the second would fail to rendezvous.
import { createServer } from 'node:net';

/** Asks the kernel for a free port on `host` and releases it (a small race remains; torchrun reports it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}
