import { rename, rm } from 'node:fs/promises';
import type { ArtifactSource } from '../sources.js';
import type { RemoteBackend } from './backend.js';
import { FolderRemote } from './folder.js';
import { S3Remote } from './s3.js';
import { downloadArtifact, partialRoot, type ProgressFactory } from './transfer.js';
import { parseRemote } from './url.js';

export { RemoteError, type RemoteBackend } from './backend.js';
export {
  listRemote,
  pullArtifact,
  pushArtifact,
  RemoteArtifactRefusedError,
  type ProgressFactory,
  type RemoteArtifact,
} from './transfer.js';
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
 * The artifact source for `ARR_CACHE_REMOTE` (undefined when it is unset): on a local miss the store
 * asks it before anything builds the key. Every file is verified as it arrives; a copy that does not
 * match its artifact.json is refused with RemoteArtifactRefusedError, naming the key.
 * @param options.storeDir the local store (`cacheDir(workspaceRoot)`), whose `remote-partial/` keeps
 * interrupted downloads for resuming.
 */
export function remoteSource(options: {
  storeDir: string;
  env?: NodeJS.ProcessEnv;
  progress?: ProgressFactory;
  log?: (line: string) => void;
}): ArtifactSource | undefined {
  const remote = openRemote(options.env);
  if (!remote) return undefined;
  return {
    name: remote.url,
    async fetch(kind, key, into) {
      const outcome = await downloadArtifact(
        remote,
        partialRoot(options.storeDir),
        kind,
        key,
        { progress: options.progress },
        async (dir) => {
          await rm(into, { recursive: true, force: true });
          await rename(dir, into);
        },
      );
      if (outcome === 'pulled') options.log?.(`pulled ${kind}/${key.slice(0, 12)} from ${remote.url}`);
      return outcome === 'pulled';
    },
  };
}
