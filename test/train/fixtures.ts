// Shared by the training tests: a workspace with a frozen rubric, an embeddings metadata.json and a
// stand-in trainer (a Node script) in place of torchrun + the reference script.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeTorchTensor } from '../../src/preprocess/torch-pt.js';
import { encodeSafetensors } from '../../src/preprocess/safetensors.js';
import { fromFloat32 } from '../../src/preprocess/tensors.js';
import { freezeRubric } from '../../src/rubric/freeze.js';
import { makeWorkspace, type TestWorkspace } from '../helpers/workspace.js';
import { TEXT, lockInput } from '../rubric/fixtures.js';

export const SECRET = 'sk-test-secret-value-never-written';

/**
 * The stand-in trainer. argv[2] is its mode: `exit:N` (checks, checkpoint, exit N) or `hang` (checks,
 * then waits for a signal, records it and exits 143). It writes `received.json` into its working
 * directory (the run directory): argv, the ARR_* environment, whether the reward token works, and the
 * problems it found with its flags (validate_rpo_args and paths). Problems make it exit 3.
 */
export const STANDIN = `
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const [mode, ...rest] = process.argv.slice(2);
const flags = {};
for (let i = 0; i < rest.length; i++) {
  if (!rest[i].startsWith('--')) continue;
  const name = rest[i].slice(2);
  if (i + 1 < rest.length && !rest[i + 1].startsWith('--')) flags[name] = rest[++i];
  else flags[name] = true;
}
const problems = [];
if (flags.use_arr !== true) problems.push('--use_arr missing');
if (flags.use_group !== true) problems.push('--use_group missing');
if (flags.num_generations !== '2') problems.push('--num_generations must be 2');
if (!flags.arr_config_path || !existsSync(flags.arr_config_path)) problems.push('--arr_config_path missing or absent');
if (!flags.data_json_path || !existsSync(flags.data_json_path)) problems.push('--data_json_path missing or absent');
if (!flags.output_dir) problems.push('--output_dir missing');
if (!process.env.ARR_REWARD_URL || !process.env.ARR_REWARD_TOKEN) problems.push('reward env missing');
const reward = {};
if (process.env.ARR_REWARD_URL) {
  const url = process.env.ARR_REWARD_URL + '/v1/stats';
  reward.withToken = (await fetch(url, { headers: { authorization: 'Bearer ' + process.env.ARR_REWARD_TOKEN } })).status;
  reward.withoutToken = (await fetch(url)).status;
}
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('ARR_') || ['OUTPUT_DIR', 'DATA_JSON_PATH', 'MODEL_PATH', 'MASTER_PORT'].includes(k)));
writeFileSync('received.json', JSON.stringify({ argv: process.argv.slice(2), flags, env, reward, problems, cwd: process.cwd(), imagesDir: existsSync('images') }, null, 2));
console.log('standin: started with ' + Object.keys(flags).length + ' flags');
console.error('standin: a line on stderr');
if (problems.length) { console.error('standin: ' + problems.join('; ')); process.exit(3); }
const ckpt = join(flags.output_dir, 'checkpoint-1-0');
mkdirSync(ckpt, { recursive: true });
writeFileSync(join(ckpt, 'adapter_config.json'), JSON.stringify({ r: Number(flags.lora_rank), lora_alpha: Number(flags.lora_alpha) }));
writeFileSync(join(ckpt, 'trainer_state.json'), JSON.stringify({ step: 1, epoch: 0 }));
if (mode === 'hang') {
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => { writeFileSync('got-signal', sig); console.log('standin: got ' + sig); process.exit(143); });
  writeFileSync('started', String(process.pid));
  setInterval(() => {}, 1000);
} else {
  process.exit(Number(mode.split(':')[1] ?? 0));
}
`;

export interface TrainWorkspace extends TestWorkspace {
  /** Freezes rubrics/flux-a.v1.txt with a passing lock. */
  freeze(): Promise<void>;
  /** The single run directory under cache/runs/. */
  runDir(): string;
  runJson(): Record<string, any>;
  received(): Record<string, any>;
}

export interface ManifestOptions {
  task?: 't2i' | 'edit';
  mode?: string;
  /** Extra YAML lines under `train:` (two-space indented). */
  train?: string;
  /** Replace the command line entirely. */
  command?: string | null;
}

export function manifest(ws: TestWorkspace, options: ManifestOptions = {}): void {
  const command =
    options.command === undefined
      ? `  command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(ws.path('standin.mjs'))}, ${JSON.stringify(options.mode ?? 'exit:0')}]\n`
      : options.command === null
        ? ''
        : options.command;
  ws.write(
    'experiments/exp-a.yaml',
    `task: ${options.task ?? 't2i'}
judge:
  model: test-vlm
  base_url: http://127.0.0.1:9/v1
  api_key: \${ARR_JUDGE_API_KEY:-EMPTY}
rubric:
  seed: ../data/seed.jsonl
  task_description: Compare two images.
freeze: { name: flux-a, version: 1 }
train:
${command}  gpus_per_node: 1
  embeddings: ../data/emb/metadata.json
${options.train ?? ''}`,
  );
}

export function trainWorkspace(options: ManifestOptions = {}): TrainWorkspace {
  const ws = makeWorkspace();
  ws.write('standin.mjs', STANDIN);
  ws.write('data/seed.jsonl', '{"query":"q","response":["a.png","b.png"],"label_rank":[1,2]}\n');
  writeFluxEmbeddings(ws, 'data/emb', ['two red circles', 'a cat']);
  manifest(ws, options);
  const runsDir = ws.path('cache/runs');
  const runDir = () => {
    const runs = readdirSync(runsDir);
    if (runs.length !== 1) throw new Error(`expected one run, found ${runs.join(', ') || 'none'}`);
    return join(runsDir, runs[0]);
  };
  return {
    ...ws,
    freeze: async () => {
      mkdirSync(ws.path('rubrics'), { recursive: true });
      await freezeRubric(ws.root, { name: 'flux-a', version: 1, text: TEXT, lock: lockInput() });
    },
    runDir,
    runJson: () => JSON.parse(readFileSync(join(runDir(), 'run.json'), 'utf8')),
    received: () => JSON.parse(readFileSync(join(runDir(), 'received.json'), 'utf8')),
  };
}

export const writeJson = (file: string, value: unknown) => writeFileSync(file, JSON.stringify(value));

/** The folder each FLUX metadata field names, as the reference loader joins it. */
export const FLUX_FIELDS = {
  prompt_embed_path: 'prompt_embed',
  pooled_prompt_embeds_path: 'pooled_prompt_embeds',
  text_ids: 'text_ids',
} as const;

/**
 * A small FLUX embeddings set in the layout `preprocess` writes: real torch.save files (.pt) under
 * prompt_embed/, pooled_prompt_embeds/, text_ids/ named by the reference's fields, and (with
 * `format: 'safetensors'`) only .safetensors files instead.
 */
export function writeFluxEmbeddings(
  ws: TestWorkspace,
  rel: string,
  captions: string[],
  format: 'pt' | 'safetensors' = 'pt',
): void {
  const shapes: Record<string, number[]> = { prompt_embed: [4, 8], pooled_prompt_embeds: [8], text_ids: [3] };
  const entries = captions.map((caption, i) => {
    const entry: Record<string, unknown> = { caption };
    const tensors: Record<string, string> = {};
    for (const [field, folder] of Object.entries(FLUX_FIELDS)) {
      const shape = shapes[folder];
      const values = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, k) =>
        folder === 'text_ids' ? 0 : (i + 1) * 0.01 * k,
      );
      const tensor = fromFloat32(values, shape, 'BF16');
      mkdirSync(ws.path(`${rel}/${folder}`), { recursive: true });
      const file = format === 'pt' ? `${i}.pt` : `${i}.safetensors`;
      const bytes =
        format === 'pt' ? encodeTorchTensor(tensor, `${i}`) : Buffer.concat(encodeSafetensors({ [folder]: tensor }));
      writeFileSync(ws.path(`${rel}/${folder}/${file}`), bytes);
      entry[field] = file;
      tensors[folder] = `${folder}/${file}`;
    }
    return { ...entry, tensors };
  });
  ws.write(`${rel}/metadata.json`, JSON.stringify(entries, null, 4));
}
