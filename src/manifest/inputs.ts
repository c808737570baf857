import { stat } from 'node:fs/promises';
import { InputFileProblem, readListFileSync } from '../util/input-files.js';
import { checkEditList } from '../data/edit-list.js';
import { loadDataset } from '../data/load-dataset.js';
import type { Diagnostic } from '../diagnostics.js';
import type { Experiment } from '../types/experiment.js';
import type { LoadedExperiment } from './load.js';
import { dataRootsOf, datasetOptionsFor } from './dataset-options.js';
import { fromStoredPath } from './paths.js';
import { fieldDiagnostic } from './layers.js';

/**
 * Checks the data a manifest names: datasets parse and their records are sound, every image exists,
 * sits under an allowed root and decodes, and list files are readable. Model, trainer and embedding
 * paths are checked by the targets that use them.
 */
export async function checkInputs(loaded: LoadedExperiment, workspaceRoot: string): Promise<Diagnostic[]> {
  const experiment = loaded.experiment as Experiment;
  const abs = (stored: string) => fromStoredPath(stored, workspaceRoot);
  const allowedRoots = dataRootsOf(experiment, workspaceRoot);
  const diagnostics: Diagnostic[] = [];
  const at = (field: string, message: string): Diagnostic =>
    fieldDiagnostic(loaded.origins, field, loaded.file, message);

  const datasets: { field: string; path: string | null; requireLabel: boolean }[] = [
    { field: 'rubric.seed', path: experiment.rubric.seed, requireLabel: true },
    { field: 'verify.test', path: experiment.verify.test, requireLabel: true },
  ];
  // A file named by several fields (seed and test alike) is checked, and reported, once.
  const distinct = datasets.filter(
    (d, i): d is { field: string; path: string; requireLabel: boolean } =>
      d.path !== null && datasets.findIndex((o) => o.path === d.path) === i,
  );
  const checks = distinct.map(async ({ field, path, requireLabel }) => {
    const file = abs(path);
    const missing = await unreadable(file);
    if (missing) return [at(field, `${missing}: ${file}`)];
    const result = await loadDataset(
      file,
      datasetOptionsFor(experiment, workspaceRoot, { requireLabel, checkImages: true }),
    );
    return result.diagnostics;
  });
  if (experiment.task === 'edit' && experiment.preprocess.edits !== null) {
    const file = abs(experiment.preprocess.edits);
    checks.push(
      unreadable(file).then((missing) =>
        missing ? [at('preprocess.edits', `${missing}: ${file}`)] : checkEditList(file, { allowedRoots }),
      ),
    );
  }

  for (const [field, path] of [
    ['preprocess.prompts', experiment.task === 't2i' ? experiment.preprocess.prompts : null],
    ['rubric.from', experiment.rubric.from],
  ] as const) {
    if (path === null) continue;
    const file = abs(path);
    checks.push(
      (async () => {
        const missing = await unreadable(file);
        if (missing) return [at(field, `${missing}: ${file}`)];
        let text: string;
        try {
          text = readListFileSync(file);
        } catch (error) {
          if (!(error instanceof InputFileProblem)) throw error;
          return [
            error.line === undefined
              ? at(field, `${error.message}: ${file}`)
              : { file, line: error.line, col: error.col, message: error.message },
          ];
        }
        return text.trim() === '' ? [at(field, `${file} is empty`)] : [];
      })(),
    );
  }
  for (const found of await Promise.all(checks)) diagnostics.push(...found);
  return diagnostics;
}

async function unreadable(file: string): Promise<string | undefined> {
  try {
    const s = await stat(file);
    return s.isFile() ? undefined : 'not a file';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
  }
}
