// `arr judge doctor`: the reference's judge-selection checklist, run against the real endpoint.
import sharp from 'sharp';
import { loadDataset } from '../data/load-dataset.js';
import type { DatasetItem } from '../data/types.js';
import { datasetOptionsFor } from '../manifest/dataset-options.js';
import { fromStoredPath } from '../manifest/paths.js';
import type { Experiment } from '../types/experiment.js';
import { JudgeAuthError, JudgeUnavailableError } from './client.js';
import { gradeItem, gradeOptionsFor, type Grade } from './grade.js';
import { openJudge } from './session.js';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  advice?: string;
}

async function solid(color: { r: number; g: number; b: number }): Promise<{ kind: 'data'; url: string; mime: string }> {
  const png = await sharp({ create: { width: 256, height: 256, channels: 3, background: color } })
    .png()
    .toBuffer();
  return { kind: 'data', url: `data:image/png;base64,${png.toString('base64')}`, mime: 'image/png' };
}

/** A pair whose answer no competent VLM can miss: a red square against a blue one. */
async function obviousPair(task: Experiment['task']): Promise<DatasetItem> {
  const [red, blue, white] = await Promise.all([
    solid({ r: 220, g: 20, b: 20 }),
    solid({ r: 20, g: 40, b: 220 }),
    solid({ r: 245, g: 245, b: 245 }),
  ]);
  return task === 't2i'
    ? {
        index: 0,
        query: 'a plain red square filling the whole image',
        candidates: [blue, red],
        label: { rank: [2, 1] },
        meta: {},
      }
    : {
        index: 0,
        query: 'fill the whole image with red',
        source: white,
        candidates: [blue, red],
        label: { rank: [2, 1] },
        meta: {},
      };
}

export async function runDoctor({
  experiment: e,
  workspaceRoot,
  baseUrl,
  pairs,
}: {
  experiment: Experiment;
  workspaceRoot: string;
  baseUrl?: string;
  pairs: number;
}): Promise<{ ok: boolean; checks: DoctorCheck[] }> {
  const checks: DoctorCheck[] = [];
  const warnings: string[] = [];
  const { client, encoder, local } = openJudge(e, workspaceRoot, { baseUrl, warn: (m) => warnings.push(m) });
  if (local) {
    try {
      const j = await local.loaded();
      const where =
        j.gpuLayers > 0
          ? `${j.variant.toUpperCase()} build, ${j.gpuLayers} layers on ${j.devices.join(', ') || 'the GPU'}`
          : 'CPU build, no GPU layers';
      checks.push({
        name: 'local model loads',
        ok: true,
        detail: `${j.files.model.name} + ${j.files.mmproj.name} loaded in ${j.loadMs} ms (${where}; ${j.threads} threads, ${j.parallel} parallel sequences)`,
      });
    } catch (error) {
      const hint = (error as { hint?: string }).hint;
      checks.push({
        name: 'local model loads',
        ok: false,
        detail: (error as Error).message,
        advice: hint ?? 'check judge.local.model and judge.local.mmproj',
      });
      return { ok: false, checks };
    }
  } else {
    try {
      const replicas = await client.preflight();
      const up = replicas.filter((r) => r.ok).length;
      checks.push({
        name: 'endpoint answers',
        ok: true,
        detail: `${up}/${replicas.length} replica(s) answer GET /models${warnings.length ? `; ${warnings.join('; ')}` : ''}`,
        advice: warnings.length ? 'check judge.model against the ids the endpoint lists' : undefined,
      });
    } catch (error) {
      const auth = error instanceof JudgeAuthError;
      checks.push({
        name: 'endpoint answers',
        ok: false,
        detail: (error as Error).message,
        advice: auth
          ? 'set the API key variable judge.api_key refers to'
          : 'start the judge server or fix judge.base_url / ARR_JUDGE_URL',
      });
      return { ok: false, checks };
    }
  }

  // The image check asks a fixed listwise question with no task description; the pairs below use the experiment's.
  const listwise = gradeOptionsFor(e, {
    rubric: undefined,
    bothOrders: true,
    noCache: true,
    mode: 'listwise',
    taskDescription: '',
  });
  const obvious = await gradeItem(await obviousPair(e.task), listwise, { client, encoder }).catch(
    (error: Error) => error,
  );
  const images = e.task === 'edit' ? 3 : 2;
  if (obvious instanceof Error) {
    const unavailable = obvious instanceof JudgeUnavailableError;
    checks.push({
      name: `${images} images in one request`,
      ok: false,
      detail: obvious.message,
      advice: unavailable
        ? 'the endpoint stopped answering'
        : `the server may cap images per prompt (vLLM: --limit-mm-per-prompt '{"image":${images}}')`,
    });
    return { ok: false, checks };
  }
  const parsed = obvious.orders.filter((v) => !v.error).length;
  checks.push({
    name: `${images} images in one request`,
    ok: parsed > 0,
    detail:
      parsed > 0
        ? `accepted; red-vs-blue answered ${describe(obvious)}`
        : `no usable answer: ${obvious.orders[0].error}`,
    advice:
      parsed > 0
        ? undefined
        : `the server may cap images per prompt (vLLM: --limit-mm-per-prompt '{"image":${images}}')`,
  });
  checks.push({
    name: 'sees the images',
    ok: obvious.verdict === 'agree' && JSON.stringify(obvious.rank) === '[2,1]',
    detail: `expected the red square to win in both orders: ${describe(obvious)}`,
    advice:
      'the model does not read the images it is sent; pick a vision model, or check the endpoint passes image_url content through',
  });

  const datasetPath = e.verify.test ?? e.rubric.seed;
  let examples: DatasetItem[] = [];
  if (datasetPath) {
    const data = await loadDataset(fromStoredPath(datasetPath, workspaceRoot), datasetOptionsFor(e, workspaceRoot));
    examples = data.items.slice(0, pairs);
  }
  if (examples.length) {
    const grades = await Promise.all(
      examples.map((item) =>
        gradeItem(item, { ...listwise, taskDescription: e.rubric.task_description }, { client, encoder }),
      ),
    );
    const answers = grades.flatMap((g) => g.orders);
    const good = answers.filter((v) => !v.error).length;
    const decided = grades.filter((g) => g.verdict === 'agree' || g.verdict === 'disagree');
    const agreed = grades.filter((g) => g.verdict === 'agree').length;
    checks.push({
      name: 'returns parseable JSON',
      ok: good === answers.length,
      detail: `${good}/${answers.length} answers parsed (${client.usage.reasks} re-asks)`,
      advice: 'use a stronger judge, keep judge.temperature at 0, or choose a judge.provider with structured outputs',
    });
    checks.push({
      name: 'verdicts survive swapping the order',
      ok: decided.length > 0 && agreed / decided.length >= 0.75,
      detail: `${agreed}/${decided.length} example pairs got the same verdict in both orders`,
      advice: 'position bias: keep verify.both_orders and reward.both_orders on, or try a stronger VLM',
    });
  } else {
    checks.push({
      name: 'verdicts survive swapping the order',
      ok: true,
      detail: 'skipped: the experiment names no verify.test or rubric.seed pairs',
    });
  }
  if (client.usage.retries > 0) {
    checks.push({
      name: 'no rate limiting',
      ok: false,
      detail: `${client.usage.retries} call(s) were retried`,
      advice: 'lower judge.concurrency or add replicas to judge.base_url',
    });
  }
  return { ok: checks.every((c) => c.ok), checks };
}

function describe(grade: Grade): string {
  return grade.orders.map((v) => (v.error ? `error (${v.error})` : `rank ${JSON.stringify(v.rank)}`)).join(' / ');
}
