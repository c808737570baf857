// What `preprocess` encodes: the t2i prompt list or the edit list, with the input rules the reference
// applies silently (blank lines, CJK prompts, a cap) made explicit and counted.
import { InputFileProblem, readListFileSync } from '../util/input-files.js';
import { dirname, isAbsolute, resolve } from 'node:path';
import { readRecords } from '../data/read-records.js';
import { InvalidInputError, type Diagnostic } from '../diagnostics.js';
import type { Experiment } from '../types/experiment.js';

export interface PreprocessItem {
  /** Position in the output (the reference's `{idx}`). */
  index: number;
  caption: string;
  /** Edit items: the absolute path of the source image. */
  sourceImage?: string;
  /** Where the item came from, for errors. */
  line: number;
}

export interface ItemCounts {
  read: number;
  skipped_blank: number;
  dropped_cjk: number;
  over_cap: number;
  kept: number;
}

const CJK = /[\u4e00-\u9fff]/;

/** Applies skip_blank / drop_cjk / max_items in that order, counting what each removed. */
function applyRules(
  candidates: PreprocessItem[],
  rules: Experiment['preprocess'],
): { items: PreprocessItem[]; counts: ItemCounts } {
  const counts: ItemCounts = { read: candidates.length, skipped_blank: 0, dropped_cjk: 0, over_cap: 0, kept: 0 };
  let items = candidates;
  if (rules.skip_blank) {
    const kept = items.filter((i) => i.caption.trim() !== '');
    counts.skipped_blank = items.length - kept.length;
    items = kept;
  }
  if (rules.drop_cjk) {
    const kept = items.filter((i) => !CJK.test(i.caption));
    counts.dropped_cjk = items.length - kept.length;
    items = kept;
  }
  if (rules.max_items !== null && items.length > rules.max_items) {
    counts.over_cap = items.length - rules.max_items;
    items = items.slice(0, rules.max_items);
  }
  counts.kept = items.length;
  return { items: items.map((item, index) => ({ ...item, index })), counts };
}

export async function readPromptItems(
  file: string,
  rules: Experiment['preprocess'],
): Promise<{ items: PreprocessItem[]; counts: ItemCounts }> {
  let text: string;
  try {
    text = readListFileSync(file);
  } catch (error) {
    if (!(error instanceof InputFileProblem)) throw error;
    throw new InvalidInputError([
      { file, line: error.line, col: error.col, field: 'preprocess.prompts', message: error.message },
    ]);
  }
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop(); // the final newline ends the last line; it is not a blank prompt
  return applyRules(
    lines.map((caption, i) => ({ index: i, caption, line: i + 1 })),
    rules,
  );
}

/** JSON lines of {source_image, instruction}; image paths relative to the file. Bad lines are errors, not skipped. */
export function readEditItems(
  file: string,
  rules: Experiment['preprocess'],
): { items: PreprocessItem[]; counts: ItemCounts } {
  const { records, diagnostics } = readRecords(file);
  const problems: Diagnostic[] = [...diagnostics];
  const candidates: PreprocessItem[] = [];
  for (const record of records) {
    const value = record.value as { source_image?: unknown; instruction?: unknown };
    if (typeof value?.source_image !== 'string' || typeof value.instruction !== 'string') {
      problems.push({
        file,
        line: record.line,
        field: `records[${record.index}]`,
        message: 'needs a source_image and an instruction (strings)',
      });
      continue;
    }
    const source = isAbsolute(value.source_image) ? value.source_image : resolve(dirname(file), value.source_image);
    candidates.push({ index: record.index, caption: value.instruction, sourceImage: source, line: record.line ?? 0 });
  }
  if (problems.length) throw new InvalidInputError(problems);
  return applyRules(candidates, rules);
}
