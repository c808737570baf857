import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromStoredPath } from '../manifest/paths.js';
import { judgeProvenance, openJudge } from '../judge/session.js';
import { ProgressReporter } from '../report/progress.js';
import { buildRubric, worstCase } from '../rubric/build.js';
import { readFile } from 'node:fs/promises';
import type { ExperimentRef } from './context.js';
import { loadLabelled, openTarget, publish } from './shared.js';

export interface RubricGenerateOptions {
  /** Print the worst-case number of judge calls and stop before any call. */
  estimate?: boolean;
  noCache?: boolean;
  log?: (line: string) => void;
}

/**
 * The `rubric-generate` target: the rubric artifact (`rubric.txt`, `trace.jsonl`, `stats.json`) for the
 * experiment's key. An artifact that already exists is reused without contacting the judge; with
 * `rubric.from` the frozen text is taken as is. A killed build resumes through the response cache.
 */
export async function runRubricGenerate(ref: ExperimentRef, options: RubricGenerateOptions = {}): Promise<string> {
  const log = options.log ?? ((line: string) => console.error(line));
  const ctx = await openTarget(ref);
  const { loaded } = ctx;
  const e = loaded.experiment;
  const { key, inputs } = ctx.keys['rubric-generate'];
  const files = ['rubric.txt', 'stats.json'];

  if (await ctx.store.has('rubric-generate', key)) {
    await publish(ctx, 'rubric-generate', files);
    return `rubric-generate ${loaded.name}: artifact ${key.slice(0, 12)} already built; no judge call made`;
  }

  if (e.rubric.from !== null) {
    const text = await readFile(fromStoredPath(e.rubric.from, ref.workspaceRoot), 'utf8');
    await ctx.store.build('rubric-generate', inputs, async (dir) => {
      await writeFile(join(dir, 'rubric.txt'), text);
      await writeFile(join(dir, 'trace.jsonl'), '');
      await writeFile(join(dir, 'stats.json'), `${JSON.stringify({ source: 'frozen', from: e.rubric.from }, null, 2)}\n`);
    });
    await publish(ctx, 'rubric-generate', files);
    return `rubric-generate ${loaded.name}: reusing the frozen rubric ${e.rubric.from} (no generation)`;
  }

  const seeds = await loadLabelled(ctx, e.rubric.seed!);
  const worst = worstCase(seeds.length, e.rubric.max_epochs, e.judge.reasks, e.rubric.categorize.enabled);
  const plan = `${seeds.length} seed pair(s), ${e.rubric.per_pair} criteria each, up to ${e.rubric.max_epochs} revision(s): at most ${worst.judgements} judgements, ${worst.calls} calls counting re-asks (model ${e.judge.model})`;
  if (options.estimate) return `rubric-generate ${loaded.name}: ${plan}`;
  log(`rubric-generate ${loaded.name}: ${plan}`);

  const session = openJudge(e, ref.workspaceRoot, { warn: (m) => log(`warning: ${m}`) });
  const { client, encoder } = session;
  await client.preflight();
  const judge = await judgeProvenance(session);
  const progress = new ProgressReporter('seeds', process.stderr);
  const result = await buildRubric(e, seeds, {
    client,
    encoder,
    workspaceRoot: ref.workspaceRoot,
    noCache: options.noCache,
    onSeed: (done, total) => progress.update({ done, total, tokens: client.usage.promptTokens + client.usage.completionTokens, cost: client.usage.cost }),
  });
  await ctx.store.build('rubric-generate', inputs, async (dir) => {
    await writeFile(join(dir, 'rubric.txt'), result.text);
    await writeFile(join(dir, 'trace.jsonl'), result.trace.map((t) => JSON.stringify(t)).join('\n') + (result.trace.length ? '\n' : ''));
    await writeFile(join(dir, 'stats.json'), `${JSON.stringify({ source: 'generated', judge, ...result.stats }, null, 2)}\n`);
  });
  await publish(ctx, 'rubric-generate', files);
  const s = result.stats;
  return [
    `rubric-generate ${loaded.name}: kept ${s.seeds.kept}/${s.seeds.total} seed pair(s), ${s.criteria.used} criteria (${s.criteria.selection})${s.categorized ? ` merged into ${result.doc.kind === 'categories' ? result.doc.categories.length : 0} Theme/Tips rubric(s)` : ' as a numbered list'}`,
    `  seed accuracy of the merged rubric: ${s.seed_accuracy === null ? 'n/a' : `${(s.seed_accuracy * 100).toFixed(1)}%`}; judge calls ${s.usage.calls} (${s.usage.cached} cached) of at most ${s.worst_case.calls}`,
    ...(s.categorization_note ? [`  note: ${s.categorization_note}`] : []),
    ...s.seeds.dropped.map((d) => `  dropped seed ${d.seed}: ${d.reason}`),
    `  artifact ${key.slice(0, 12)}: cache/artifacts/rubric-generate/${key}/`,
  ].join('\n');
}
