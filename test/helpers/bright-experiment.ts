// A small experiment whose whole chain (resolve → rubric-generate → verify → freeze) runs against the
// simulated judge with makeRubricSimRule: four pairs of a dark and a coloured image.
import { writePng, type TestWorkspace } from './workspace.js';

/** Writes `experiments/<name>.yaml` (freeze name `<name>`), its base and its images into `ws`. */
export async function writeBrightExperiment(ws: TestWorkspace, name = 'bright'): Promise<void> {
  for (let i = 0; i < 4; i++) {
    await writePng(ws.path(`data/t2i/images/${i}.png`), i + 1);
    await writePng(ws.path(`data/bright/b/${i}.png`), 0);
  }
  const lines = [0, 1, 2, 3].map((i) =>
    JSON.stringify({
      query: `pair ${i}`,
      response: i % 2 ? [`b/${i}.png`, `../t2i/images/${i}.png`] : [`../t2i/images/${i}.png`, `b/${i}.png`],
      label_rank: i % 2 ? [2, 1] : [1, 2],
    }),
  );
  ws.write('data/bright/pairs.jsonl', lines.join('\n') + '\n');
  ws.write(
    'experiments/base/judge.yaml',
    'judge:\n  model: Qwen/Qwen3-VL-8B-Instruct\n  base_url: ${ARR_JUDGE_URL:-http://localhost:8000/v1}\n  api_key: ${ARR_JUDGE_API_KEY:-EMPTY}\n  concurrency: 8\n',
  );
  ws.write(
    `experiments/${name}.yaml`,
    `task: t2i\nextends: ./base/judge.yaml\nrubric: { seed: ../data/bright/pairs.jsonl, per_pair: 2, max_epochs: 1 }\nverify: { test: ../data/bright/pairs.jsonl }\nfreeze: { name: ${name}, version: 1 }\n`,
  );
}
