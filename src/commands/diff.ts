import type { Command } from 'commander';
import { relative } from 'node:path';
import { formatCell } from '../report/compare-render.js';
import { diffExperiments } from '../targets/experiment-diff.js';
import { reportFailure, workspace } from './shared.js';

const short = (hash: string | null) => (hash === null ? 'absent' : hash === 'missing' ? 'missing' : hash.slice(0, 12));

export function registerDiffCommand(program: Command): void {
  program
    .command('diff')
    .description(
      'What separates two experiments: resolved parameters that differ (and where each value came from), input files that differ, the rubric texts as a unified diff, metric deltas. Reads artifacts only.',
    )
    .argument('<a>', 'experiment (name, manifest path or matrix member)')
    .argument('<b>', 'experiment to compare it with')
    .option('--json', 'print machine-readable JSON')
    .action(async (a: string, b: string, opts: { json?: boolean }) => {
      try {
        const ws = workspace();
        const d = await diffExperiments(a, b, ws, (file) => relative(ws, file));
        if (opts.json) {
          console.log(JSON.stringify(d, null, 2));
          return;
        }
        console.log(`--- ${d.a}\n+++ ${d.b}`);
        console.log(`\nparameters (${d.params.length} differ)`);
        for (const p of d.params) {
          console.log(`  ${p.field}`);
          console.log(`    - ${JSON.stringify(p.a)}  # ${p.a_from}`);
          console.log(`    + ${JSON.stringify(p.b)}  # ${p.b_from}`);
        }
        console.log(`\ninput files (${d.files.length} differ)`);
        for (const f of d.files) console.log(`  ${f.input}: ${short(f.a)} → ${short(f.b)}`);
        console.log('\nrubric');
        if (d.rubric === null)
          console.log('  (not built for both experiments: run their rubric-generate or verify target)');
        else if (d.rubric === '') console.log('  identical');
        else
          console.log(
            d.rubric
              .split('\n')
              .slice(2)
              .map((l) => `  ${l}`)
              .join('\n')
              .trimEnd(),
          );
        console.log('\nmetrics (b − a)');
        for (const [m, v] of Object.entries(d.metrics)) {
          const delta =
            v.delta === null
              ? 'n/a'
              : ['accuracy', 'ci_low', 'ci_high', 'baseline', 'agreement', 'gain'].includes(m)
                ? `${v.delta >= 0 ? '+' : ''}${(v.delta * 100).toFixed(1)} points`
                : `${v.delta >= 0 ? '+' : ''}${Number(v.delta.toFixed(6))}`;
          console.log(`  ${m.padEnd(10)} ${formatCell(m, v.a).padStart(8)} → ${formatCell(m, v.b).padEnd(8)} ${delta}`);
        }
      } catch (error) {
        reportFailure(error, opts.json);
      }
    });
}
