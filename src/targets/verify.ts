import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { evaluate } from '../judge/evaluate.js';
import { gradeOptionsFor } from '../judge/grade.js';
import { openCheckedJudge } from '../judge/session.js';
import { ProgressReporter } from '../report/progress.js';
import { describeDiagnosis, diagnoseVerify } from '../report/verify-diagnosis.js';
import { makeThumbnails } from '../report/thumbnails.js';
import { renderVerifyHtml } from '../report/verify-html.js';
import { sha256Hex } from '../store/canonical-json.js';
import type { Experiment } from '../types/experiment.js';
import type { VerifyReport } from '../types/verify-report.js';
import type { ExperimentRef } from '../manifest/valid.js';
import { loadLabelled, openTarget, publish, requireArtifact } from './shared.js';
import { builtWithTooManyFailures, outageOrOriginal, refuseOnFailures } from './judge-failures.js';
import { ArrError } from '../util/errors.js';

/** A threshold missed: the report is kept, only the target's exit status fails. */
export class ThresholdError extends ArrError {
  override name = 'ThresholdError';
}

/** Checks a report against the thresholds in force now (they are not part of the key), and says why it failed. */
export function thresholdChecks(
  report: Pick<VerifyReport, 'with_rubric' | 'gain' | 'baseline' | 'both_orders' | 'experiment'>,
  v: Experiment['verify'],
): Pick<VerifyReport, 'thresholds' | 'checks' | 'passed' | 'diagnosis'> {
  const thresholds = { min_accuracy: v.min_accuracy, min_agreement: v.min_agreement, min_gain: v.min_gain };
  const check = (name: string, value: number | null, threshold: number) => ({
    name,
    value,
    threshold,
    passed: value === null ? threshold <= 0 : value >= threshold - 1e-12,
  });
  const checks = [
    check('verify.min_accuracy', report.with_rubric.summary.accuracy, v.min_accuracy),
    check('verify.min_agreement', report.with_rubric.summary.agreement, v.min_agreement),
    check('verify.min_gain', report.gain, v.min_gain),
  ];
  const passed = checks.every((c) => c.passed);
  return { thresholds, checks, passed, diagnosis: diagnoseVerify({ ...report, thresholds, passed }) };
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);

/** The summary lines of a report; `experiment` names who asked, when the artifact was built by another experiment. */
export function describeVerify(report: VerifyReport, experiment = report.experiment): string {
  const s = report.with_rubric.summary;
  const lines = [
    `verify ${experiment}: accuracy ${pct(s.accuracy)} (95% CI ${pct(s.ci95[0])}–${pct(s.ci95[1])}) on ${s.total} pair(s), agreement ${pct(s.agreement)}, failures ${s.failures}`,
    `  baseline (no rubric) ${pct(report.baseline?.summary.accuracy ?? null)}, gain ${report.gain === null ? 'n/a' : `${report.gain >= 0 ? '+' : ''}${(report.gain * 100).toFixed(1)} points`}`,
  ];
  for (const c of report.checks)
    if (!c.passed)
      lines.push(`  FAILED ${c.name}: ${c.value === null ? 'not measured' : c.value.toFixed(3)} < ${c.threshold}`);
  lines.push(...describeDiagnosis(report.diagnosis ?? []));
  return lines.join('\n');
}

/**
 * The `verify` target: judges `verify.test` with the rubric (both orders when asked) and without it
 * (the baseline), and writes `report.json` and a self-contained `report.html`. An existing report for
 * the key is reused without contacting the judge; thresholds are re-checked against the manifest.
 */
export async function runVerify(
  ref: ExperimentRef,
  { noCache, log = (line: string) => console.error(line) }: { noCache?: boolean; log?: (line: string) => void } = {},
): Promise<string> {
  const ctx = await openTarget(ref);
  const { loaded } = ctx;
  const e = loaded.experiment;
  if (e.verify.test === null)
    throw new ArrError(`${loaded.name}: verify needs held-out pairs: set verify.test in ${loaded.file}`);
  const { key, inputs } = ctx.keys.verify;
  const test = e.verify.test;

  let report: VerifyReport | undefined;
  if (await ctx.store.has('verify', key)) {
    report = JSON.parse(await readFile(join(ctx.store.path('verify', key), 'report.json'), 'utf8')) as VerifyReport;
    // Failed calls are not part of the key: a report built with more than today's limit accepts is made
    // again, and only its failed calls are asked (the rest come from the response cache).
    if (builtWithTooManyFailures(report.usage?.failures, e.verify.max_failures)) {
      log(
        `verify ${loaded.name}: the stored report has ${report.usage.failures} failed judge call(s), more than verify.max_failures (${e.verify.max_failures}); asking them again`,
      );
      await ctx.store.discard('verify', key);
      report = undefined;
    }
  }
  if (report === undefined) {
    const rubricDir = await requireArtifact(ctx, 'rubric-generate');
    const rubric = await readFile(join(rubricDir, 'rubric.txt'), 'utf8');
    const items = await loadLabelled(ctx, test);
    const judgeReport = async (): Promise<VerifyReport> => {
      const { client, encoder, provenance } = await openCheckedJudge(e, ref.workspaceRoot, {
        warn: (m) => log(`warning: ${m}`),
      });
      const started = new Date().toISOString();
      const arm = (armRubric: string | undefined) =>
        gradeOptionsFor(e, { rubric: armRubric, bothOrders: e.verify.both_orders, noCache });
      const progress = new ProgressReporter('verify', process.stderr);
      const total = items.length * (e.verify.baseline ? 2 : 1);
      const done = { rubric: 0, baseline: 0 };
      const onProgress = (arm: 'rubric' | 'baseline') => (p: { done: number; usage: typeof client.usage }) => {
        done[arm] = p.done;
        progress.update({
          done: done.rubric + done.baseline,
          total,
          tokens: p.usage.promptTokens + p.usage.completionTokens,
          cost: p.usage.cost,
        });
      };
      // Both arms share the judge's concurrency limit, so running them together leaves no idle tail between them.
      const [withRubric, baseline] = await Promise.all([
        evaluate(items, arm(rubric), { client, encoder, onProgress: onProgress('rubric') }),
        e.verify.baseline
          ? evaluate(items, arm(undefined), { client, encoder, onProgress: onProgress('baseline') })
          : Promise.resolve(null),
      ]).catch((error: unknown) => {
        throw outageOrOriginal(
          'verify',
          loaded.name,
          client.tally,
          e.verify.max_failures,
          'verify.max_failures',
          error,
        );
      });
      // An outage is not a result: throwing here, inside the build, leaves no artifact behind.
      refuseOnFailures('verify', loaded.name, client.tally, e.verify.max_failures, 'verify.max_failures');
      const gain = baseline ? withRubric.summary.accuracy - baseline.summary.accuracy : null;
      const partial = {
        with_rubric: withRubric,
        gain,
        baseline,
        both_orders: e.verify.both_orders,
        experiment: loaded.name,
      };
      const report: VerifyReport = {
        schema: 1,
        kind: 'verify-report',
        experiment: loaded.name,
        key,
        task: e.task,
        mode: e.rubric.mode,
        model: e.judge.model,
        ...provenance,
        test,
        both_orders: e.verify.both_orders,
        rubric: {
          sha256: sha256Hex(rubric),
          text: rubric,
          source: e.rubric.from ?? `rubric-generate/${ctx.keys['rubric-generate'].key}`,
        },
        with_rubric: withRubric,
        baseline,
        gain,
        ...thresholdChecks(partial, e.verify),
        usage: { ...client.usage },
        started,
        finished: new Date().toISOString(),
      };
      return report;
    };
    // Judged inside the build, under the key's lock, so two processes never pay for one report twice.
    let made: VerifyReport | undefined;
    const built = await ctx.store.build('verify', inputs, async (dir) => {
      const fresh = await judgeReport();
      const thumbnails = await makeThumbnails(
        items.map((i) => ({ index: i.index, source: i.source, candidates: i.candidates })),
        {},
      );
      await writeFile(join(dir, 'report.json'), `${JSON.stringify(fresh, null, 2)}\n`);
      await writeFile(join(dir, 'report.html'), renderVerifyHtml(fresh, thumbnails));
      made = fresh;
    });
    report =
      (made as VerifyReport | undefined) ??
      (JSON.parse(await readFile(join(built.dir, 'report.json'), 'utf8')) as VerifyReport);
  }

  // Thresholds are not part of the key: check the (possibly reused) report against today's manifest.
  const stored: VerifyReport = report;
  report = { ...stored, ...thresholdChecks({ ...stored, experiment: loaded.name }, e.verify) };
  const out = await publish(ctx, 'verify', ['report.html']);
  await writeFile(join(out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  const summary = `${describeVerify(report, loaded.name)}\n  report: ${join(out, 'report.html')}`;
  if (!report.passed) throw new ThresholdError(summary);
  return summary;
}
