import type { Command } from 'commander';
import { extname, relative } from 'node:path';
import { loadDataset } from '../data/load-dataset.js';
import { formatDiagnostic, isError, type Diagnostic } from '../diagnostics.js';
import { freezeCollisions } from '../manifest/freeze-collisions.js';
import { checkInputs } from '../manifest/inputs.js';
import { experimentsIn, listExperimentFiles, loadExperiment, locateExperiment } from '../manifest/load.js';
import { workspace } from './shared.js';

const isManifest = (file: string) =>
  ['.yaml', '.yml'].includes(extname(file).toLowerCase()) && !file.includes('/examples/');

async function validateOne(
  target: string,
  ws: string,
  task: 't2i' | 'edit' | undefined,
): Promise<{ file: string; diagnostics: Diagnostic[] }> {
  const { file, member } = locateExperiment(target, ws);
  if (isManifest(file) && task === undefined) {
    // A matrix manifest is valid when every member is.
    const members = member !== undefined ? [member] : experimentsIn(file).map((e) => e.member);
    const diagnostics: Diagnostic[] = [];
    for (const m of members) {
      const loaded = loadExperiment(file, { workspaceRoot: ws, member: m });
      const prefix =
        m === undefined || loaded.diagnostics.every((d) => d.field?.startsWith('matrix')) ? '' : `${loaded.name}: `;
      const seen = new Set(diagnostics.map((d) => `${d.line}:${d.field}:${d.message}`));
      for (const d of loaded.diagnostics)
        if (!seen.has(`${d.line}:${d.field}:${prefix}${d.message}`))
          diagnostics.push({ ...d, message: `${prefix}${d.message}` });
      if (loaded.ok) diagnostics.push(...(await checkInputs(loaded, ws)));
    }
    diagnostics.push(...freezeCollisions(ws, file));
    return { file, diagnostics };
  }
  // A dataset given on its own: check its records and images (task from --task, default t2i).
  const result = await loadDataset(file, {
    task: task ?? 't2i',
    requireLabel: true,
    allowedRoots: [ws],
    checkImages: true,
  });
  return { file, diagnostics: result.diagnostics };
}

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .description(
      'Check manifests (and the datasets and images they name), or datasets given directly. Exits 1 when anything is invalid.',
    )
    .argument('[files...]', 'manifests, experiment names or dataset files (default: every experiments/*.yaml)')
    .option('--task <task>', 'treat the given files as datasets of this task (t2i or edit)')
    .option('--json', 'print machine-readable results')
    .action(async (files: string[], opts: { json?: boolean; task?: 't2i' | 'edit' }) => {
      const ws = workspace();
      const targets = files.length ? files : listExperimentFiles(ws);
      const results = [];
      for (const target of targets) {
        try {
          results.push(await validateOne(target, ws, opts.task));
        } catch (error) {
          results.push({ file: target, diagnostics: [{ file: target, message: (error as Error).message }] });
        }
      }
      const errors = results.reduce((n, r) => n + r.diagnostics.filter(isError).length, 0);
      if (opts.json) {
        console.log(
          JSON.stringify(
            { ok: errors === 0, files: results.map((r) => ({ ...r, ok: !r.diagnostics.some(isError) })) },
            null,
            2,
          ),
        );
      } else {
        for (const r of results) {
          const bad = r.diagnostics.filter(isError).length;
          console.log(
            `${bad ? '✗' : '✓'} ${relative(process.cwd(), r.file) || r.file}${bad ? ` (${bad} error${bad > 1 ? 's' : ''})` : ''}`,
          );
          for (const d of r.diagnostics) console.log(`  ${formatDiagnostic(d)}`);
        }
        console.log(
          errors
            ? `${errors} error(s) in ${results.filter((r) => r.diagnostics.some(isError)).length} of ${results.length} file(s)`
            : `${results.length} file(s) valid`,
        );
      }
      process.exitCode = errors ? 1 : 0;
    });
}
