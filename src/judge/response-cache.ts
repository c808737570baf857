import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../store/atomic.js';
import { sha256Hex } from '../store/canonical-json.js';

export interface CachedResponse {
  content: string;
  usage: { prompt_tokens: number; completion_tokens: number };
  created: string;
}

/** An entry as stored: the reply, the request key it answers, and a checksum over both. */
interface StoredResponse extends CachedResponse {
  key: string;
  sha256: string;
}

/** Why a stored entry cannot be trusted, or undefined when it can. */
export type EntryProblem = string | undefined;

export interface CacheEntryCheck {
  key: string;
  path: string;
  ok: boolean;
  problem?: string;
}

const checksum = (key: string, content: string, usage: CachedResponse['usage']): string =>
  sha256Hex(JSON.stringify([key, content, usage.prompt_tokens, usage.completion_tokens]));
const KEY = /^[0-9a-f]{64}$/;

/**
 * Judge replies by request key (layer 3 of the cache): `<dir>/<k0k1>/<key>.json`. Only replies that
 * parsed into a valid answer are stored; errors and malformed replies never are. Each entry records
 * the key it answers and a checksum, so an entry edited by hand (ranks swapped) or moved to another
 * key is ignored and asked again, and `arr cache verify` reports it.
 */
export class ResponseCache {
  /** Keys whose stored entry was refused by `get` during this process (each is asked again). */
  readonly refused = new Map<string, string>();

  constructor(readonly dir: string) {}

  private file(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  async get(key: string): Promise<CachedResponse | undefined> {
    let text: string;
    try {
      text = await readFile(this.file(key), 'utf8');
    } catch {
      return undefined; // absent: ask
    }
    const { entry, problem } = checkEntry(key, text);
    if (problem) {
      this.refused.set(key, problem);
      return undefined; // torn by a crash, edited, or from an older version: ask again (put replaces it)
    }
    return entry;
  }

  async put(key: string, entry: CachedResponse): Promise<void> {
    const file = this.file(key);
    await mkdir(join(this.dir, key.slice(0, 2)), { recursive: true });
    const stored: StoredResponse = { key, ...entry, sha256: checksum(key, entry.content, entry.usage) };
    await writeFileAtomic(file, JSON.stringify(stored));
  }

  /** Checks every stored entry (for `arr cache verify`); entries are read one at a time. */
  async verify(): Promise<CacheEntryCheck[]> {
    const out: CacheEntryCheck[] = [];
    for (const shard of (await readdir(this.dir).catch(() => [] as string[])).sort()) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      for (const name of (await readdir(join(this.dir, shard)).catch(() => [] as string[])).sort()) {
        const key = name.replace(/\.json$/, '');
        if (!name.endsWith('.json') || !KEY.test(key)) continue;
        const path = join(this.dir, shard, name);
        let problem: string | undefined;
        try {
          problem = key.startsWith(shard)
            ? checkEntry(key, await readFile(path, 'utf8')).problem
            : `stored under ${shard}/, not ${key.slice(0, 2)}/`;
        } catch (error) {
          problem = `unreadable (${(error as Error).message})`;
        }
        out.push({ key, path, ok: problem === undefined, ...(problem ? { problem } : {}) });
      }
    }
    return out;
  }
}

/** Parses a stored entry and checks it answers `key` and matches its checksum. */
function checkEntry(key: string, text: string): { entry?: CachedResponse; problem?: string } {
  let parsed: Partial<StoredResponse>;
  try {
    parsed = JSON.parse(text) as Partial<StoredResponse>;
  } catch {
    return { problem: 'not valid JSON (a torn write?)' };
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    typeof parsed.content !== 'string' ||
    typeof parsed.usage !== 'object' ||
    parsed.usage === null
  ) {
    return { problem: 'not a cached reply (no content or usage)' };
  }
  if (typeof parsed.key !== 'string' || typeof parsed.sha256 !== 'string')
    return { problem: 'no request key or checksum (written by an older version); it is asked again' };
  if (parsed.key !== key) return { problem: `answers request ${parsed.key.slice(0, 12)}…, not this one` };
  const usage = {
    prompt_tokens: Number(parsed.usage.prompt_tokens) || 0,
    completion_tokens: Number(parsed.usage.completion_tokens) || 0,
  };
  if (checksum(key, parsed.content, usage) !== parsed.sha256)
    return { problem: 'checksum mismatch: the reply was changed after it was stored' };
  return { entry: { content: parsed.content, usage, created: String(parsed.created ?? '') } };
}
