// Parity of our preprocess with PyTorch on the real encoder architectures: tiny random-weight
// CLIPTextModel, T5EncoderModel and Qwen2_5_VLForConditionalGeneration, exported by
// python/export_encoders.py, with the tensors PyTorch computed for the same inputs by the pipelines'
// procedure (test/fixtures/encoders/, made by `python3 python/export_encoders.py --parity-fixtures`).
// Each encoder is compared on identical inputs (token ids checked first, pixels already at the vision
// size); the resize is compared on its own, with its own tolerance (sharp and PIL differ).
// Until the fixtures are made (they need torch + transformers), every test here is skipped and says so.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EncoderRunner, preprocessImages, type EncoderSpec } from '../../src/preprocess/encoder.js';
import { applyTemplate } from '../../src/preprocess/pipeline-steps.js';
import { readSafetensors } from '../../src/preprocess/safetensors.js';
import { toFloat32 } from '../../src/preprocess/tensors.js';
import { loadTokenizer } from '../../src/preprocess/tokenizer.js';
import { repoRoot } from '../helpers/workspace.js';

const DIR = join(repoRoot, 'test/fixtures/encoders');
const MANIFEST = join(DIR, 'manifest.json');
const present = existsSync(MANIFEST);
const PENDING =
  ' [PENDING: test/fixtures/encoders/manifest.json and its models are not made yet; they need torch + transformers: see test/fixtures/encoders/README.md]';
/** float32 ONNX Runtime against float32 PyTorch on the same inputs. */
const TOLERANCE = 1e-4;
/** sharp's resize against PIL's bicubic, in normalised units (about 0.008 of the [0, 1] pixel range). */
const RESIZE_MEAN_TOLERANCE = 0.03;

interface FixtureEncoder {
  name: string;
  spec: EncoderSpec;
  text: string;
  image?: string;
  expected_ids: number[];
  expected_original_length?: number;
  expected: string;
}
interface Manifest {
  torch: string;
  transformers: string;
  encoders: FixtureEncoder[];
  resize: {
    source: string;
    size: [number, number];
    mean: [number, number, number];
    std: [number, number, number];
    expected: string;
  };
}
const manifest = (): Manifest => JSON.parse(readFileSync(MANIFEST, 'utf8')) as Manifest;

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('parity with PyTorch on the real architectures', () => {
  for (const name of ['clip', 't5', 'qwen']) {
    it.skipIf(!present)(
      `${name}: our tokens and outputs match PyTorch within ${TOLERANCE}${present ? '' : PENDING}`,
      async () => {
        const fixture = manifest().encoders.find((e) => e.name === name)!;
        const spec = fixture.spec;
        const tokenizer = await loadTokenizer(join(DIR, spec.tokenizer!.file));
        const tokens = tokenizer.encode([applyTemplate(fixture.text, spec.tokenizer!.template)], {
          maxLength: spec.tokenizer!.max_length,
          padding: spec.tokenizer!.padding ?? 'max_length',
          truncation: true,
          padId: spec.tokenizer!.pad_id,
          dtype: 'int64',
        });
        expect(Array.from(tokens.inputIds, Number)).toEqual(fixture.expected_ids);

        const runner = await EncoderRunner.open(spec, { modelsDir: DIR, threads: 1 });
        try {
          const [item] = await runner.run([
            { text: fixture.text, ...(fixture.image ? { image: join(DIR, fixture.image) } : {}) },
          ]);
          const expected = (await readSafetensors(join(DIR, fixture.expected))).tensors;
          for (const [key, tensor] of Object.entries(expected)) {
            const error = maxAbs(item.tensors[key].data, toFloat32(tensor));
            console.log(
              `parity ${name} ${key}: max abs error ${error.toExponential(2)} (torch ${manifest().torch}, transformers ${manifest().transformers})`,
            );
            expect(error).toBeLessThanOrEqual(TOLERANCE);
          }
          if (fixture.expected_original_length !== undefined)
            expect(item.originalLength).toBe(fixture.expected_original_length);
        } finally {
          await runner.close();
        }
      },
      60_000,
    );
  }

  it.skipIf(!present)(
    `resize: sharp against PIL bicubic, mean abs error within ${RESIZE_MEAN_TOLERANCE}${present ? '' : PENDING}`,
    async () => {
      const r = manifest().resize;
      const ours = await preprocessImages([join(DIR, r.source)], {
        size: r.size,
        resize: 'fill',
        mean: r.mean,
        std: r.std,
        layout: 'nchw',
      });
      const expected = toFloat32((await readSafetensors(join(DIR, r.expected))).tensors.pixel_values);
      let sum = 0;
      for (let i = 0; i < expected.length; i++) sum += Math.abs(ours.data[i] - expected[i]);
      const mean = sum / expected.length;
      console.log(
        `parity resize: mean abs error ${mean.toExponential(2)}, max ${maxAbs(ours.data, expected).toExponential(2)} (normalised units)`,
      );
      expect(mean).toBeLessThanOrEqual(RESIZE_MEAN_TOLERANCE);
    },
  );
});
