// Benchmark for the coding-rate (MCR²) selection of rubric criteria: embed 500 synthetic criteria with
// the lexical embedder, then select 20 and 50 of them (exact greedy, every candidate's gain every step).
// Run: npx tsx bench/select.ts
import { LexicalEmbedder } from '../src/rubric/embed.js';
import { dedupeExact, mulberry32, selectByCodingRate } from '../src/rubric/select.js';

const N = 500;
const RUNS = 5;

// Synthetic criteria: templates × aspects × qualifiers, with paraphrase-like overlap between them.
const subjects = [
  'the main subject',
  'the text',
  'the hands',
  'the background',
  'the lighting',
  'the colours',
  'the faces',
  'the composition',
  'the reflections',
  'the shadows',
  'the edges',
  'the layout',
];
const verbs = ['matches', 'follows', 'respects', 'reflects', 'is consistent with', 'agrees with', 'preserves', 'keeps'];
const targets = [
  'the prompt',
  'the requested style',
  'the source image',
  'physical plausibility',
  'the described count',
  'the stated position',
  'the edit instruction',
  'natural anatomy',
  'the brand colours',
  'the spelling in the prompt',
];
const qualifiers = [
  'exactly',
  'closely',
  'without artifacts',
  'in every region',
  'with no extra objects',
  'at full resolution',
  'without blur',
  'under close inspection',
];
const random = mulberry32(42);
const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)];
const raw: string[] = [];
while (dedupeExact(raw).texts.length < N)
  raw.push(`${pick(subjects)} ${pick(verbs)} ${pick(targets)} ${pick(qualifiers)}`);
const texts = dedupeExact(raw).texts.slice(0, N);

const embedder = new LexicalEmbedder();
let t = performance.now();
const vectors = await embedder.embed(texts);
console.log(`embed ${N} criteria (${embedder.id}, ${vectors[0].length}-d): ${(performance.now() - t).toFixed(1)} ms`);

selectByCodingRate(texts, vectors, { maxSelected: 5 }); // warm-up: JIT-compile the inner loops
for (const k of [20, 50]) {
  const times: number[] = [];
  let last;
  for (let run = 0; run < RUNS; run++) {
    t = performance.now();
    last = selectByCodingRate(texts, vectors, { maxSelected: k });
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const r = last!;
  console.log(
    `select ${k} of ${N}: median ${times[RUNS >> 1].toFixed(1)} ms, best ${times[0].toFixed(1)} ms (${RUNS} runs); ` +
      `R = ${r.rates.at(-1)!.toFixed(3)} nats, gains ${r.gains[0].toFixed(3)} → ${r.gains.at(-1)!.toFixed(3)}, c = ${r.scale.toFixed(3)}, stopped: ${r.stopped}`,
  );
}
