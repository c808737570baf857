import { randomBytes } from 'node:crypto';
import { constants, createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RemoteError, type RemoteBackend, type RemoteObject } from './backend.js';

/** Read size for copies: 1 MiB chunks move several times faster than the 64 KiB default. */
const CHUNK = 1 << 20;

/**
 * A remote that is a folder every machine mounts (NFS, SMB, a synced drive). Objects are plain files
 * under `dir`; each is written to a temp name and renamed, so readers never see half a file.
 */
export class FolderRemote implements RemoteBackend {
  constructor(
    readonly dir: string,
    readonly url: string,
  ) {}

  async size(path: string): Promise<number | undefined> {
    const s = await stat(this.file(path)).catch(() => undefined);
    return s?.isFile() ? s.size : undefined;
  }

  async read(path: string, start: number): Promise<Readable> {
    const file = this.file(path);
    // Open before returning so a missing file fails here rather than mid-stream.
    const stream = createReadStream(file, { start, highWaterMark: CHUNK });
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
    return stream;
  }

  async write(path: string, file: string, _size: number, onBytes?: (n: number) => void): Promise<void> {
    const target = this.file(path);
    await mkdir(dirname(target), { recursive: true });
    const tmp = join(dirname(target), `.${randomBytes(6).toString('hex')}.${process.pid}.uploading`);
    try {
      const source = createReadStream(file, { highWaterMark: CHUNK });
      if (onBytes) source.on('data', (chunk) => onBytes(chunk.length));
      await pipeline(source, createWriteStream(tmp, { flags: 'wx' }));
      await rename(tmp, target);
    } catch (error) {
      await rm(tmp, { force: true }).catch(() => {});
      throw new RemoteError(`cannot write ${this.url}/${path}: ${(error as Error).message}`, { cause: error });
    }
  }

  async list(prefix: string): Promise<RemoteObject[]> {
    const out: RemoteObject[] = [];
    const walk = async (rel: string): Promise<void> => {
      const entries = await readdir(rel ? join(this.dir, rel) : this.dir, { withFileTypes: true }).catch((error) => {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' && rel) return [];
        throw error;
      });
      for (const entry of entries) {
        if (entry.name.startsWith('.')) continue; // uploads in progress
        const path = rel ? `${rel}/${entry.name}` : entry.name;
        if (entry.isDirectory()) {
          if (path.startsWith(prefix) || prefix.startsWith(`${path}/`)) await walk(path);
        } else if (entry.isFile() && path.startsWith(prefix)) {
          out.push({ path, size: (await stat(join(this.dir, path))).size });
        }
      }
    };
    try {
      await walk('');
    } catch (error) {
      throw new RemoteError(`cannot list ${this.url}: ${(error as Error).message}`, {
        hint: 'check that the shared folder is mounted',
        cause: error,
      });
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  async checkWritable(): Promise<void> {
    try {
      await access(this.dir, constants.W_OK);
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      throw new RemoteError(
        `cannot push to ${this.url}: ${missing ? 'the folder does not exist' : 'the folder is not writable by this user'}`,
        {
          hint: missing
            ? 'create the folder (or mount the share) first; arr does not create the remote root'
            : 'push from a machine and user trusted to write the shared cache',
        },
      );
    }
  }

  private file(path: string): string {
    return join(this.dir, ...path.split('/'));
  }
}
