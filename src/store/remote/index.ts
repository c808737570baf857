import type { MissHandler } from '../artifacts.js';
import type { RemoteBackend } from './backend.js';
import { FolderRemote } from './folder.js';
import { S3Remote } from './s3.js';
import { pullArtifact, type ProgressFactory } from './transfer.js';
import { parseRemote } from './url.js';

export { RemoteError, type RemoteBackend } from './backend.js';
export { listRemote, pullArtifact, pushArtifact, RemoteArtifactRefusedError, type ProgressFactory, type RemoteArtifact } from './transfer.js';
export { parseRemote, RemoteUrlError } from './url.js';

/**
 * The artifact remote `ARR_CACHE_REMOTE` names (`s3://bucket/prefix` or `file:///folder`), or undefined
 * when it is unset. Throws RemoteUrlError for a URL we cannot use, including one carrying credentials.
 */
export function openRemote(env: NodeJS.ProcessEnv = process.env): RemoteBackend | undefined {
  const raw = env.ARR_CACHE_REMOTE?.trim();
  if (!raw) return undefined;
  const where = parseRemote(raw);
  return where.scheme === 's3'
    ? new S3Remote({ bucket: where.bucket, prefix: where.prefix, url: where.url, env })
    : new FolderRemote(where.dir, where.url);
}

/**
 * The store's miss handler for `ARR_CACHE_REMOTE`: on a local miss, pull the artifact (verified) before
 * anything builds it. Undefined when no remote is set, so stores without one behave as before.
 */
export function remoteOnMiss(
  options: { env?: NodeJS.ProcessEnv; progress?: ProgressFactory; log?: (line: string) => void } = {},
): MissHandler | undefined {
  const remote = openRemote(options.env);
  if (!remote) return undefined;
  return async (store, kind, key) => {
    const outcome = await pullArtifact(remote, store, kind, key, { progress: options.progress });
    if (outcome === 'pulled') options.log?.(`pulled ${kind}/${key.slice(0, 12)} from ${remote.url}`);
    return outcome === 'pulled';
  };
}
