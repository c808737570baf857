// The training edit list (`preprocess.edits`): JSON lines of {source_image, instruction}, no candidates, no labels.
import { dirname, resolve } from 'node:path';
import type { Diagnostic } from '../diagnostics.js';
import { checkImages } from './images.js';
import { fieldName, resolveImageRef, type ImageUse } from './normalize.js';
import { readRecords } from './read-records.js';

export async function checkEditList(file: string, options: { allowedRoots: string[] }): Promise<Diagnostic[]> {
  const abs = resolve(file);
  const { records, diagnostics } = readRecords(abs);
  const uses: ImageUse[] = [];
  for (const record of records) {
    const where = (key: string) => ({
      file: abs,
      ...(record.locate([key]) ?? { line: record.line, col: record.col }),
      field: fieldName(record.index, [key]),
    });
    const value = record.value as Record<string, unknown>;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      diagnostics.push({
        file: abs,
        line: record.line,
        field: fieldName(record.index),
        message: 'must be an object with source_image and instruction',
      });
      continue;
    }
    for (const key of ['source_image', 'instruction']) {
      if (typeof value[key] !== 'string' || value[key] === '')
        diagnostics.push({ ...where(key), message: `${key} is required (a non-empty string)` });
    }
    if (typeof value.source_image === 'string' && value.source_image) {
      const ref = resolveImageRef(value.source_image, dirname(abs));
      if ('error' in ref) diagnostics.push({ ...where('source_image'), message: ref.error });
      else uses.push({ ref, at: where('source_image'), role: 'source' });
    }
  }
  diagnostics.push(...(await checkImages(uses, { allowedRoots: options.allowedRoots })).diagnostics);
  return diagnostics;
}
