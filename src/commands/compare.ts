import type { Command } from 'commander';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { renderCompareCsv, renderCompareHtml, renderCompareTable } from '../report/compare-render.js';
import { writeFileAtomic } from '../store/atomic.js';
import { gatherComparison, selectExperiments, sortComparison } from '../targets/compare.js';
import { memoisedYamlReader } from '../manifest/load.js';
import { reportFailure, workspace } from './shared.js';

export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description(
      'Experiments side by side from their artifacts (no judge call): the parameters that differ, accuracy with its 95% interval, baseline, gain, agreement, failures, judge calls, tokens, cost, criteria and each target’s state.',
    )
    .argument(
      '[experiments...]',
      'experiment names, manifest paths, or a matrix manifest’s name for all its members (default: every experiment)',
    )
    .option('--json', 'print {"experiments":[…],"differing":[…]}')
    .option('--csv', 'print CSV (raw numbers)')
    .option(
      '--sort <column>',
      'sort by a column named as in the JSON (accuracy, gain, calls, a parameter field, name, …)',
    )
    .option(
      '--html <file>',
      'also write a self-contained HTML page: chart of accuracy ± interval, parameter table, links to verify reports',
    )
    .action(async (refs: string[], opts: { json?: boolean; csv?: boolean; sort?: string; html?: string }) => {
      try {
        const ws = workspace();
        const read = memoisedYamlReader();
        const { comparison, facts } = await gatherComparison(selectExperiments(refs, ws, read), {
          workspaceRoot: ws,
          read,
          onSkip: (name, error) => console.error(`arr compare: skipped ${name}: ${error.message.split('\n')[0]}`),
        });
        const view = opts.sort ? sortComparison(comparison, opts.sort) : comparison;
        if (opts.html) {
          const file = resolve(opts.html);
          const links = new Map(
            facts
              .filter((f) => f.reportHtml && existsSync(f.reportHtml))
              .map((f) => [f.row.name, relative(dirname(file), f.reportHtml!).split('\\').join('/')]),
          );
          mkdirSync(dirname(file), { recursive: true });
          await writeFileAtomic(file, renderCompareHtml(view, links));
          if (!opts.json && !opts.csv) console.error(`wrote ${relative(process.cwd(), file) || file}`);
        }
        if (opts.json) console.log(JSON.stringify(view, null, 2));
        else if (opts.csv) process.stdout.write(renderCompareCsv(view));
        else if (view.experiments.length === 0) console.log('no experiments to compare');
        else console.log(renderCompareTable(view));
      } catch (error) {
        reportFailure(error, opts.json);
      }
    });
}
