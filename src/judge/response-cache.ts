import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../store/atomic.js';

export interface CachedResponse {
  content: string;
  usage: { prompt_tokens: number; completion_tokens: number };
  created: string;
}

/**
 * Judge replies by request key (DESIGN.md §2, layer 3): `<dir>/<k0k1>/<key>.json`. Only replies that
 * parsed into a valid answer are stored; errors and malformed replies never are.
 */
export class ResponseCache {
  constructor(readonly dir: string) {}

  private file(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  async get(key: string): Promise<CachedResponse | undefined> {
    try {
      const entry = JSON.parse(await readFile(this.file(key), 'utf8')) as CachedResponse;
      return typeof entry.content === 'string' ? entry : undefined;
    } catch {
      return undefined; // absent, or torn by a crash: ask again
    }
  }

  async put(key: string, entry: CachedResponse): Promise<void> {
    const file = this.file(key);
    await mkdir(join(this.dir, key.slice(0, 2)), { recursive: true });
    await writeFileAtomic(file, JSON.stringify(entry));
  }
}
