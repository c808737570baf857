// The import-boundary rules of `npm run lint` (.dependency-cruiser.cjs, built from the layer table in
// docs/architecture.md) catch what they promise, on a fixture tree with deliberate violations.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/workspace.js';

const require = createRequire(import.meta.url);
const config = require(join(repoRoot, '.dependency-cruiser.cjs'));
const { readLayers } = require(join(repoRoot, 'scripts', 'layer-rules.cjs'));
const fixture = join(repoRoot, 'test', 'fixtures', 'layers');

let violations: { from: string; to: string; rule: string }[];
beforeAll(async () => {
  const result = await cruise(['src'], {
    ...config.options,
    baseDir: fixture,
    ruleSet: { forbidden: config.forbidden },
    validate: true,
  });
  violations = (result.output as ICruiseResult).summary.violations.map((v) => ({
    from: v.from,
    to: v.to,
    rule: v.rule.name,
  }));
}, 60_000);

describe('import boundaries', () => {
  it('reads every layer of docs/architecture.md, lowest first', () => {
    const layers: string[][] = readLayers(join(repoRoot, 'docs', 'architecture.md'));
    expect(layers[0]).toEqual(['src/types/']);
    expect(layers.flat()).toEqual(expect.arrayContaining(['src/store/', 'src/targets/', 'src/commands/', 'tasks/']));
    expect(layers.flat().indexOf('src/store/')).toBeLessThan(layers.flat().indexOf('src/targets/'));
  });

  it('fails an upward import and passes a downward one', () => {
    expect(violations).toContainEqual({
      from: 'src/store/upward.ts',
      to: 'src/targets/entry.ts',
      rule: 'layer-3-imports-upward',
    });
    expect(violations.filter((v) => v.from === 'src/targets/entry.ts')).toEqual([]);
  });

  it('keeps a file the table lists in a lower layer there, even inside a higher folder', () => {
    expect(violations.filter((v) => v.from === 'src/keys/slices.ts')).toEqual([]);
    expect(violations).toContainEqual({
      from: 'src/keys/other.ts',
      to: 'src/rubric/prompt-version.ts',
      rule: 'layer-6-imports-upward',
    });
  });

  it('fails an import cycle', () => {
    const cycles = violations.filter((v) => v.rule === 'no-cycles');
    expect(cycles).toHaveLength(1); // dependency-cruiser reports a cycle once, from one of its modules
    expect(['src/judge/a.ts', 'src/judge/b.ts']).toContain(cycles[0].from);
  });

  it('fails a module in a folder the layer table does not list', () => {
    expect(violations).toContainEqual({
      from: 'src/unlisted/thing.ts',
      to: 'src/store/put.ts',
      rule: 'module-outside-layers',
    });
  });

  it('finds nothing else in the fixture', () => {
    expect(violations).toHaveLength(4);
  });
});
