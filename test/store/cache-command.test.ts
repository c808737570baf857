import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerCacheCommand } from '../../src/commands/cache.js';
import { ArtifactStore } from '../../src/store/artifacts.js';

let root: string;
let store: ArtifactStore;
let lines: string[];
const startDir = process.cwd();

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'arr-cache-cmd-'));
  await writeFile(join(root, 'nx.json'), '{}');
  store = new ArtifactStore(join(root, 'cache'));
  process.chdir(root);
  lines = [];
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
  process.exitCode = undefined;
});
afterEach(async () => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
  process.chdir(startDir);
  await rm(root, { recursive: true, force: true });
});

async function arr(...args: string[]): Promise<void> {
  const program = new Command('arr').exitOverride();
  registerCacheCommand(program);
  await program.parseAsync(['cache', ...args], { from: 'user' });
}

const build = (inputs: unknown) => store.build('rubric', inputs, (d) => writeFile(join(d, 'rubric.txt'), 'text\n'));

describe('arr cache', () => {
  it('ls prints a table, and JSON with --json', async () => {
    const { key } = await build({ a: 1 });
    await arr('ls');
    expect(lines[0]).toMatch(/^KIND\s+KEY\s+FILES\s+SIZE\s+CREATED\s+LAST USED$/);
    expect(lines[1]).toMatch(new RegExp(`^rubric\\s+${key.slice(0, 12)}\\s+1\\s+5 B\\s`));
    lines = [];
    await arr('ls', '--json');
    expect(JSON.parse(lines.join('\n'))).toEqual([
      expect.objectContaining({ kind: 'rubric', key, bytes: 5, files: 1 }),
    ]);
  });

  it('verify exits 1 and prints each problem when an artifact is corrupt', async () => {
    await build({ a: 1 });
    const bad = await build({ b: 1 });
    await arr('verify');
    expect(process.exitCode).toBeUndefined();
    expect(lines.at(-1)).toBe('2 ok, 0 corrupt');

    await writeFile(join(bad.dir, 'rubric.txt'), 'TEXT\n');
    lines = [];
    await arr('verify');
    expect(process.exitCode).toBe(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^corrupt rubric/${bad.key} rubric.txt: sha256 mismatch \\(expected [0-9a-f]{64}, actual [0-9a-f]{64}\\)$`,
      ),
    );
  });

  it('gc --dry-run --older-than lists what it would remove and removes nothing', async () => {
    const { dir, key } = await build({ a: 1 });
    const old = new Date(Date.now() - 10 * 86_400_000);
    await utimes(join(dir, 'artifact.json'), old, old);
    await arr('gc', '--dry-run', '--older-than', '7', '--json');
    const result = JSON.parse(lines.join('\n'));
    expect(result).toMatchObject({ dryRun: true, removed: [{ kind: 'rubric', name: key, reason: 'old' }] });
    expect(await store.has('rubric', key)).toBe(true);

    lines = [];
    await arr('gc', '--older-than', '7');
    expect(lines.at(-1)).toMatch(/^removed 1 entries, /);
    expect(await store.has('rubric', key)).toBe(false);
  });

  it("gc clears the Nx plugin's plan cache (it is recomputed on the next graph build)", async () => {
    const { mkdir, stat } = await import('node:fs/promises');
    await mkdir(join(root, '.nx', 'workspace-data'), { recursive: true });
    await writeFile(join(root, '.nx', 'workspace-data', 'arr-plans.json'), '{}');
    await arr('gc', '--dry-run');
    expect((await stat(join(root, '.nx', 'workspace-data', 'arr-plans.json'))).isFile()).toBe(true);
    await arr('gc');
    await expect(stat(join(root, '.nx', 'workspace-data', 'arr-plans.json'))).rejects.toThrow(/ENOENT/);
  });

  it('rejects a malformed --older-than', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await expect(arr('gc', '--older-than', 'soon')).rejects.toThrow(/expected a number of days/);
  });
});
