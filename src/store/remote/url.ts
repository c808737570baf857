import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArrError } from '../../util/errors.js';

/** Where `ARR_CACHE_REMOTE` points: an S3 bucket and key prefix, or a folder. */
export type RemoteLocation =
  | { scheme: 's3'; bucket: string; prefix: string; url: string }
  | { scheme: 'file'; dir: string; url: string };

/** Query parameters that carry secrets in presigned or SAS-style URLs. */
const SECRET_PARAMS =
  /^(x-amz-(signature|credential|security-token)|signature|sig|token|access[_-]?key|secret|password|aws_?access_key_id|aws_?secret_access_key)$/i;

/** Thrown for an `ARR_CACHE_REMOTE` we cannot use; the message never repeats a secret. */
export class RemoteUrlError extends ArrError {
  constructor(message: string, hint?: string) {
    super(`ARR_CACHE_REMOTE: ${message}`, { hint });
  }
}

/**
 * Parses `ARR_CACHE_REMOTE`: `s3://bucket/prefix` or `file:///absolute/folder` (a plain absolute path
 * is taken as a folder too). Credentials in the URL are refused: for S3 they come from the AWS SDK's
 * own variables and files, so the URL can be logged and shown.
 * @throws RemoteUrlError for another scheme, a missing bucket, or embedded credentials.
 * @example parseRemote('s3://team-cache/arr') // { scheme: 's3', bucket: 'team-cache', prefix: 'arr', … }
 */
export function parseRemote(raw: string): RemoteLocation {
  const text = raw.trim();
  if (isAbsolute(text)) return { scheme: 'file', dir: text.replace(/\/+$/, '') || '/', url: `file://${text}` };
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/\s@]+@/i.test(text)) throw credentialsInUrl();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RemoteUrlError('not a URL; expected s3://bucket/prefix or file:///shared/folder');
  }
  if (url.username || url.password) throw credentialsInUrl();
  const secret = [...url.searchParams.keys()].find((k) => SECRET_PARAMS.test(k));
  if (secret) {
    throw new RemoteUrlError(
      `the URL carries a secret query parameter "${secret}" (value not shown)`,
      'use a plain s3://bucket/prefix URL; credentials come from the AWS SDK variables (AWS_ACCESS_KEY_ID, AWS_PROFILE, …)',
    );
  }
  if (url.search || url.hash)
    throw new RemoteUrlError(
      'query strings and fragments are not supported; expected s3://bucket/prefix or file:///shared/folder',
    );
  if (url.protocol === 's3:') {
    if (!url.hostname) throw new RemoteUrlError('no bucket in the URL; expected s3://bucket/prefix');
    const prefix = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, '');
    return { scheme: 's3', bucket: url.hostname, prefix, url: `s3://${url.hostname}${prefix ? `/${prefix}` : ''}` };
  }
  if (url.protocol === 'file:') {
    if (url.hostname && url.hostname !== 'localhost')
      throw new RemoteUrlError(`file URLs must name a local path (file:///folder), not host "${url.hostname}"`);
    const dir = fileURLToPath(url).replace(/\/+$/, '') || '/';
    return { scheme: 'file', dir, url: `file://${dir}` };
  }
  throw new RemoteUrlError(
    `unsupported scheme "${url.protocol.replace(/:$/, '')}"; expected s3://bucket/prefix or file:///shared/folder`,
  );
}

function credentialsInUrl(): RemoteUrlError {
  return new RemoteUrlError(
    'credentials embedded in the URL are not allowed (value not shown)',
    'remove them from the URL; for S3 set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) instead',
  );
}
