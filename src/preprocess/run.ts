// The `preprocess` target: encode the prompt or edit list with the experiment's ONNX encoders. Each
// item is an `embedding` artifact keyed by its content and the encoders (with their model files'
// hashes), so only new items are encoded and experiments with the same encoders share entries. The
// `preprocess` artifact is then assembled from links to those entries, in the reference's layout.
import { copyFile, link, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InvalidInputError } from '../diagnostics.js';
import { fromStoredPath } from '../manifest/paths.js';
import { ProgressReporter } from '../report/progress.js';
import { keyOf } from '../store/canonical-json.js';
import { hashTree, HashMemo } from '../store/hash.js';
import { cacheDir } from '../workspace.js';
import type { ExperimentKeys } from '../keys/compute.js';
import type { ValidExperiment } from '../manifest/valid.js';
import type { ArtifactStore } from '../store/artifacts.js';
import { EncoderRunner, type EncodedItem } from './encoder.js';
import { readEditItems, readPromptItems, type ItemCounts, type PreprocessItem } from './items.js';
import { writeSafetensors } from './safetensors.js';
import { resolveEncoders, type ResolvedEncoders } from './specs.js';
import { fromFloat32, fromInt64, type Tensor } from './tensors.js';
import { writeTorchPt } from './torch-pt.js';

/** Bump when what an entry holds changes (tensor layout, conversion); part of every entry key. */
export const PREPROCESS_VERSION = 'arr-preprocess/1';

/** The reference's metadata field for each stored tensor; other tensors use their own name. */
const METADATA_FIELD: Record<string, string> = {
  prompt_embed: 'prompt_embed_path',
  pooled_prompt_embeds: 'pooled_prompt_embeds_path',
};

interface EntryInfo {
  original_length: number | null;
  calculated_height: number | null;
  calculated_width: number | null;
  tensors: string[];
}

function toTensor(t: EncodedItem['tensors'][string]): Tensor {
  if (t.dtype === 'int64')
    return fromInt64(
      Array.from(t.data, (v) => Math.round(v)),
      t.shape,
    );
  return fromFloat32(t.data, t.shape, t.dtype === 'float32' ? 'F32' : t.dtype === 'float16' ? 'F16' : 'BF16');
}

/** Links a file into the artifact being built (no copy); copies across filesystems. */
async function place(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await copyFile(from, to);
  }
}

export interface PreprocessResult {
  summary: string;
  encoded: number;
  reused: number;
  counts: ItemCounts;
}

/** What one preprocess build needs: the loaded experiment, its preprocess key and the store to publish into. */
export interface PreprocessContext {
  loaded: ValidExperiment;
  workspaceRoot: string;
  keys: Pick<ExperimentKeys, 'preprocess'>;
  store: ArtifactStore;
}

export async function runPreprocess(
  ctx: PreprocessContext,
  log: (line: string) => void = (l) => console.error(l),
): Promise<PreprocessResult> {
  const { loaded, workspaceRoot: ws, store } = ctx;
  const e = loaded.experiment;
  const p = e.preprocess;
  const listField = e.task === 't2i' ? 'preprocess.prompts' : 'preprocess.edits';
  const listPath = e.task === 't2i' ? p.prompts : p.edits;
  if (listPath === null) {
    const hint = e.train.embeddings !== null ? ' (or skip preprocess: train.embeddings is set)' : '';
    throw new InvalidInputError(
      [{ file: loaded.file, field: listField, message: `preprocess needs ${listField} for task ${e.task}${hint}` }],
      ws,
    );
  }
  const { key, inputs } = ctx.keys.preprocess;
  const encoders = resolveEncoders(e, ws, { file: loaded.file, origins: loaded.origins });
  const { items, counts } =
    e.task === 't2i'
      ? await readPromptItems(fromStoredPath(listPath, ws), p)
      : readEditItems(fromStoredPath(listPath, ws), p);

  const memo = new HashMemo(cacheDir(ws));
  const encoderKey = await encodersKey(encoders, memo);
  const sourceHashes = new Map<string, string>();
  for (const item of items)
    if (item.sourceImage && !sourceHashes.has(item.sourceImage))
      sourceHashes.set(item.sourceImage, (await memo.hashFile(item.sourceImage)).sha256);
  await memo.flush();
  const entryInputs = (item: PreprocessItem) => ({
    v: PREPROCESS_VERSION,
    encoders: encoderKey,
    format: p.format,
    caption: item.caption,
    source: item.sourceImage ? sourceHashes.get(item.sourceImage) : null,
  });
  const entryKeys = items.map((item) => store.keyFor(entryInputs(item)));

  const todo: number[] = [];
  for (let i = 0; i < items.length; i++) if (!(await store.has('embedding', entryKeys[i]))) todo.push(i);
  log(
    `preprocess ${loaded.name}: ${items.length} item(s) (${describeCounts(counts)}); ${items.length - todo.length} already encoded, ${todo.length} to encode with ${encoders.source}`,
  );

  if (todo.length) {
    const runners = await Promise.all(
      encoders.specs.map((spec) => EncoderRunner.open(spec, { modelsDir: encoders.modelsDir })),
    );
    // calculated_height/width: the source latents' size (the spec marked records_dimensions), else the first image spec's.
    const size =
      (encoders.specs.find((s) => s.image?.records_dimensions) ?? encoders.specs.find((s) => s.image))?.image?.size ??
      null;
    const progress = new ProgressReporter('encode', process.stderr);
    try {
      for (let start = 0; start < todo.length; start += p.batch_size) {
        const batch = todo.slice(start, start + p.batch_size).map((i) => items[i]);
        const perEncoder: EncodedItem[][] = [];
        for (const runner of runners)
          perEncoder.push(await runner.run(batch.map((item) => ({ text: item.caption, image: item.sourceImage }))));
        await Promise.all(
          batch.map(async (item, b) => {
            const tensors: Record<string, EncodedItem['tensors'][string]> = {};
            let originalLength: number | null = null;
            for (const out of perEncoder) {
              Object.assign(tensors, out[b].tensors);
              originalLength ??= out[b].originalLength;
            }
            await store.build('embedding', entryInputs(item), async (dir) => {
              for (const [name, t] of Object.entries(tensors)) {
                const tensor = toTensor(t);
                await writeSafetensors(join(dir, `${name}.safetensors`), { [name]: tensor });
                if (p.format === 'pt') await writeTorchPt(join(dir, `${name}.pt`), tensor);
              }
              const info: EntryInfo = {
                original_length: originalLength,
                calculated_height: size ? size[1] : null,
                calculated_width: size ? size[0] : null,
                tensors: Object.keys(tensors).sort(),
              };
              await writeFile(join(dir, 'entry.json'), `${JSON.stringify(info)}\n`);
            });
          }),
        );
        progress.update({ done: Math.min(start + p.batch_size, todo.length), total: todo.length });
      }
    } finally {
      await Promise.all(runners.map((r) => r.close()));
    }
  }

  const built = await store.build('preprocess', inputs, async (dir) => {
    const metadata: Record<string, unknown>[] = [];
    const made = new Set<string>();
    for (const [i, item] of items.entries()) {
      const entryDir = store.path('embedding', entryKeys[i]);
      const info = JSON.parse(await readFile(join(entryDir, 'entry.json'), 'utf8')) as EntryInfo;
      const entry: Record<string, unknown> = { caption: item.caption };
      const tensors: Record<string, string> = {};
      for (const name of info.tensors) {
        if (!made.has(name)) {
          await mkdir(join(dir, name), { recursive: true });
          made.add(name);
        }
        await place(join(entryDir, `${name}.safetensors`), join(dir, name, `${item.index}.safetensors`));
        tensors[name] = `${name}/${item.index}.safetensors`;
        if (p.format === 'pt') await place(join(entryDir, `${name}.pt`), join(dir, name, `${item.index}.pt`));
        // The reference's loaders join the folder they expect with this file name.
        entry[METADATA_FIELD[name] ?? name] = `${item.index}.${p.format === 'pt' ? 'pt' : 'safetensors'}`;
      }
      if (item.sourceImage) entry.source_image = item.sourceImage;
      if (info.original_length !== null) entry.original_length = info.original_length;
      if (info.calculated_height !== null)
        Object.assign(entry, { calculated_height: info.calculated_height, calculated_width: info.calculated_width });
      Object.assign(entry, { tensors, sha256: entryKeys[i] });
      metadata.push(entry);
    }
    await writeFile(join(dir, 'metadata.json'), `${JSON.stringify(metadata, null, 4)}\n`);
  });
  return {
    summary: `preprocess ${loaded.name}: ${items.length} item(s) in ${store.path('preprocess', built.key)}/metadata.json (${todo.length} encoded, ${items.length - todo.length} reused; ${describeCounts(counts)})`,
    encoded: todo.length,
    reused: items.length - todo.length,
    counts,
  };
}

function describeCounts(c: ItemCounts): string {
  return `${c.read} read, ${c.skipped_blank} blank skipped, ${c.dropped_cjk} CJK dropped, ${c.over_cap} over max_items`;
}

/**
 * The encoders' identity: their specs and the bytes of every file in the folders of their models (an
 * ONNX model's external weights sit beside it) and of their tokenizers. Hashed once, then memoised.
 */
async function encodersKey(encoders: ResolvedEncoders, memo: HashMemo): Promise<string> {
  const files: Record<string, string> = {};
  const folders = new Set(
    encoders.specs.flatMap((s) => [dirname(s.model), ...(s.tokenizer ? [dirname(s.tokenizer.file)] : [])]),
  );
  for (const folder of [...folders].sort()) {
    for (const entry of await hashTree(join(encoders.modelsDir, folder), memo))
      files[`${folder}/${entry.path}`] = entry.sha256;
  }
  await memo.flush();
  return keyOf({ specs: encoders.specs, files });
}
