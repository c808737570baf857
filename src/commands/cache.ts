import { InvalidArgumentError, type Command } from 'commander';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { planCacheFile } from '../graph/project-plan.js';
import { ResponseCache } from '../judge/response-cache.js';
import { formatBytes } from '../report/progress.js';
import { ArtifactStore, describeProblem, type VerifyResult } from '../store/artifacts.js';
import { sweepTempFiles } from '../store/atomic.js';
import { sweepPartialPulls } from '../store/remote/partials.js';
import { cacheDir, findWorkspaceRoot, workspaceCacheDir } from '../workspace.js';
import { listRemoteCommand, registerRemoteCacheCommands } from './cache-remote.js';
import { formatTable } from '../report/table.js';

/** `arr cache ls|verify|gc`: inspect, check and clean the content-addressed artifact store. */
export function registerCacheCommand(program: Command): void {
  const cache = program
    .command('cache')
    .description(
      'Inspect, verify, clean and share the artifact cache (<workspace>/cache/artifacts, or ARR_CACHE_DIR).',
    );

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
        items.map((a) => [
          a.kind,
          a.key.slice(0, 12),
          String(a.files),
          formatBytes(a.bytes),
          day(a.created),
          day(a.lastUsed),
        ]),
      );
      console.log(`${items.length} artifacts, ${formatBytes(items.reduce((n, a) => n + a.bytes, 0))}`);
    });

  cache
    .command('verify')
    .description(
      'Re-hash every artifact file against its recorded sha256 and check every cached judge reply against its request key and checksum; exits 1 when anything is corrupt.',
    )
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: { json?: boolean }) => {
      const judge = (await judgeCache().verify()).map(
        (e): VerifyResult =>
          e.ok
            ? { kind: 'judge', key: e.key, dir: e.path, ok: true }
            : {
                kind: 'judge',
                key: e.key,
                dir: e.path,
                ok: false,
                problems: [{ file: relative(cacheDir(findWorkspaceRoot()), e.path), reason: e.problem ?? 'corrupt' }],
              },
      );
      const results = [...(await openStore().verify()), ...judge];
      const bad = results.filter((r) => !r.ok);
      if (bad.length > 0) process.exitCode = 1;
      if (opts.json) return printJson(results);
      for (const r of bad) {
        for (const p of r.problems) console.log(`corrupt ${r.kind}/${r.key} ${describeProblem(p)}`);
      }
      console.log(
        `${results.length - bad.length} ok, ${bad.length} corrupt${bad.length ? ' (run `arr cache gc` to remove them)' : ''}`,
      );
    });

  cache
    .command('gc')
    .description(
      "Remove abandoned build directories, temp files (cache/, rubrics/) and partial pulls, corrupt artifacts and judge replies, the Nx plugin's plan cache and, with --older-than, artifacts unused for that long.",
    )
    .option('--dry-run', 'only print what would be removed')
    .option('--older-than <days>', 'also remove artifacts not built or read for this many days', parseDays)
    .option('--unreferenced', "also remove artifacts that no experiment's last build points at")
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: { dryRun?: boolean; olderThan?: number; unreferenced?: boolean; json?: boolean }) => {
      const ws = findWorkspaceRoot();
      const keep = opts.unreferenced ? await referencedArtifacts(ws) : undefined;
      const result = await openStore().gc({ dryRun: opts.dryRun, olderThanDays: opts.olderThan, keep });
      // Plans are recomputed on the next graph build; removing them is always safe.
      if (!opts.dryRun) await removePlanCaches(findWorkspaceRoot());
      // Judge replies that fail their checks are never used again; temp files of killed writers never finish.
      for (const entry of await judgeCache().verify()) {
        if (entry.ok) continue;
        const bytes = (await stat(entry.path).catch(() => undefined))?.size ?? 0;
        if (!opts.dryRun) await rm(entry.path, { force: true });
        result.removed.push({ kind: 'judge', name: entry.key, path: entry.path, reason: 'corrupt', bytes });
      }
      for (const [dir, depth] of [
        ...new Map([
          [cacheDir(ws), 4],
          [workspaceCacheDir(ws), 4],
          [join(ws, 'rubrics'), 0],
        ]),
      ]) {
        for (const temp of await sweepTempFiles(dir, {
          dryRun: opts.dryRun,
          depth,
          skip: ['artifacts', 'nx', 'node_modules'],
        })) {
          result.removed.push({
            kind: relative(ws, dirname(temp.path)),
            name: basename(temp.path),
            path: temp.path,
            reason: 'stale-tmp',
            bytes: temp.bytes,
          });
        }
      }
      const partial = await sweepPartialPulls(cacheDir(findWorkspaceRoot()), { dryRun: opts.dryRun });
      result.removed.push(...partial);
      result.bytesFreed = result.removed.reduce((a, r) => a + r.bytes, 0);
      if (opts.json) return printJson(result);
      const verb = result.dryRun ? 'would remove' : 'removed';
      if (result.removed.length > 0) {
        printTable(
          ['REASON', 'KIND', 'NAME', 'SIZE'],
          result.removed.map((r) => [
            r.reason,
            r.kind,
            r.name.length > 20 ? r.name.slice(0, 20) + '…' : r.name,
            formatBytes(r.bytes),
          ]),
        );
      }
      console.log(`${verb} ${result.removed.length} entries, ${formatBytes(result.bytesFreed)}`);
    });

  registerRemoteCacheCommands(cache);
}

/** The Nx plugin's plan cache (and where older versions kept it). */
async function removePlanCaches(workspaceRoot: string): Promise<void> {
  for (const file of [planCacheFile(workspaceRoot), join(workspaceCacheDir(workspaceRoot), 'graph', 'plans.json')])
    await rm(file, { force: true });
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

function judgeCache(): ResponseCache {
  return new ResponseCache(join(cacheDir(findWorkspaceRoot()), 'judge'));
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

/** One console line per row, as the table is read line by line (tests capture each call). */
function printTable(header: string[], rows: string[][]): void {
  for (const line of formatTable([header, ...rows]).split('\n')) console.log(line);
}

function day(iso: string): string {
  return iso.slice(0, 16).replace('T', ' ');
}

export { formatBytes };
