import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { writeFileAtomic } from '../store/atomic.js';
import { reportFailure, workspace } from './shared.js';

const NAME = /^[a-z0-9][a-z0-9._-]*$/;

/** The text of a new experiment: the shared base, the task's example data, the paper's settings. */
export function newManifest(name: string, task: 't2i' | 'edit', base: string): string {
  const folder = task === 't2i' ? 't2i' : 'edit';
  const description =
    task === 't2i'
      ? 'Compare two text-to-image outputs for the same prompt on prompt following, visual quality, artifacts and aesthetics.'
      : 'Compare two edits of the source image: prefer the one that follows the instruction and leaves everything else unchanged.';
  const list =
    task === 't2i'
      ? `  prompts: ../examples/t2i/prompts.txt\n  encoders: flux`
      : `  edits: ../examples/edit/edits.jsonl\n  encoders: qwen-image-edit`;
  return `# yaml-language-server: $schema=../schemas/experiment.schema.json
# ${name}: made by \`npx arr new\`. Point rubric.seed and verify.test at your own labelled pairs.
task: ${task}
extends: ${base}
rubric:
  seed: ../examples/${folder}/seed.jsonl
  task_description: ${JSON.stringify(description)}
verify:
  test: ../examples/${folder}/test.jsonl
freeze:
  name: ${name}
  version: 1
preprocess:
${list}
`;
}

export function registerNewCommand(program: Command): void {
  program
    .command('new')
    .description('Start a new experiment: writes experiments/<name>.yaml extending the shared judge base.')
    .argument('<name>', 'experiment (and Nx project) name: lowercase letters, digits, . _ -')
    .requiredOption('--task <task>', 't2i or edit')
    .option('--base <path>', 'manifest to extend, relative to experiments/', './base/qwen3vl-judge.yaml')
    .action(async (name: string, opts: { task: string; base: string }) => {
      try {
        if (!NAME.test(name)) throw new Error(`experiment name ${name} must match ${NAME.source}`);
        if (opts.task !== 't2i' && opts.task !== 'edit')
          throw new Error(`--task must be t2i or edit, got ${opts.task}`);
        const ws = workspace();
        const file = join(ws, 'experiments', `${name}.yaml`);
        if (existsSync(file))
          throw new Error(`${relative(process.cwd(), file)} already exists; pick another name or edit it`);
        await mkdir(join(ws, 'experiments'), { recursive: true });
        await writeFileAtomic(file, newManifest(name, opts.task, opts.base));
        console.log(`wrote ${relative(process.cwd(), file)}; check it with: npx arr validate ${name}`);
      } catch (error) {
        reportFailure(error);
      }
    });
}
