import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync, type Dirent } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ProjectPlan } from '../../src/graph/project-plan';

const VERSION = 4;

interface Entry {
  plan: ProjectPlan;
  /** Files the plan was computed from, by content hash. */
  files: Record<string, string>;
  /** Values of the env variables the manifest refers to (they can move paths). */
  env: Record<string, string | null>;
}

function contentHash(file: string): string {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return 'missing';
  }
}

/**
 * The plugin's own cache: a plan is reused while none of the files it was computed from (manifest,
 * extends chain, datasets) changed and the env variables it refers to hold the same values.
 */
export class PlanCache {
  private entries: Record<string, Entry> = {};
  private dirty = false;
  /** Manifests share bases and datasets: hash each file once per graph computation. */
  private readonly hashes = new Map<string, string>();

  /** `code` identifies the planner itself (see codeHash): plans made by other code are not reused. */
  constructor(
    private readonly file: string,
    private readonly code: string,
  ) {
    try {
      const data = JSON.parse(readFileSync(file, 'utf8'));
      if (data.version === VERSION && data.code === code) this.entries = data.entries;
    } catch {
      /* no cache yet, or unreadable: start empty */
    }
  }

  get(manifest: string, compute: () => ProjectPlan): ProjectPlan {
    const entry = this.entries[manifest];
    if (entry && this.isCurrent(entry)) return entry.plan;
    const plan = compute();
    const files = Object.fromEntries(plan.dependencies.map((f) => [f, this.hash(f)]));
    const env = Object.fromEntries(this.envOf(plan));
    this.entries[manifest] = { plan, files, env };
    this.dirty = true;
    return plan;
  }

  save(): void {
    if (!this.dirty) return;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ version: VERSION, code: this.code, entries: this.entries }));
      renameSync(tmp, this.file);
    } catch {
      /* a cache that cannot be written only costs time */
    }
  }

  private isCurrent(entry: Entry): boolean {
    for (const [file, hash] of Object.entries(entry.files)) if (this.hash(file) !== hash) return false;
    for (const [name, value] of Object.entries(entry.env)) if ((process.env[name] ?? null) !== value) return false;
    return true;
  }

  private hash(file: string): string {
    let hash = this.hashes.get(file);
    if (hash === undefined) {
      hash = contentHash(file);
      this.hashes.set(file, hash);
    }
    return hash;
  }

  private envOf(plan: ProjectPlan): [string, string | null][] {
    const names = new Set(Object.values(plan.targets).flatMap((t) => t?.env ?? []));
    return [...names].map((n) => [n, process.env[n] ?? null]);
  }
}

/** A hash of every file below `dirs`: the planner's code and schemas, so editing them drops old plans. */
export function codeHash(root: string, dirs: string[]): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) hash.update(`${path}\0${contentHash(path)}\n`);
    }
  };
  for (const dir of dirs) walk(join(root, dir));
  return hash.digest('hex');
}
