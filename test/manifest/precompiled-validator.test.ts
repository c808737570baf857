// The compiled CLI validates manifests with a validator precompiled at build time (scripts/build.ts);
// it must report exactly what compiling the schema at run time reports.
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { describe, expect } from 'vitest';
import { experimentAjv, experimentSchema, experimentValidatorSource } from '../../src/manifest/schema.js';
import { it } from '../helpers/fixtures.js';

const manifests: unknown[] = [
  { task: 't2i', rubric: { seed: 'data/seed.jsonl' } },
  { task: 'video', rubric: { seed: 3, per_pair: 'many' }, judge: { concurrency: 0, modle: 'x' } },
  { task: 't2i', judge: { base_url: ['http://a/v1', 7] }, train: { learning_rate: 'fast' }, extra: true },
  { rubric: { seed: null } },
  'not a mapping',
];

describe('the precompiled experiment validator', () => {
  it('accepts and rejects what the run-time compiled one does, with the same errors', () => {
    // Loaded as CommonJS the way dist/ loads it, with this package's require for its ajv runtime imports.
    const module = { exports: {} as ValidateFunction };
    new Function('module', 'exports', 'require', experimentValidatorSource())(
      module,
      module.exports,
      createRequire(import.meta.url),
    );
    const precompiled = module.exports;
    const compiled = experimentAjv().compile(experimentSchema());
    for (const manifest of manifests) {
      const ok = compiled(manifest);
      expect(precompiled(manifest), JSON.stringify(manifest)).toBe(ok);
      expect(precompiled.errors, JSON.stringify(manifest)).toEqual(compiled.errors);
    }
    expect(compiled.errors?.length).toBeGreaterThan(0); // the last one at least is invalid
  });
});
