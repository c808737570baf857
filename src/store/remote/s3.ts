import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { RemoteError, remotePath, type RemoteBackend, type RemoteObject } from './backend.js';

export interface S3RemoteOptions {
  bucket: string;
  prefix: string;
  url: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * A remote in an S3 bucket (AWS, or any S3-compatible store: MinIO, R2, Ceph, s3rver). Endpoint,
 * region and credentials come from the AWS SDK's own conventions (AWS_ENDPOINT_URL, AWS_REGION,
 * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, instance roles), never from the URL.
 */
export class S3Remote implements RemoteBackend {
  readonly url: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(options: S3RemoteOptions) {
    const env = options.env ?? process.env;
    this.url = options.url;
    this.bucket = options.bucket;
    this.prefix = options.prefix;
    const customEndpoint = Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL);
    this.client = new S3Client({
      // The SDK has no built-in default region; S3-compatible servers mostly ignore it.
      ...(env.AWS_REGION || env.AWS_PROFILE ? {} : { region: 'us-east-1' }),
      // Self-hosted servers rarely route bucket subdomains, and many do not know the newer
      // checksum trailers (a streamed upload would be stored with the trailer bytes in it).
      forcePathStyle: customEndpoint,
      // Some (s3rver among them) never answer `Expect: 100-continue`, which the SDK sends for bodies over 2 MB.
      ...(customEndpoint ? { expectContinueHeader: false } : {}),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
    });
  }

  async size(path: string): Promise<number | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(path) }));
      return head.ContentLength ?? 0;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.failure('read', path, error);
    }
  }

  async read(path: string, start: number): Promise<Readable> {
    try {
      const got = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.key(path),
          ...(start > 0 ? { Range: `bytes=${start}-` } : {}),
        }),
      );
      if (start > 0 && !got.ContentRange) {
        // The server ignored the Range header and sent the whole object: resuming would duplicate bytes.
        (got.Body as Readable | undefined)?.destroy();
        throw new RemoteError(
          `${this.url}/${path}: the server does not honour Range requests, so a partial download cannot resume`,
        );
      }
      if (!(got.Body instanceof Readable))
        throw new RemoteError(`${this.url}/${path}: the S3 response has no readable body`);
      return got.Body;
    } catch (error) {
      if (error instanceof RemoteError) throw error;
      throw this.failure('read', path, error);
    }
  }

  async write(path: string, file: string, size: number, onBytes?: (n: number) => void): Promise<void> {
    const body = createReadStream(file);
    if (onBytes) body.on('data', (chunk) => onBytes(chunk.length));
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: this.key(path), Body: body, ContentLength: size }),
      );
    } catch (error) {
      throw this.failure('write', path, error);
    } finally {
      body.destroy();
    }
  }

  async list(prefix: string): Promise<RemoteObject[]> {
    const out: RemoteObject[] = [];
    const base = this.prefix ? `${this.prefix}/` : '';
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: base + prefix, ContinuationToken: token }),
        );
      } catch (error) {
        throw this.failure('list', prefix, error);
      }
      for (const o of page.Contents ?? []) if (o.Key) out.push({ path: o.Key.slice(base.length), size: o.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async checkWritable(): Promise<void> {
    try {
      await this.client.config.credentials();
    } catch {
      throw new RemoteError(`cannot push to ${this.url}: no AWS credentials found`, {
        hint: 'push only from a trusted machine: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) with write access to the bucket',
      });
    }
  }

  private key(path: string): string {
    return remotePath(this.prefix, path);
  }

  private failure(action: string, path: string, error: unknown): RemoteError {
    const where = path ? `${this.url}/${path}` : this.url;
    if (error instanceof S3ServiceException) {
      const status = error.$metadata?.httpStatusCode;
      const denied =
        status === 403 ||
        error.name === 'AccessDenied' ||
        error.name === 'InvalidAccessKeyId' ||
        error.name === 'SignatureDoesNotMatch';
      return new RemoteError(
        `cannot ${action} ${where}: ${error.name}${status ? ` (HTTP ${status})` : ''}: ${error.message}`,
        {
          hint: denied
            ? 'check the AWS credentials (AWS_ACCESS_KEY_ID, AWS_PROFILE): pulling needs read access, pushing needs write access'
            : error.name === 'NoSuchBucket'
              ? 'create the bucket or fix ARR_CACHE_REMOTE'
              : undefined,
          cause: error,
        },
      );
    }
    const message = (error as Error)?.message ?? String(error);
    const credentials = /credential/i.test(message);
    return new RemoteError(`cannot ${action} ${where}: ${message}`, {
      hint: credentials
        ? 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE); read-only credentials are enough to pull'
        : 'check AWS_ENDPOINT_URL and the network, or unset ARR_CACHE_REMOTE to build locally',
      cause: error,
    });
  }
}

function isNotFound(error: unknown): boolean {
  if (!(error instanceof S3ServiceException)) return false;
  return error.name === 'NotFound' || error.name === 'NoSuchKey' || error.$metadata?.httpStatusCode === 404;
}
