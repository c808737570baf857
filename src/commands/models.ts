import type { Command } from 'commander';
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { judgeFiles } from '../judge/local/gguf-files.js';
import { gib } from '../judge/local/hub.js';
import { modelsDir } from '../judge/local/models-dir.js';
import { progressBar } from '../judge/local/progress.js';
import { localJudgeSettings } from '../judge/settings.js';
import { loadValidExperiment } from '../manifest/valid.js';
import { schemas } from '../types/schemas.js';
import { reportFailure, workspace } from './shared.js';

const local = schemas.experiment.properties.judge.properties.local.properties;
const DEFAULTS = { model: local.model.default, mmproj: null, quant: local.quant.default };

/** `arr models pull [experiment]` and `arr models ls`: the local judge's GGUF files in ARR_MODELS_DIR. */
export function registerModelsCommand(program: Command): void {
  const models = program
    .command('models')
    .description("Download and list the local judge's GGUF model files (ARR_MODELS_DIR).");

  models
    .command('pull [experiment]')
    .description(
      "Download the model and projector an experiment's judge.local names (default: judge.local's defaults), verified against the Hub's sha256.",
    )
    .action(async (experiment: string | undefined) => {
      try {
        const ws = workspace();
        const { model, mmproj, quant } = experiment
          ? localJudgeSettings(
              (await loadValidExperiment({ workspaceRoot: ws, experiment }, { checkData: false })).experiment,
            )
          : DEFAULTS;
        const files = await judgeFiles({ model, mmproj, quant }, { base: ws, onProgress: progressBar() });
        for (const f of [files.model, files.mmproj]) console.log(`${f.path}  ${gib(f.size)}  sha256 ${f.sha256}`);
      } catch (error) {
        reportFailure(error);
      }
    });

  models
    .command('ls')
    .description('List the GGUF files in ARR_MODELS_DIR with their sizes.')
    .option('--json', 'print machine-readable JSON')
    .action(async (opts: { json?: boolean }) => {
      const root = modelsDir();
      const found = await listGguf(root);
      if (opts.json) return console.log(JSON.stringify({ dir: root, files: found }, null, 2));
      console.log(`ARR_MODELS_DIR: ${root}`);
      if (found.length === 0) return console.log("no model files (npx arr models pull downloads the judge's)");
      for (const f of found)
        console.log(`${gib(f.bytes).padStart(11)}  ${f.path}${f.partial ? '  (partial download)' : ''}`);
    });
}

async function listGguf(root: string): Promise<{ path: string; bytes: number; partial: boolean }[]> {
  const out: { path: string; bytes: number; partial: boolean }[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (/\.gguf(\.part)?$/.test(e.name))
        out.push({ path: relative(root, full), bytes: (await stat(full)).size, partial: e.name.endsWith('.part') });
    }
  };
  await walk(root);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
