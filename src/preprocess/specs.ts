// Which encoders `preprocess` runs: a preset (presets/encoders/<name>.json, data a user can copy and
// change) or specs written in the manifest; validated against schemas/encoder-spec.schema.json.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Diagnostic } from '../diagnostics.js';
import { InvalidInputError } from '../diagnostics.js';
import { fieldDiagnostic, type Origins } from '../manifest/layers.js';
import { fromStoredPath } from '../manifest/paths.js';
import { pointerToField, readYamlFile } from '../manifest/yaml-source.js';
import type { EncoderSpec } from '../types/encoder-spec.js';
import type { Experiment } from '../types/experiment.js';
import { schemas } from '../types/schemas.js';

export const PRESET_FOR_TASK: Record<Experiment['task'], string> = { t2i: 'flux', edit: 'qwen-image-edit' };

export interface ResolvedEncoders {
  /** `preset flux (presets/encoders/flux.json)` or `preprocess.encoders in <manifest>`. */
  source: string;
  specs: EncoderSpec[];
  modelsDir: string;
}

let validator: ReturnType<Ajv2020['compile']> | undefined;
function validateSpecs(value: unknown) {
  validator ??= new Ajv2020({ allErrors: true, strict: false, useDefaults: true }).compile(schemas.encoderSpec);
  return { ok: validator(value), errors: validator.errors ?? [] };
}

/**
 * The experiment's encoder specs, schema-checked, and the folder their files are read from. Every
 * model and tokenizer file must exist; a missing one is named with the preset and the folder.
 */
export function resolveEncoders(
  experiment: Experiment,
  workspaceRoot: string,
  manifest: { file: string; origins: Origins },
): ResolvedEncoders {
  const p = experiment.preprocess;
  const encoders = p.encoders ?? PRESET_FOR_TASK[experiment.task];
  const diagnostics: Diagnostic[] = [];
  let specs: unknown;
  let source: string;
  let place: (field: string, message: string) => Diagnostic;
  if (typeof encoders === 'string') {
    const file = join(workspaceRoot, 'presets', 'encoders', `${encoders}.json`);
    source = `preset ${encoders} (presets/encoders/${encoders}.json)`;
    if (!existsSync(file)) {
      throw new InvalidInputError(
        [
          fieldDiagnostic(
            manifest.origins,
            'preprocess.encoders',
            manifest.file,
            `no encoder preset named ${encoders}: ${file} does not exist`,
          ),
        ],
        workspaceRoot,
      );
    }
    const { source: parsed, diagnostics: readProblems } = readYamlFile(file);
    if (!parsed) throw new InvalidInputError(readProblems, workspaceRoot);
    specs = parsed.value;
    place = (field, message) => ({ file, ...parsed.positions.get(field), field, message });
  } else {
    source = `preprocess.encoders in ${manifest.file}`;
    specs = structuredClone(encoders); // validation fills defaults in: never in the manifest's own objects
    place = (field, message) =>
      fieldDiagnostic(
        manifest.origins,
        `preprocess.encoders${field.startsWith('[') ? '' : '.'}${field}`,
        manifest.file,
        message,
      );
  }
  const { ok, errors } = validateSpecs(specs);
  if (!ok) {
    for (const e of errors) {
      const field = pointerToField(e.instancePath);
      const extra =
        e.keyword === 'additionalProperties'
          ? ` (${String(e.params.additionalProperty)})`
          : e.keyword === 'enum'
            ? ` (${(e.params.allowedValues as unknown[]).join(', ')})`
            : '';
      diagnostics.push(place(field, `${e.message}${extra}`));
    }
    throw new InvalidInputError(diagnostics, workspaceRoot);
  }
  if (p.models === null) {
    throw new InvalidInputError(
      [
        fieldDiagnostic(
          manifest.origins,
          'preprocess',
          manifest.file,
          `set preprocess.models to the folder holding the exported encoders that ${source} lists (see docs/preprocess.md)`,
        ),
      ],
      workspaceRoot,
    );
  }
  const modelsDir = fromStoredPath(p.models, workspaceRoot);
  const typed = specs as EncoderSpec[];
  const missing = typed.flatMap((s) =>
    [s.model, ...(s.tokenizer ? [s.tokenizer.file] : [])]
      .filter((f) => !existsSync(join(modelsDir, f)))
      .map((f) => `${s.name}: ${join(modelsDir, f)}`),
  );
  if (missing.length) {
    throw new InvalidInputError(
      [
        fieldDiagnostic(
          manifest.origins,
          'preprocess.models',
          manifest.file,
          `${source} expects these files in ${modelsDir}, which are missing:\n    ${missing.join('\n    ')}\n  export the encoders to ONNX as docs/preprocess.md shows`,
        ),
      ],
      workspaceRoot,
    );
  }
  return { source, specs: typed, modelsDir };
}
