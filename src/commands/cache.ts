import { InvalidArgumentError, type Command } from 'commander';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatBytes } from '../report/progress.js';
import { ArtifactStore, describeProblem } from '../store/artifacts.js';
import { cacheDir, findWorkspaceRoot, workspaceCacheDir } from '../workspace.js';
import { sweepPartialPulls } from '../store/remote/partials.js';
import { listRemoteCommand, registerRemoteCacheCommands } from './cache-remote.js';

/** `arr cache ls|verify|gc`: inspect, check and clean the content-addressed artifact store. */
export function registerCacheCommand(program: Command): void {
  const cache = program.command('cache').description('Inspect, verify, clean and share the artifact cache (<workspace>/cache/artifacts, or ARR_CACHE_DIR).');

  cache
    .command('ls')
    .description('List cached artifacts with their size and last use; --remote lists ARR_CACHE_REMOTE instead.')
    .option('--remote', 'list the artifacts on ARR_CACHE_REMOTE')
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: { json?: boolean; remote?: boolean }) => {
      if (opts.remote) return listRemoteCommand(opts);
      const items = await openStore().list();
      if (opts.json) return printJson(items);
      if (items.length === 0) return console.log('no artifacts');
      printTable(
        ['KIND', 'KEY', 'FILES', 'SIZE', 'CREATED', 'LAST USED'],
        items.map((a) => [a.kind, a.key.slice(0, 12), String(a.files), formatBytes(a.bytes), day(a.created), day(a.lastUsed)]),
      );
      console.log(`${items.length} artifacts, ${formatBytes(items.reduce((n, a) => n + a.bytes, 0))}`);
    });

  cache
    .command('verify')
    .description('Re-hash every artifact file against its recorded sha256; exits 1 when anything is corrupt.')
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: { json?: boolean }) => {
      const results = await openStore().verify();
      const bad = results.filter((r) => !r.ok);
      if (bad.length > 0) process.exitCode = 1;
      if (opts.json) return printJson(results);
      for (const r of bad) {
        for (const p of r.problems) console.log(`corrupt ${r.kind}/${r.key} ${describeProblem(p)}`);
      }
      console.log(`${results.length - bad.length} ok, ${bad.length} corrupt${bad.length ? ' (run `arr cache gc` to remove them)' : ''}`);
    });

  cache
    .command('gc')
    .description('Remove abandoned build directories and partial pulls, corrupt artifacts and, with --older-than, artifacts unused for that long.')
    .option('--dry-run', 'only print what would be removed')
    .option('--older-than <days>', 'also remove artifacts not built or read for this many days', parseDays)
    .option('--unreferenced', 'also remove artifacts that no experiment\'s last build points at')
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: { dryRun?: boolean; olderThan?: number; unreferenced?: boolean; json?: boolean }) => {
      const keep = opts.unreferenced ? await referencedArtifacts(findWorkspaceRoot()) : undefined;
      const result = await openStore().gc({ dryRun: opts.dryRun, olderThanDays: opts.olderThan, keep });
      const partial = await sweepPartialPulls(cacheDir(findWorkspaceRoot()), { dryRun: opts.dryRun });
      result.removed.push(...partial);
      result.bytesFreed += partial.reduce((n, r) => n + r.bytes, 0);
      if (opts.json) return printJson(result);
      const verb = result.dryRun ? 'would remove' : 'removed';
      if (result.removed.length > 0) {
        printTable(
          ['REASON', 'KIND', 'NAME', 'SIZE'],
          result.removed.map((r) => [r.reason, r.kind, r.name.length > 20 ? r.name.slice(0, 20) + '…' : r.name, formatBytes(r.bytes)]),
        );
      }
      console.log(`${verb} ${result.removed.length} entries, ${formatBytes(result.bytesFreed)}`);
    });

  registerRemoteCacheCommands(cache);
}

/** `kind/key` of every artifact an experiment's stamp (its last build of a target) points at. */
async function referencedArtifacts(workspaceRoot: string): Promise<Set<string>> {
  const keep = new Set<string>();
  const root = join(workspaceCacheDir(workspaceRoot), 'experiments');
  for (const experiment of await readdir(root).catch(() => [] as string[])) {
    for (const target of await readdir(join(root, experiment)).catch(() => [] as string[])) {
      try {
        const stamp = JSON.parse(await readFile(join(root, experiment, target, 'stamp.json'), 'utf8'));
        keep.add(`${stamp.target}/${stamp.key}`);
      } catch {
        /* not a stamp */
      }
    }
  }
  return keep;
}

function openStore(): ArtifactStore {
  return new ArtifactStore(cacheDir(findWorkspaceRoot()));
}

function parseDays(value: string): number {
  const days = Number(value);
  if (value.trim() === '' || !Number.isFinite(days) || days < 0) {
    throw new InvalidArgumentError('expected a number of days >= 0');
  }
  return days;
}

function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const row of [header, ...rows]) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd());
}

function day(iso: string): string {
  return iso.slice(0, 16).replace('T', ' ');
}

export { formatBytes };
