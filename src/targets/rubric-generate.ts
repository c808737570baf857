import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromStoredPath } from '../manifest/paths.js';
import { openCheckedJudge } from '../judge/session.js';
import { ProgressReporter } from '../report/progress.js';
import { buildRubric, worstCase } from '../rubric/build.js';
import { readFile } from 'node:fs/promises';
import type { ExperimentRef } from '../manifest/valid.js';
import { loadLabelled, openTarget, publish } from './shared.js';
import { readLockedRubric } from '../rubric/locked.js';
import { builtWithTooManyFailures, outageOrOriginal, refuseOnFailures } from './judge-failures.js';

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
export async function runRubricGenerate(
  ref: ExperimentRef,
  { estimate, noCache, log = (line: string) => console.error(line) }: RubricGenerateOptions = {},
): Promise<string> {
  // Reusing a frozen rubric judges nothing, so it needs no local judge files for its key.
  const ctx = await openTarget(ref, { judges: (e) => e.rubric.from === null });
  const { loaded } = ctx;
  const e = loaded.experiment;
  const { key, inputs } = ctx.keys['rubric-generate'];
  const files = ['rubric.txt', 'stats.json'];

  if (e.rubric.from === null && (await ctx.store.has('rubric-generate', key))) {
    // Failed calls are not part of the key: a rubric built with more than today's limit accepts is
    // built again, asking only the calls that failed (the rest come from the response cache).
    const stats = JSON.parse(
      await readFile(join(ctx.store.path('rubric-generate', key), 'stats.json'), 'utf8').catch(() => '{}'),
    ) as { usage?: { failures?: number } };
    if (builtWithTooManyFailures(stats.usage?.failures, e.rubric.max_failures)) {
      log(
        `rubric-generate ${loaded.name}: the stored rubric has ${stats.usage!.failures} failed judge call(s), more than rubric.max_failures (${e.rubric.max_failures}); asking them again`,
      );
      await ctx.store.discard('rubric-generate', key);
    }
  }
  // A reused rubric is checked against its lock on every run, cached artifact or not.
  const reused =
    e.rubric.from === null
      ? undefined
      : readLockedRubric(fromStoredPath(e.rubric.from, ref.workspaceRoot), ref.workspaceRoot, {
          allowUnlocked: e.rubric.allow_unlocked,
        });
  if (await ctx.store.has('rubric-generate', key)) {
    await publish(ctx, 'rubric-generate', files);
    return `rubric-generate ${loaded.name}: artifact ${key.slice(0, 12)} already built; no judge call made`;
  }

  if (reused) {
    const text = reused.text;
    await ctx.store.build('rubric-generate', inputs, async (dir) => {
      await writeFile(join(dir, 'rubric.txt'), text);
      await writeFile(join(dir, 'trace.jsonl'), '');
      await writeFile(
        join(dir, 'stats.json'),
        `${JSON.stringify({ source: 'frozen', from: e.rubric.from }, null, 2)}\n`,
      );
    });
    await publish(ctx, 'rubric-generate', files);
    return `rubric-generate ${loaded.name}: reusing the frozen rubric ${e.rubric.from} (no generation)`;
  }

  const seeds = await loadLabelled(ctx, e.rubric.seed!);
  const worst = worstCase(seeds.length, e.rubric.max_epochs, e.judge.reasks, e.rubric.categorize.enabled);
  const plan = `${seeds.length} seed pair(s), ${e.rubric.per_pair} criteria each, up to ${e.rubric.max_epochs} revision(s): at most ${worst.judgements} judgements, ${worst.calls} calls counting re-asks (model ${e.judge.model})`;
  if (estimate) return `rubric-generate ${loaded.name}: ${plan}`;
  log(`rubric-generate ${loaded.name}: ${plan}`);

  // The judge is asked inside the build, under the key's lock: a second process building the same key
  // waits for this one and reuses its artifact instead of paying for the same calls again.
  let result: Awaited<ReturnType<typeof buildRubric>> | undefined;
  await ctx.store.build('rubric-generate', inputs, async (dir) => {
    const {
      client,
      encoder,
      provenance: judge,
    } = await openCheckedJudge(e, ref.workspaceRoot, { warn: (m) => log(`warning: ${m}`) });
    const progress = new ProgressReporter('seeds', process.stderr);
    const made = await buildRubric(e, seeds, {
      client,
      encoder,
      workspaceRoot: ref.workspaceRoot,
      noCache,
      onSeed: (done, total) =>
        progress.update({
          done,
          total,
          tokens: client.usage.promptTokens + client.usage.completionTokens,
          cost: client.usage.cost,
        }),
    }).catch((error: unknown) => {
      throw outageOrOriginal(
        'rubric-generate',
        loaded.name,
        client.tally,
        e.rubric.max_failures,
        'rubric.max_failures',
        error,
      );
    });
    // An outage is not a result: throwing here leaves no artifact behind.
    refuseOnFailures('rubric-generate', loaded.name, client.tally, e.rubric.max_failures, 'rubric.max_failures');
    await writeFile(join(dir, 'rubric.txt'), made.text);
    await writeFile(
      join(dir, 'trace.jsonl'),
      made.trace.map((t) => JSON.stringify(t)).join('\n') + (made.trace.length ? '\n' : ''),
    );
    await writeFile(
      join(dir, 'stats.json'),
      `${JSON.stringify({ source: 'generated', judge, ...made.stats }, null, 2)}\n`,
    );
    result = made;
  });
  await publish(ctx, 'rubric-generate', files);
  if (!result)
    return `rubric-generate ${loaded.name}: artifact ${key.slice(0, 12)} was built by another process meanwhile; no judge call made`;
  const s = result.stats;
  return [
    `rubric-generate ${loaded.name}: kept ${s.seeds.kept}/${s.seeds.total} seed pair(s), ${s.criteria.used} criteria (${s.criteria.selection})${s.categorized ? ` merged into ${result.doc.kind === 'categories' ? result.doc.categories.length : 0} Theme/Tips rubric(s)` : ' as a numbered list'}`,
    `  seed accuracy of the merged rubric: ${s.seed_accuracy === null ? 'n/a' : `${(s.seed_accuracy * 100).toFixed(1)}%`}; judge calls ${s.usage.calls} (${s.usage.cached} cached) of at most ${s.worst_case.calls}`,
    ...(s.categorization_note ? [`  note: ${s.categorization_note}`] : []),
    ...s.seeds.dropped.map((d) => `  dropped seed ${d.seed}: ${d.reason}`),
    `  artifact ${key.slice(0, 12)}: cache/artifacts/rubric-generate/${key}/`,
  ].join('\n');
}
