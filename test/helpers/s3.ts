// A real S3-protocol server (s3rver) on 127.0.0.1, for tests and benches of the artifact remote.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export interface S3Server {
  /** The environment a client needs: endpoint, region and s3rver's fixed credentials, as the AWS SDK reads them. */
  env: Record<string, string>;
  endpoint: string;
  bucket: string;
  /** Where s3rver keeps objects on disk (to tamper with them in tests). */
  dir: string;
  close(): Promise<void>;
}

/** Starts s3rver on 127.0.0.1 (a free port) with one empty bucket. */
export async function startS3(bucket = 'arr-cache'): Promise<S3Server> {
  const dir = mkdtempSync(join(tmpdir(), 'arr-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    dir,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
