import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromStoredPath } from '../manifest/paths.js';
import { sha256Hex } from '../store/canonical-json.js';
import type { Experiment } from '../types/experiment.js';

export interface RubricSource {
  source: 'flag' | 'rubric.from' | 'frozen' | 'none';
  path: string | null;
  text: string | undefined;
  sha256: string | null;
}

/**
 * `--rubric`, else the experiment's `rubric.from`, else its frozen rubric if one exists, else none.
 * `readChecked` reads the last two (the commands pass one that verifies the rubric against its lock,
 * which lives in a higher layer); a file named by `--rubric` is read as is.
 */
export function findRubric(
  experiment: Experiment,
  workspaceRoot: string,
  flag?: string,
  readChecked?: (file: string) => string,
): RubricSource {
  const read = (source: RubricSource['source'], path: string): RubricSource => {
    const text = source !== 'flag' && readChecked ? readChecked(path) : readFileSync(path, 'utf8');
    return { source, path, text, sha256: sha256Hex(text) };
  };
  if (flag) return read('flag', flag);
  if (experiment.rubric.from) return read('rubric.from', fromStoredPath(experiment.rubric.from, workspaceRoot));
  const frozen = join(workspaceRoot, 'rubrics', `${experiment.freeze.name}.v${experiment.freeze.version}.txt`);
  if (existsSync(frozen)) return read('frozen', frozen);
  return { source: 'none', path: null, text: undefined, sha256: null };
}
