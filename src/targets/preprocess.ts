import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { runPreprocess } from '../preprocess/run.js';
import type { ExperimentRef } from '../manifest/valid.js';
import { openTarget, publish } from './shared.js';

/**
 * The `preprocess` target. Its Nx output holds `embeddings.json`, pointing at the artifact's
 * `metadata.json` (the artifact keeps the reference's relative layout, so it is not copied).
 */
export async function runPreprocessTarget(
  ref: ExperimentRef,
  options: { log?: (line: string) => void } = {},
): Promise<string> {
  const ctx = await openTarget(ref, { judges: false });
  const { key } = ctx.keys.preprocess;
  const result = (await ctx.store.has('preprocess', key))
    ? { summary: `preprocess ${ctx.loaded.name}: artifact ${key.slice(0, 12)} already built; nothing encoded` }
    : await runPreprocess(ctx, options.log);
  const out = await publish(ctx, 'preprocess', []);
  const metadata = join(ctx.store.path('preprocess', key), 'metadata.json');
  await writeFile(
    join(out, 'embeddings.json'),
    `${JSON.stringify({ key, metadata: relative(ref.workspaceRoot, metadata) }, null, 2)}\n`,
  );
  return result.summary;
}
