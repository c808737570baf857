import type { Command } from 'commander';
import { relative } from 'node:path';
import { formatDiagnostic, isError, type Diagnostic } from '../diagnostics.js';
import { checkRubrics } from '../rubric/check.js';
import { importReferenceConfig } from '../rubric/import.js';
import { reportFailure, workspace } from './shared.js';

/** `file: message` when a diagnostic has no line or field (formatDiagnostic leaves the colon out then). */
function show(d: Diagnostic): string {
  const text = formatDiagnostic(d);
  return d.line || d.field ? text : text.replace(/^(\S+) /, '$1: ');
}

const pct = (x: number) => x.toFixed(3);

/** `arr rubric check` (frozen rubrics and the experiments that reuse them) and `arr import` (a reference judge config). */
export function registerRubricCommands(program: Command): void {
  const rubric = program
    .command('rubric')
    .description('Work with frozen rubrics (rubrics/<name>.v<N>.txt and their locks).');

  rubric
    .command('check')
    .description(
      "Check frozen rubrics against their locks (sha256, schema, metrics meet the recorded thresholds, text format) and that every experiment's rubric.from exists and is valid. Exits 1 on any error.",
    )
    .argument(
      '[files...]',
      'rubric texts and/or experiment manifests (default: every rubrics/*.txt and experiments/*.yaml)',
    )
    .option('--json', 'print machine-readable results')
    .action((files: string[], opts: { json?: boolean }) => {
      try {
        const ws = workspace();
        const report = checkRubrics(ws, { files });
        process.exitCode = report.ok ? 0 : 1;
        if (opts.json) {
          console.log(JSON.stringify(report, null, 2));
          return;
        }
        const rel = (p: string) => relative(process.cwd(), p) || p;
        for (const r of report.rubrics) {
          const m = r.metrics;
          const summary = m
            ? ` (accuracy ${pct(m.accuracy)}${m.gain !== null ? `, gain ${m.gain >= 0 ? '+' : ''}${pct(m.gain)}` : ''}${m.agreement !== null ? `, agreement ${pct(m.agreement)}` : ''})`
            : '';
          console.log(`${r.ok ? '✓' : '✗'} ${rel(r.file)}${r.ok ? summary : ''}`);
          for (const d of r.diagnostics) console.log(`  ${show(d)}`);
        }
        for (const e of report.experiments) {
          if (e.rubric === null && e.diagnostics.length === 0) continue;
          console.log(`${e.ok ? '✓' : '✗'} ${rel(e.file)}${e.rubric ? ` rubric.from ${rel(e.rubric)}` : ''}`);
          for (const d of e.diagnostics) console.log(`  ${show(d)}`);
        }
        const errors = [...report.rubrics, ...report.experiments].reduce(
          (n, r) => n + r.diagnostics.filter(isError).length,
          0,
        );
        const reusing = report.experiments.filter((e) => e.rubric !== null).length;
        const counted = `${report.rubrics.length} rubric(s), ${reusing} experiment(s) reusing one`;
        console.log(
          errors
            ? `${errors} error(s): ${counted}`
            : report.rubrics.length || reusing
              ? `all valid: ${counted}`
              : 'no frozen rubrics (rubrics/*.txt) and no experiment uses rubric.from',
        );
      } catch (error) {
        reportFailure(error, opts.json);
      }
    });

  program
    .command('import')
    .description(
      "Import the reference implementation's judge config (YAML) as experiments/<name>.yaml. A literal api_key is never copied.",
    )
    .argument('<config>', 'the reference judge config, e.g. rubric_pipeline/config/qwen3vl_8B_instruct_t2i.yaml')
    .option('--name <experiment>', "experiment name (default: the config's file stem, lower-cased)")
    .option('--force', 'overwrite an existing experiments/<name>.yaml')
    .action(async (config: string, opts: { name?: string; force?: boolean }) => {
      try {
        const ws = workspace();
        const result = await importReferenceConfig(config, { workspaceRoot: ws, name: opts.name, force: opts.force });
        const rel = (p: string) => relative(process.cwd(), p) || p;
        for (const note of result.notes) console.log(`note: ${note}`);
        if (result.rubricFile) console.log(`wrote ${rel(result.rubricFile)}`);
        if (result.lockFile)
          console.log(
            `wrote ${rel(result.lockFile)} (source: imported; serve, train and rubric.from check the rubric against it)`,
          );
        console.log(`wrote ${rel(result.manifest)}; check it with: npx arr validate ${result.name}`);
      } catch (error) {
        reportFailure(error);
      }
    });
}
