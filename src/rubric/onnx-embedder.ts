// The preprocess runner as a text embedder for the rubric engine's coding-rate selection
// (`rubric.select.embedder: onnx`): the first text encoder of the experiment's preprocess encoders.
import type { Embedder } from './embed.js';
import type { EncoderSpec } from '../types/encoder-spec.js';
import { EncoderRunner } from '../preprocess/encoder.js';

export class OnnxEmbedder implements Embedder {
  readonly id: string;

  constructor(
    private readonly spec: EncoderSpec,
    private readonly modelsDir: string,
    private readonly batchSize = 16,
  ) {
    if (!spec.tokenizer)
      throw new Error(`encoder "${spec.name}" has no tokenizer: rubric.select.embedder: onnx needs a text encoder`);
    this.id = `onnx/${spec.name}`;
  }

  /** One vector per text: the first output, mean-pooled over its unpadded positions when it is a sequence; L2-normalised. */
  async embed(texts: string[]): Promise<Float32Array[]> {
    const runner = await EncoderRunner.open(this.spec, { modelsDir: this.modelsDir });
    const name = this.spec.outputs[0].save_as;
    const vectors: Float32Array[] = [];
    try {
      for (let start = 0; start < texts.length; start += this.batchSize) {
        const items = await runner.run(texts.slice(start, start + this.batchSize).map((text) => ({ text })));
        for (const item of items) {
          const t = item.tensors[name];
          const dim = t.shape[t.shape.length - 1];
          const rows = t.shape.length === 1 ? 1 : Math.min(item.originalLength ?? t.shape[0], t.shape[0]);
          const v = new Float32Array(dim);
          for (let r = 0; r < rows; r++) for (let d = 0; d < dim; d++) v[d] += t.data[r * dim + d] / rows;
          const norm = Math.hypot(...v) || 1;
          vectors.push(v.map((x) => x / norm));
        }
      }
    } finally {
      await runner.close();
    }
    return vectors;
  }
}
