// Dataset assembly: records, splits and the files written under examples/.
import { COUNTS } from './constants.js';
import { balancedFlags, Rng } from './rng.js';
import { renderPng, type Scene } from './scene.js';
import {
  applyT2IMiss,
  layoutT2I,
  makeT2ISpec,
  T2I_CATEGORIES,
  T2I_MISSES,
  type T2ICategory,
  t2iPrompt,
  type T2ISpec,
} from './t2i.js';
import {
  applyEditMiss,
  applyEditOp,
  EDIT_KINDS,
  EDIT_MISSES,
  type EditOp,
  type EditScene,
  instructionText,
  makeEditOp,
  makeSourceScene,
  missIsValid,
} from './edit.js';

export interface OutFile {
  rel: string;
  data: Buffer | string;
}

export type RenderJob = { rel: string; scene: Scene };

export function jsonl(rows: object[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

export function buildT2I(files: OutFile[], jobs: RenderJob[]): void {
  const usedPrompts = new Set<string>();
  const uniqueSpec = (key: string, cat: T2ICategory): T2ISpec => {
    for (let attempt = 0; attempt < 200; attempt++) {
      const spec = makeT2ISpec(new Rng(`${key}/spec/${attempt}`), cat);
      const p = t2iPrompt(spec, cat);
      if (!usedPrompts.has(p)) {
        usedPrompts.add(p);
        return spec;
      }
    }
    throw new Error(`could not find a unique prompt for ${key}`);
  };

  for (const split of ['seed', 'test'] as const) {
    const n = split === 'seed' ? COUNTS.t2iSeed : COUNTS.t2iTest;
    const flags = balancedFlags(n, `t2i/${split}`);
    const rows: object[] = [];
    for (let i = 0; i < n; i++) {
      const id = `${split}_${String(i).padStart(2, '0')}`;
      const cat = T2I_CATEGORIES[i % T2I_CATEGORIES.length];
      const spec = uniqueSpec(`t2i/${id}`, cat);
      const rng = new Rng(`t2i/${id}/miss`);
      const missKind = rng.pick(T2I_MISSES[cat]);
      const miss = applyT2IMiss(rng, spec, missKind);
      const good = layoutT2I(new Rng(`t2i/${id}/good-layout`), spec);
      const bad = layoutT2I(new Rng(`t2i/${id}/miss-layout`), miss.spec, miss.oneOffColor);
      const preferredFirst = flags[i];
      const a = `images/${id}_a.png`;
      const b = `images/${id}_b.png`;
      jobs.push({ rel: `t2i/${a}`, scene: preferredFirst ? good : bad });
      jobs.push({ rel: `t2i/${b}`, scene: preferredFirst ? bad : good });
      rows.push({ query: t2iPrompt(spec, cat), response: [a, b], label_rank: preferredFirst ? [1, 2] : [2, 1] });
    }
    files.push({ rel: `t2i/${split}.jsonl`, data: jsonl(rows) });
  }

  const prompts: string[] = [];
  for (let i = 0; i < COUNTS.t2iPrompts; i++) {
    const cat = T2I_CATEGORIES[i % T2I_CATEGORIES.length];
    prompts.push(t2iPrompt(uniqueSpec(`t2i/train_${i}`, cat), cat));
  }
  files.push({ rel: 't2i/prompts.txt', data: prompts.join('\n') + '\n' });
}

export function buildEdit(files: OutFile[], jobs: RenderJob[]): void {
  const usedInstr = new Set<string>();
  const seedSources: { rel: string; scene: EditScene; instr: Set<string> }[] = [];
  let kindCursor = 0;

  for (const split of ['seed', 'test'] as const) {
    const nSrc = split === 'seed' ? COUNTS.editSeedSources : COUNTS.editTestSources;
    const nRec = nSrc * COUNTS.editsPerSource;
    const flags = balancedFlags(nRec, `edit/${split}`);
    const rows: object[] = [];
    for (let si = 0; si < nSrc; si++) {
      const srcId = `${split}_${String(si).padStart(2, '0')}`;
      const srcRel = `images/src_${srcId}.png`;
      // Find a source scene for which the next instructions are unique across all splits.
      let src: EditScene | undefined;
      let ops: EditOp[] = [];
      for (let attempt = 0; attempt < 200 && !src; attempt++) {
        const rng = new Rng(`edit/src/${srcId}/${attempt}`);
        const cand = makeSourceScene(rng);
        const cOps: EditOp[] = [];
        const texts: string[] = [];
        for (let k = 0; k < COUNTS.editsPerSource; k++) {
          const kind = EDIT_KINDS[(kindCursor + k) % EDIT_KINDS.length];
          const op = makeEditOp(rng, cand, kind);
          cOps.push(op);
          texts.push(instructionText(cand, op));
        }
        if (new Set(texts).size === texts.length && texts.every((t) => !usedInstr.has(t))) {
          src = cand;
          ops = cOps;
          texts.forEach((t) => usedInstr.add(t));
        }
      }
      if (!src) throw new Error(`could not build source ${srcId}`);
      kindCursor += COUNTS.editsPerSource;
      jobs.push({ rel: `edit/${srcRel}`, scene: src });
      if (split === 'seed') seedSources.push({ rel: srcRel, scene: src, instr: new Set() });

      ops.forEach((op, k) => {
        const ri = si * COUNTS.editsPerSource + k;
        const id = `${split}_${String(ri).padStart(2, '0')}`;
        const rng = new Rng(`edit/${id}/edits`);
        const good = applyEditOp(rng, src!, op);
        const missOptions = EDIT_MISSES[op.kind].filter((m) => missIsValid(src!, op, m));
        const miss = rng.pick(missOptions);
        const bad = applyEditMiss(rng, src!, op, good, miss);
        const preferredFirst = flags[ri];
        const a = `images/${id}_a.png`;
        const b = `images/${id}_b.png`;
        jobs.push({ rel: `edit/${a}`, scene: preferredFirst ? good : bad });
        jobs.push({ rel: `edit/${b}`, scene: preferredFirst ? bad : good });
        rows.push({
          instruction: instructionText(src!, op),
          source_image: srcRel,
          edited_images: [a, b],
          label_rank: preferredFirst ? [1, 2] : [2, 1],
        });
      });
    }
    files.push({ rel: `edit/${split}.jsonl`, data: jsonl(rows) });
  }

  // Training edit list: new instructions on the seed source images (test sources stay unseen).
  const train: object[] = [];
  for (let i = 0; i < COUNTS.editTrain; i++) {
    const s = seedSources[i % seedSources.length];
    let text: string | undefined;
    for (let attempt = 0; attempt < 200 && !text; attempt++) {
      const rng = new Rng(`edit/train/${i}/${attempt}`);
      const kind = EDIT_KINDS[(i + attempt) % EDIT_KINDS.length];
      const t = instructionText(s.scene, makeEditOp(rng, s.scene, kind));
      if (!usedInstr.has(t)) text = t;
    }
    if (!text) throw new Error(`could not build training edit ${i}`);
    usedInstr.add(text);
    train.push({ source_image: s.rel, instruction: text });
  }
  files.push({ rel: 'edit/edits.jsonl', data: jsonl(train) });
}

/** Build every generated file in memory: relative path (under examples/) -> bytes. */
export async function buildExampleFiles(): Promise<Map<string, Buffer>> {
  const files: OutFile[] = [];
  const jobs: RenderJob[] = [];
  buildT2I(files, jobs);
  buildEdit(files, jobs);
  const out = new Map<string, Buffer>();
  for (const f of files) out.set(f.rel, Buffer.isBuffer(f.data) ? f.data : Buffer.from(f.data, 'utf8'));
  const BATCH = 16;
  for (let i = 0; i < jobs.length; i += BATCH) {
    const batch = jobs.slice(i, i + BATCH);
    const pngs = await Promise.all(batch.map((j) => renderPng(j.scene)));
    batch.forEach((j, k) => out.set(j.rel, pngs[k]));
  }
  return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Subdirectories of examples/ owned by this generator (README.md is hand-written). */
export const GENERATED_DIRS = ['t2i', 'edit'] as const;
