import { readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { PROMPT_TEMPLATE_VERSION } from '../keys/prompt-version.js';
import { freezeRubric } from '../rubric/freeze.js';
import type { VerifyReport } from '../types/verify-report.js';
import { loadValidExperiment, type ExperimentRef } from '../manifest/valid.js';
import { publish, requireArtifact, targetContext } from './shared.js';
import { thresholdChecks, describeVerify } from './verify.js';

/**
 * The `freeze` target: writes the verified rubric to `rubrics/<name>.v<N>.txt` with its lock (hashes,
 * judge, prompt version, verify metrics and the thresholds in force). The same text again is a no-op;
 * a different text under an existing version is refused. A rubric whose verify report misses a
 * threshold is not frozen.
 */
export async function runFreeze(ref: ExperimentRef): Promise<string> {
  const loaded = await loadValidExperiment(ref, { checkData: false });
  const e = loaded.experiment;
  const ctx = await targetContext(loaded, ref.workspaceRoot);
  const verifyDir = await requireArtifact(ctx, 'verify');
  const stored = JSON.parse(await readFile(join(verifyDir, 'report.json'), 'utf8')) as VerifyReport;
  const report = { ...stored, ...thresholdChecks(stored, e.verify) };
  if (!report.passed)
    throw new Error(`${loaded.name}: not freezing a rubric that misses its thresholds\n${describeVerify(report)}`);

  const files = ctx.keys.resolve.inputs.files;
  const dataset = (field: 'rubric.seed' | 'verify.test', path: string | null) =>
    path === null || !files[field] ? null : { path, sha256: files[field] };
  const s = report.with_rubric.summary;
  const result = await freezeRubric(ref.workspaceRoot, {
    name: e.freeze.name!,
    version: e.freeze.version,
    text: report.rubric.text,
    lock: {
      source_artifact: e.rubric.from === null ? ctx.keys['rubric-generate'].key : null,
      verify_key: ctx.keys.verify.key,
      prompt_version: PROMPT_TEMPLATE_VERSION,
      judge_model: e.judge.model,
      ...(stored.backend ? { judge_backend: stored.backend } : {}),
      ...(stored.model_files ? { judge_files: stored.model_files } : {}),
      datasets: { seed: dataset('rubric.seed', e.rubric.seed), test: dataset('verify.test', e.verify.test) },
      metrics: {
        accuracy: s.accuracy,
        ci95: s.ci95,
        agreement: s.agreement,
        baseline_accuracy: report.baseline?.summary.accuracy ?? null,
        gain: report.gain,
        seed_accuracy: await seedAccuracy(ctx.store.path('rubric-generate', ctx.keys['rubric-generate'].key)),
        failures: s.failures,
      },
      thresholds: report.thresholds,
    },
  });
  const lockText = await readFile(result.lockFile, 'utf8');
  await ctx.store.build('freeze', ctx.keys.freeze.inputs, async (dir) => {
    await writeFile(join(dir, 'rubric.txt'), report.rubric.text);
    await writeFile(join(dir, 'lock.json'), lockText);
  });
  await publish(ctx, 'freeze', ['rubric.txt', 'lock.json']);
  const where = relative(ref.workspaceRoot, result.txt);
  return result.status === 'unchanged'
    ? `freeze ${loaded.name}: ${where} already holds this rubric (nothing written)`
    : `freeze ${loaded.name}: wrote ${where} and its lock`;
}

async function seedAccuracy(rubricDir: string): Promise<number | null> {
  try {
    const stats = JSON.parse(await readFile(join(rubricDir, 'stats.json'), 'utf8'));
    return typeof stats.seed_accuracy === 'number' ? stats.seed_accuracy : null;
  } catch {
    return null;
  }
}
