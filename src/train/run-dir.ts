// The run directory under cache/runs/<run id>/: the trainer's working directory, laid out as the
// reference launchers leave theirs (`mkdir -p images $OUTPUT_DIR`): the trainers save every sampled
// image to ./images/… relative to where they run, and die on the first one when images/ is missing.
import { existsSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheDir } from '../workspace.js';
import type { TrainPlan } from './plan.js';

export interface RunDir {
  runId: string;
  dir: string;
  /** `output/`: --output_dir, where checkpoints go. */
  outputDir: string;
  /** `images/`: where the reference trainers write ./images/flux_{rank}_{i}.png and qwen_image_edit_… */
  imagesDir: string;
  /** The rubric copied into the run (what judge.yaml's rubrics_file names). */
  rubricFile: string;
  judgeConfig: string;
  runJson: string;
  trainLog: string;
}

const compactUtc = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

/** Creates a new run directory (id: UTC start + 8 hex of the plan hash) with output/, images/ and the rubric. */
export async function createRunDir(plan: TrainPlan, workspaceRoot: string, started: Date): Promise<RunDir> {
  const runsDir = join(cacheDir(workspaceRoot), 'runs');
  const base = `${compactUtc(started)}-${plan.hash.slice(0, 8)}`;
  let runId = base;
  for (let n = 2; existsSync(join(runsDir, runId)); n++) runId = `${base}-${n}`;
  const dir = join(runsDir, runId);
  const layout: RunDir = {
    runId,
    dir,
    outputDir: join(dir, 'output'),
    imagesDir: join(dir, 'images'),
    rubricFile: join(dir, 'rubric.txt'),
    judgeConfig: join(dir, 'judge.yaml'),
    runJson: join(dir, 'run.json'),
    trainLog: join(dir, 'train.log'),
  };
  await mkdir(layout.outputDir, { recursive: true });
  await mkdir(layout.imagesDir, { recursive: true });
  await copyFile(plan.rubric.file, layout.rubricFile);
  if (existsSync(plan.rubric.lock)) await copyFile(plan.rubric.lock, join(dir, 'rubric.lock.json'));
  return layout;
}
