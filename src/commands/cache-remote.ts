import { InvalidArgumentError, type Command } from 'commander';
import { formatBytes } from '../report/progress.js';
import { byteProgress } from '../report/transfer-progress.js';
import { listRemote, openRemote } from '../store/remote/index.js';
import {
  ARTIFACT_KINDS,
  pullFromRemote,
  pushToRemote,
  requireRemote,
  type ArtifactKind,
  type ShareResult,
} from '../targets/share.js';
import { reportFailure, workspace } from './shared.js';
import { formatTable } from '../report/table.js';

/** `arr cache push|pull`: move artifacts to and from the remote `ARR_CACHE_REMOTE` names. */
export function registerRemoteCacheCommands(cache: Command): void {
  cache
    .command('push')
    .description(
      'Upload local artifacts to ARR_CACHE_REMOTE (never replaces one the remote has). Needs write access: push only from trusted machines.',
    )
    .argument('[experiments...]', "push only these experiments' current artifacts (default: every local artifact)")
    .option('--kind <kind>', `only this kind (repeatable): ${ARTIFACT_KINDS.join(', ')}`, collectKind)
    .option('--json', 'print machine-readable JSON')
    .action(async (experiments: string[], opts: { kind?: ArtifactKind[]; json?: boolean }) => {
      try {
        const result = await pushToRemote({
          workspaceRoot: workspace(),
          remote: requireRemote(openRemote()),
          experiments,
          kinds: opts.kind,
          progress: byteProgress,
        });
        if (opts.json) return console.log(JSON.stringify(result, null, 2));
        printItems(result);
        const c = result.counts;
        console.log(
          `pushed ${c.pushed}, already on the remote ${c.exists}${c['not-built'] ? `, not built here ${c['not-built']}` : ''} (${result.remote})`,
        );
      } catch (error) {
        reportFailure(error, opts.json);
      }
    });

  cache
    .command('pull')
    .description(
      'Download the artifacts of experiments from ARR_CACHE_REMOTE into the local store, verifying every file.',
    )
    .argument('[experiments...]', 'experiments to prefetch (default: every experiment in experiments/)')
    .option(
      '--kind <kind>',
      `only this kind (repeatable): ${ARTIFACT_KINDS.join(', ')}; embedding entries come only when asked`,
      collectKind,
    )
    .option('--json', 'print machine-readable JSON')
    .action(async (experiments: string[], opts: { kind?: ArtifactKind[]; json?: boolean }) => {
      try {
        const result = await pullFromRemote({
          workspaceRoot: workspace(),
          remote: requireRemote(openRemote()),
          experiments,
          kinds: opts.kind,
          progress: byteProgress,
        });
        if (opts.json) return console.log(JSON.stringify(result, null, 2));
        printItems(result);
        const c = result.counts;
        console.log(`pulled ${c.pulled}, already local ${c.present}, not on the remote ${c.absent} (${result.remote})`);
      } catch (error) {
        reportFailure(error, opts.json);
      }
    });
}

/** `arr cache ls --remote`. */
export async function listRemoteCommand(opts: { json?: boolean }): Promise<void> {
  try {
    const remote = requireRemote(openRemote());
    const { artifacts, incomplete } = await listRemote(remote);
    if (opts.json) return console.log(JSON.stringify({ remote: remote.url, artifacts, incomplete }, null, 2));
    if (artifacts.length === 0) console.log(`no artifacts on ${remote.url}`);
    else {
      const rows = artifacts.map((a) => [a.kind, a.key.slice(0, 12), String(a.files), formatBytes(a.bytes)]);
      console.log(formatTable([['KIND', 'KEY', 'FILES', 'SIZE'], ...rows]));
      console.log(
        `${artifacts.length} artifacts, ${formatBytes(artifacts.reduce((n, a) => n + a.bytes, 0))} on ${remote.url}`,
      );
    }
    if (incomplete)
      console.log(
        `${incomplete} incomplete (files without artifact.json: an interrupted push; pushing again completes them)`,
      );
  } catch (error) {
    reportFailure(error, opts.json);
  }
}

function printItems(result: ShareResult): void {
  const rows = result.items.map((i) => [
    i.outcome,
    i.kind,
    i.key.slice(0, 12),
    i.bytes ? formatBytes(i.bytes) : '',
    i.experiments.join(','),
  ]);
  if (rows.length) console.log(formatTable([['RESULT', 'KIND', 'KEY', 'SIZE', 'EXPERIMENTS'], ...rows]));
}

function collectKind(value: string, previous: ArtifactKind[] = []): ArtifactKind[] {
  const kinds = value.split(',').map((k) => k.trim());
  for (const k of kinds) {
    if (!(ARTIFACT_KINDS as readonly string[]).includes(k))
      throw new InvalidArgumentError(`unknown kind "${k}"; expected one of ${ARTIFACT_KINDS.join(', ')}`);
  }
  return [...previous, ...(kinds as ArtifactKind[])];
}
