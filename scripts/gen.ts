// Derives checked-in files from the JSON Schemas: TypeScript types (src/types/) and the manifest
// reference (docs/manifest.md). `--check` fails when a committed file is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile, type JSONSchema } from 'json-schema-to-typescript';
import { renderManifestReference } from '../src/manifest/reference-doc.js';

const root = join(import.meta.dirname, '..');
const readSchema = (name: string): JSONSchema => JSON.parse(readFileSync(join(root, 'schemas', name), 'utf8'));

/** Every property that has a default is present after defaults are applied, so it becomes required. */
function withDefaultsRequired(schema: any): any {
  if (Array.isArray(schema)) return schema.map(withDefaultsRequired);
  if (!schema || typeof schema !== 'object') return schema;
  const out: any = {};
  for (const [k, v] of Object.entries(schema)) out[k] = withDefaultsRequired(v);
  if (out.properties) {
    const defaulted = Object.entries(out.properties)
      .filter(([, p]: [string, any]) => p && typeof p === 'object' && 'default' in p)
      .map(([k]) => k);
    out.required = [...new Set([...(out.required ?? []), ...defaulted])].filter((k) => k !== 'extends');
    if (out.properties.extends) delete out.properties.extends;
  }
  return out;
}

/**
 * json-schema-to-typescript inlines every type a schema $refs from another file. Declarations that
 * `shared` (the other file's output) already exports are dropped here and imported instead.
 */
function importShared(output: string, shared: string, from: string): string {
  const exported = new Set([...shared.matchAll(/^export interface (\w+) \{/gm)].map((m) => m[1]));
  const reused: string[] = [];
  const trimmed = output.replace(
    /(\/\*\*(?:(?!\*\/)[\s\S])*\*\/\n)?export interface (\w+) \{\n[\s\S]*?\n\}\n/g,
    (block, _doc, name: string) => {
      if (!exported.has(name)) return block;
      reused.push(name);
      return '';
    },
  );
  if (reused.length === 0) return output;
  return trimmed.replace(/\*\/\n/, `*/\n\nimport type { ${reused.sort().join(', ')} } from '${from}';\n`);
}

const banner = (source: string) =>
  `/* Generated from schemas/${source} by scripts/gen.ts (npm run gen). Do not edit by hand. */`;
// `cwd` lets a schema $ref another by file name (verify-report reuses judge-report's definitions).
const options = (source: string) => ({
  bannerComment: banner(source),
  additionalProperties: false,
  format: true,
  cwd: join(root, 'schemas'),
});

export async function generatedFiles(): Promise<Record<string, string>> {
  const experiment = readSchema('experiment.schema.json');
  const record = readSchema('dataset-record.schema.json');
  const asWritten = await compile(
    { ...experiment, title: 'ExperimentManifest' } as JSONSchema,
    'ExperimentManifest',
    options('experiment.schema.json'),
  );
  const resolved = await compile(
    { ...withDefaultsRequired(experiment), title: 'Experiment', $id: undefined } as JSONSchema,
    'Experiment',
    { ...options('experiment.schema.json'), bannerComment: '' },
  );
  const dataset = await compile(record, 'DatasetRecord', {
    ...options('dataset-record.schema.json'),
    unreachableDefinitions: true,
  });
  const judgeReport = await compile(
    readSchema('judge-report.schema.json'),
    'JudgeReport',
    options('judge-report.schema.json'),
  );
  const verifyReport = importShared(
    await compile(readSchema('verify-report.schema.json'), 'VerifyReport', options('verify-report.schema.json')),
    judgeReport,
    './judge-report.js',
  );
  const rubricLockSchema = readSchema('rubric-lock.schema.json');
  const rubricLock = await compile(rubricLockSchema, 'RubricLock', options('rubric-lock.schema.json'));
  const encoderSpecSchema = readSchema('encoder-spec.schema.json');
  const encoderSpec = await compile(encoderSpecSchema, 'EncoderSpecs', options('encoder-spec.schema.json'));
  const runRecord = await compile(readSchema('run-record.schema.json'), 'RunRecord', options('run-record.schema.json'));
  return {
    'src/types/encoder-spec.ts': encoderSpec,
    'src/types/run-record.ts': runRecord,
    'src/types/judge-report.ts': judgeReport,
    'src/types/verify-report.ts': verifyReport,
    'src/types/rubric-lock.ts': rubricLock,
    'src/types/experiment.ts':
      asWritten +
      '\n/** The manifest after `extends`, env references and schema defaults: every defaulted field is present. */\n' +
      resolved,
    'src/types/dataset.ts': dataset,
    'docs/manifest.md': renderManifestReference(experiment),
    // The schemas as modules, so every loader (tsx, swc-node under Nx, vitest) gets them without file paths.
    'src/types/schemas.ts': `${banner('*.schema.json')}\nexport const schemas = ${JSON.stringify({ experiment, datasetRecord: record, rubricLock: rubricLockSchema, encoderSpec: encoderSpecSchema }, null, 2)} as const;\n`,
  };
}

const isMain = process.argv[1] && import.meta.filename === process.argv[1];
if (isMain) {
  const check = process.argv.includes('--check');
  const stale: string[] = [];
  for (const [rel, content] of Object.entries(await generatedFiles())) {
    const path = join(root, rel);
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      /* missing counts as stale */
    }
    if (current === content) continue;
    if (check) stale.push(rel);
    else {
      writeFileSync(path, content);
      console.log(`wrote ${rel}`);
    }
  }
  if (check && stale.length) {
    console.error(`out of date (run npm run gen): ${stale.join(', ')}`);
    process.exit(1);
  }
}
