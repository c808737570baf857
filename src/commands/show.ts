import type { Command } from 'commander';
import { relative } from 'node:path';
import type { Origin } from '../manifest/layers.js';
import { loadExperiment, locateExperiment } from '../manifest/load.js';
import { maskSecrets } from '../manifest/secrets-mask.js';
import { InvalidInputError, isError } from '../diagnostics.js';
import { describeOrigin as describeOriginAs } from '../targets/experiment-diff.js';
import { collectSet, reportFailure, workspace } from './shared.js';

const describeOrigin = (origin: Origin | undefined, ws: string): string =>
  describeOriginAs(origin, (file) => relative(ws, file));

function leaves(value: unknown, prefix: string, out: [string, unknown][]): [string, unknown][] {
  if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length) {
    for (const [k, v] of Object.entries(value)) leaves(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.push([prefix, value]);
  return out;
}

export function registerShowCommand(program: Command): void {
  program
    .command('show')
    .description(
      'Print the resolved manifest (extends, env references, --set and defaults applied) and where each value came from. Secrets are masked.',
    )
    .argument('<experiment>', 'project name (exp-flux) or manifest path')
    .option('--set <field=value>', 'override a field, as a CLI flag does for a task (repeatable)', collectSet, {})
    .option('--json', 'print machine-readable JSON')
    .action(async (ref: string, opts: { json?: boolean; set: Record<string, unknown> }) => {
      try {
        const ws = workspace();
        const { file, member } = locateExperiment(ref, ws);
        const loaded = loadExperiment(file, { workspaceRoot: ws, overrides: opts.set, member });
        if (!loaded.ok || !loaded.experiment) throw new InvalidInputError(loaded.diagnostics.filter(isError));
        const shown = maskSecrets(loaded.experiment, loaded.origins);
        const rows = leaves(shown, '', []);
        if (opts.json) {
          const sources = Object.fromEntries(
            rows.map(([field]) => [field, describeOrigin(nearest(loaded.origins, field), ws)]),
          );
          console.log(
            JSON.stringify(
              {
                experiment: loaded.name,
                file: relative(ws, loaded.file),
                extends: loaded.chain.slice(1).map((f) => relative(ws, f)),
                resolved: shown,
                sources,
              },
              null,
              2,
            ),
          );
          return;
        }
        console.log(
          `# ${loaded.name}: ${relative(ws, loaded.file)}${
            loaded.chain.length > 1
              ? ` (extends ${loaded.chain
                  .slice(1)
                  .map((f) => relative(ws, f))
                  .join(', ')})`
              : ''
          }`,
        );
        const width = Math.max(...rows.map(([f, v]) => f.length + JSON.stringify(v).length)) + 4;
        for (const [field, value] of rows) {
          const text = `${field}: ${JSON.stringify(value)}`;
          console.log(`${text.padEnd(width)}# ${describeOrigin(nearest(loaded.origins, field), ws)}`);
        }
        for (const d of loaded.diagnostics) console.log(`# warning: ${d.field}: ${d.message}`);
      } catch (error) {
        reportFailure(error, opts.json);
      }
    });
}

/** A list or section set as a whole in a file carries the origin of its key. */
function nearest(origins: Map<string, Origin>, field: string): Origin | undefined {
  for (let path = field; path; path = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '') {
    const origin = origins.get(path);
    if (origin) return origin;
  }
  return undefined;
}
