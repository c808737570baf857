// Coding-rate (MCR²) selection of rubric criteria and the embedders it uses (src/rubric/{select,embed}.ts).
//
// Determinism, as documented in src/rubric/select.ts: the result is a pure function of (vectors, their
// order, options, seed). The seed only orders the scan that breaks ties; every unit-norm row ties on the
// first pick (gain ½·ln(1 + c)), so different seeds may start from a different criterion and so pick a
// different (equally diverse) set, while one seed gives the same picks, bit for bit, on every run.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EmbeddingError,
  EndpointEmbedder,
  LEXICAL_DIM,
  LexicalEmbedder,
  featureHash,
  lexicalTokens,
  makeEmbedder,
  normalized,
} from '../../src/rubric/embed.js';
import {
  codingRate,
  codingRateGain,
  codingRateScale,
  dedupeExact,
  DUPLICATE_GAIN,
  mulberry32,
  seededPermutation,
  selectByCodingRate,
  selectCriteria,
} from '../../src/rubric/select.js';

const CLUSTERS = [
  [
    'The car in the image is painted the requested red colour',
    'The car in the picture is painted in the red color that was requested',
    'The requested red colour is used to paint the car',
    'Car painted red, as the prompt requested',
  ],
  [
    'Any text rendered in the image is legible and spelled correctly',
    'Rendered text is legible and correctly spelled',
    'Text in the image is spelled correctly and easy to read',
    'The rendered text is legible, with correct spelling',
  ],
  [
    'Human hands show five fingers with natural anatomy',
    'Hands have five fingers and anatomically natural proportions',
    'Each human hand has five fingers and looks anatomically natural',
    'Natural hand anatomy with five fingers on each hand',
  ],
];
/** Interleaved so that input order alone does not separate the clusters. */
const TEXTS = [0, 1, 2, 3].flatMap((j) => CLUSTERS.map((c) => c[j]));
const clusterOf = (i: number) => i % 3;

const lexical = new LexicalEmbedder();
const dotp = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/** Gaussian rows from a seeded PRNG (Box–Muller). */
function randomRows(n: number, d: number, seed: number): Float32Array[] {
  const random = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Array.from({ length: n }, () => Float32Array.from({ length: d }, gauss));
}
/** L2-normalised in float64, as selectByCodingRate does it. */
function unit64(v: Float32Array): Float64Array {
  let sq = 0;
  for (const x of v) sq += x * x;
  const inv = 1 / Math.sqrt(sq);
  return Float64Array.from(v, (x) => x * inv);
}
const labels = (n: number) => Array.from({ length: n }, (_, i) => `criterion ${i}`);

describe('selectByCodingRate', () => {
  it('is deterministic: one seed gives identical picks, rates and gains on every run', async () => {
    const vectors = await lexical.embed(TEXTS);
    for (const seed of [0, 1, 7, 12345]) {
      const a = selectByCodingRate(TEXTS, vectors, { maxSelected: 8, seed });
      const b = selectByCodingRate(
        [...TEXTS],
        vectors.map((v) => Float32Array.from(v)),
        { maxSelected: 8, seed },
      );
      expect(b).toEqual(a);
      expect(Object.is(a.rates.at(-1), b.rates.at(-1))).toBe(true);
    }
    // The seed decides ties only: the first pick ties for unit rows, so seeds can start elsewhere.
    const firsts = new Set(
      Array.from({ length: 20 }, (_, seed) => selectByCodingRate(TEXTS, vectors, { maxSelected: 1, seed }).selected[0]),
    );
    expect(firsts.size).toBeGreaterThan(1);
    // Default seed is 0, and the picks for it are fixed (a change here changes every selection).
    expect(selectByCodingRate(TEXTS, vectors, { maxSelected: 6 })).toEqual(
      selectByCodingRate(TEXTS, vectors, { maxSelected: 6, seed: 0 }),
    );
    expect(selectByCodingRate(TEXTS, vectors, { maxSelected: 6 }).selected).toEqual([9, 5, 10, 7, 11, 6]);
  });

  it('fixes the tie-breaking PRNG and shuffle', () => {
    expect(mulberry32(0)()).toBe(0.26642920868471265);
    expect(seededPermutation(10, 0)).toEqual([3, 8, 6, 4, 5, 9, 7, 1, 0, 2]);
    expect([...seededPermutation(50, 99)].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('picks one criterion from each of 3 clusters of paraphrases before any second one (lexical embedder, any seed)', async () => {
    const vectors = await lexical.embed(TEXTS);
    for (let seed = 0; seed < 50; seed++) {
      const { selected } = selectByCodingRate(TEXTS, vectors, { maxSelected: 3, seed });
      expect(new Set(selected.map(clusterOf)).size, `seed ${seed}: ${selected}`).toBe(3);
    }
  });

  it('picks exact duplicates only after every distinct criterion, for less than ½·ln 2 each; minGain = DUPLICATE_GAIN skips them', async () => {
    const base = ['Colours match the prompt', 'Text is legible', 'No extra limbs'];
    const texts = [...base, ...base, ...base];
    const vectors = await lexical.embed(texts);
    const r = selectByCodingRate(texts, vectors, { maxSelected: 9 });
    expect(new Set(r.selected.slice(0, 3).map((i) => texts[i])).size).toBe(3);
    expect(Math.min(...r.gains.slice(0, 3))).toBeGreaterThan(1);
    expect(Math.max(...r.gains.slice(3))).toBeLessThan(DUPLICATE_GAIN);
    // One duplicate of a lone unit row x: ½·logdet(I + c·[[1,1],[1,1]]) − ½·ln(1 + c) = ½·ln((1+2c)/(1+c)).
    expect(r.gains[3]).toBeCloseTo(Math.log((1 + 2 * r.scale) / (1 + r.scale)) / 2, 6);
    const cut = selectByCodingRate(texts, vectors, { maxSelected: 9, minGain: DUPLICATE_GAIN });
    expect(cut.selected).toEqual(r.selected.slice(0, 3));
    expect(cut.stopped).toBe('minGain');
    expect(dedupeExact(texts).texts).toEqual(base);
  });

  it('respects maxSelected and minGain', async () => {
    const vectors = await lexical.embed(TEXTS);
    for (const maxSelected of [0, 1, 5, 12, 40]) {
      const r = selectByCodingRate(TEXTS, vectors, { maxSelected, minGain: 0 });
      expect(r.selected).toHaveLength(Math.min(maxSelected, TEXTS.length));
      expect(r.rates).toHaveLength(r.selected.length);
      expect(r.gains).toHaveLength(r.selected.length);
      expect(new Set(r.selected).size).toBe(r.selected.length);
      expect(r.stopped).toBe(maxSelected >= TEXTS.length ? 'exhausted' : 'maxSelected');
    }
    const all = selectByCodingRate(TEXTS, vectors, { maxSelected: 12, minGain: 0 });
    const threshold = (all.gains[4] + all.gains[5]) / 2; // between the 5th and 6th gains
    expect(all.gains[4]).toBeGreaterThan(all.gains[5]);
    const cut = selectByCodingRate(TEXTS, vectors, { maxSelected: 12, minGain: threshold });
    expect(cut.selected).toEqual(all.selected.slice(0, 5));
    expect(cut.stopped).toBe('minGain');
    expect(Math.min(...cut.gains)).toBeGreaterThanOrEqual(threshold);
    expect(selectByCodingRate(TEXTS, vectors, { maxSelected: 12, minGain: 100 }).selected).toEqual([]);
  });

  it('R rises monotonically along the picks, with shrinking gains (monotone submodular)', () => {
    for (const [n, d] of [
      [60, 16],
      [40, 8],
      [30, 128],
    ] as const) {
      const vectors = randomRows(n, d, n + d);
      const r = selectByCodingRate(labels(n), vectors, { maxSelected: n, minGain: 0 });
      expect(r.selected).toHaveLength(n);
      let previous = 0;
      r.rates.forEach((rate, i) => {
        expect(rate).toBeGreaterThanOrEqual(previous);
        expect(r.gains[i]).toBeGreaterThanOrEqual(0);
        if (i > 0) expect(r.gains[i]).toBeLessThanOrEqual(r.gains[i - 1] + 1e-12);
        previous = rate;
      });
    }
  });

  it('matches a direct recomputation of R and of the Schur-complement gain within 1e-9 on random vectors', () => {
    for (const [n, d, eps, seed] of [
      [40, 16, 0.5, 1],
      [25, 6, 0.5, 2],
      [50, 64, 0.1, 3],
      [30, 12, 1.5, 4],
    ] as const) {
      const raw = randomRows(n, d, seed);
      const rows = raw.map(unit64); // the selection normalises in float64; recompute on the same rows
      const r = selectByCodingRate(labels(n), raw, { maxSelected: 20, eps, minGain: 0, seed });
      const c = codingRateScale(d, n, eps);
      expect(r.scale).toBe(c);
      const chosen: Float64Array[] = [];
      r.selected.forEach((index, i) => {
        const before = codingRate(chosen, c);
        const identity = codingRateGain(chosen, rows[index], c);
        chosen.push(rows[index]);
        const after = codingRate(chosen, c);
        expect(Math.abs(r.rates[i] - after)).toBeLessThan(1e-9);
        expect(Math.abs(r.gains[i] - (after - before))).toBeLessThan(1e-9);
        expect(Math.abs(identity - (after - before))).toBeLessThan(1e-9);
      });
      // The picked gain is the largest: no other candidate would have gained more at any step.
      const picked = new Set<number>();
      const prefix: Float64Array[] = [];
      r.selected.forEach((index, i) => {
        for (let j = 0; j < n; j++)
          if (!picked.has(j)) expect(codingRateGain(prefix, rows[j], c)).toBeLessThanOrEqual(r.gains[i] + 1e-9);
        picked.add(index);
        prefix.push(rows[index]);
      });
      // Sylvester: the k×k Gram form equals ½·logdet(I_d + c·XᵀX) computed in d×d.
      const k = Math.min(chosen.length, 10);
      const gramD = new Float64Array(d * d);
      for (let a = 0; a < d; a++)
        for (let b = 0; b < d; b++)
          gramD[a * d + b] = (a === b ? 1 : 0) + c * chosen.slice(0, k).reduce((s, x) => s + x[a] * x[b], 0);
      const dRows = Array.from({ length: d }, (_, a) => gramD.subarray(a * d, (a + 1) * d));
      expect(Math.abs(logdetByGauss(dRows) / 2 - codingRate(chosen.slice(0, k), c))).toBeLessThan(1e-8);
    }
  });

  it('normalises rows (scale does not matter), leaves zero rows unpicked, and checks its input', () => {
    const vectors = randomRows(20, 8, 5);
    const scaled = vectors.map((v, i) => v.map((x) => x * (1 + i)));
    const a = selectByCodingRate(labels(20), vectors, { maxSelected: 10 });
    const b = selectByCodingRate(labels(20), scaled, { maxSelected: 10 });
    expect(b.selected).toEqual(a.selected);
    b.rates.forEach((rate, i) => expect(rate).toBeCloseTo(a.rates[i], 6));
    const withZero = [new Float32Array(8), ...vectors.slice(0, 3)];
    expect(selectByCodingRate(labels(4), withZero, { maxSelected: 4 }).selected).not.toContain(0);
    expect(selectByCodingRate([], [], { maxSelected: 3 })).toMatchObject({ selected: [], rates: [], gains: [] });
    expect(() => selectByCodingRate(labels(2), vectors.slice(0, 3), { maxSelected: 1 })).toThrow(
      /2 texts but 3 vectors/,
    );
    expect(() => selectByCodingRate(labels(2), [vectors[0], new Float32Array(3)], { maxSelected: 1 })).toThrow(
      /dimension/,
    );
    expect(() => selectByCodingRate(labels(1), [Float32Array.of(NaN, 1)], { maxSelected: 1 })).toThrow(/non-finite/);
    expect(() => selectByCodingRate(labels(1), vectors.slice(0, 1), { maxSelected: 1.5 })).toThrow(/maxSelected/);
  });
});

describe('dedupeExact and selectCriteria', () => {
  it('drops repeats up to case and whitespace, keeping the first occurrence', () => {
    const r = dedupeExact([
      'Text is legible',
      '  text   IS legible ',
      'Colours match',
      'text is\tlegible',
      'colours match.',
    ]);
    expect(r.texts).toEqual(['Text is legible', 'Colours match', 'colours match.']);
    expect(r.indices).toEqual([0, 2, 4]);
    expect(r.groupOf).toEqual([0, 0, 1, 0, 2]);
  });

  it('dedupes, embeds and selects, indexing the caller’s list', async () => {
    const texts = [...TEXTS, TEXTS[0].toUpperCase(), `  ${TEXTS[1]}  `];
    const r = await selectCriteria(texts, lexical, { maxSelected: 3 });
    expect(r.distinct).toBe(12);
    expect(r.embedder).toBe('lexical/1');
    expect(r.selected.every((i) => i < 12)).toBe(true);
    expect(r.texts).toEqual(r.selected.map((i) => texts[i]));
    expect(new Set(r.selected.map(clusterOf)).size).toBe(3);
  });
});

describe('LexicalEmbedder', () => {
  it('is stable: fixed hashes and a fixed vector for a fixed text', async () => {
    expect(featureHash('')).toBe(2872998923);
    expect(featureHash('w:image')).toBe(3921687248);
    const [v] = await lexical.embed(['The image should show exactly three red apples on a wooden table.']);
    expect(v).toHaveLength(LEXICAL_DIM);
    expect(
      createHash('sha256')
        .update(Buffer.from(v.buffer, v.byteOffset, v.byteLength))
        .digest('hex'),
    ).toBe('cabc65e18b6ca086f8e7a9ef192469c090192b2fe67884cda636e80abb056267');
    expect(dotp(v, v)).toBeCloseTo(1, 6);
    expect(lexical.id).toBe('lexical/1');
  });

  it('gives similar sentences a higher cosine than unrelated ones', async () => {
    const [a, b, c, d] = await lexical.embed([
      'The rendered text is legible and spelled correctly',
      'Text in the image is spelled correctly and easy to read',
      'Hands have five fingers and natural anatomy',
      'The lighting is consistent with a single sun from the left',
    ]);
    expect(dotp(a, b)).toBeGreaterThan(0.4);
    expect(dotp(a, b)).toBeGreaterThan(dotp(a, c) + 0.3);
    expect(dotp(a, b)).toBeGreaterThan(dotp(a, d) + 0.3);
    // Inflections overlap through character trigrams.
    const [x, y, z] = await lexical.embed([
      'the rendered colours are vivid',
      'the colour rendering is vivid',
      'fingers look natural',
    ]);
    expect(dotp(x, y)).toBeGreaterThan(0.4);
    expect(dotp(x, y)).toBeGreaterThan(dotp(x, z) + 0.3);
  });

  it('tokenises on letters and digits, drops function words unless nothing else is left, and embeds empty text as zero', async () => {
    expect(lexicalTokens('The Café’s 3 APPLES, in-frame!')).toEqual(['café', 's', '3', 'apples', 'frame']);
    expect(lexicalTokens('It is what it is')).toEqual(['what']);
    expect(lexicalTokens('it is')).toEqual(['it', 'is']);
    const [empty] = await lexical.embed(['  ...  ']);
    expect(dotp(empty, empty)).toBe(0);
  });
});

describe('EndpointEmbedder', () => {
  let server: Server;
  let baseUrl: string;
  const requests: { model: string; input: string[]; auth: string | undefined; format: unknown }[] = [];
  const failures = new Map<string, number>();
  /** A deterministic, unnormalised vector per text. */
  const vectorFor = (text: string) => [text.length, [...text].reduce((s, ch) => s + ch.charCodeAt(0), 0) % 97, 1, 2];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
          res.writeHead(status, { 'content-type': 'application/json', ...headers });
          res.end(JSON.stringify(body));
        };
        if (req.method !== 'POST' || req.url !== '/v1/embeddings')
          return reply(404, { error: { message: 'not found' } });
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          model: string;
          input: string[];
          encoding_format?: string;
        };
        requests.push({
          model: body.model,
          input: body.input,
          auth: req.headers.authorization,
          format: body.encoding_format,
        });
        const count = (failures.get(body.model) ?? 0) + 1;
        failures.set(body.model, count);
        if (body.model === 'locked') return reply(401, { error: { message: 'invalid api key', type: 'auth' } });
        if (body.model === 'busy-once' && count === 1)
          return reply(429, { error: { message: 'slow down' } }, { 'retry-after': '0' });
        if (body.model === 'down') return reply(503, { error: { message: 'overloaded' } });
        if (body.model === 'short') return reply(200, { object: 'list', data: [], model: body.model });
        // Data in reverse order: the client must place vectors by `index`.
        const data = body.input.map((t, index) => ({ object: 'embedding', index, embedding: vectorFor(t) })).reverse();
        reply(200, { object: 'list', data, model: body.model, usage: { prompt_tokens: 1, total_tokens: 1 } });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const embedder = (model: string, extra: Partial<ConstructorParameters<typeof EndpointEmbedder>[0]> = {}) =>
    new EndpointEmbedder({ baseUrl, apiKey: 'sk-test', model, retryBaseMs: 1, ...extra });
  const requestsFor = (model: string) => requests.filter((r) => r.model === model);

  it('embeds in batches, in input order, L2-normalised', async () => {
    const texts = ['alpha', 'beta', 'gamma delta', 'e', 'zeta eta theta'];
    const vectors = await embedder('ok', { batchSize: 2 }).embed(texts);
    expect(requestsFor('ok').map((r) => r.input)).toEqual([
      ['alpha', 'beta'],
      ['gamma delta', 'e'],
      ['zeta eta theta'],
    ]);
    expect(requestsFor('ok').every((r) => r.auth === 'Bearer sk-test' && r.format === 'float')).toBe(true);
    texts.forEach((t, i) => {
      const expected = normalized(vectorFor(t));
      expect(Array.from(vectors[i])).toEqual(Array.from(expected));
      expect(dotp(vectors[i], vectors[i])).toBeCloseTo(1, 6);
    });
    expect(embedder('ok').id).toBe('endpoint/ok');
  });

  it('retries a 429 and then succeeds', async () => {
    const [v] = await embedder('busy-once').embed(['hello']);
    expect(Array.from(v)).toEqual(Array.from(normalized(vectorFor('hello'))));
    expect(requestsFor('busy-once')).toHaveLength(2);
  });

  it('fails clearly on 401 without retrying, naming the URL and model', async () => {
    const error = await embedder('locked')
      .embed(['hello'])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddingError);
    expect((error as Error).message).toContain(`${baseUrl}/embeddings`);
    expect((error as Error).message).toContain('model locked');
    expect((error as Error).message).toMatch(/HTTP 401/);
    expect((error as Error).message).not.toContain('sk-test');
    expect(requestsFor('locked')).toHaveLength(1);
  });

  it('gives up after 3 retries on 5xx, and rejects short answers', async () => {
    await expect(embedder('down').embed(['x'])).rejects.toThrow(/model down\) failed after 4 tries \(HTTP 503\)/);
    expect(requestsFor('down')).toHaveLength(4);
    await expect(embedder('short').embed(['x', 'y'])).rejects.toThrow(/returned 0 embeddings for 2 inputs/);
  });

  it('reports an unreachable endpoint by URL', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const dead = new EndpointEmbedder({
      baseUrl: `http://127.0.0.1:${port}/v1`,
      model: 'm',
      retries: 1,
      retryBaseMs: 1,
    });
    await expect(dead.embed(['x'])).rejects.toThrow(
      new RegExp(`127\\.0\\.0\\.1:${port}/v1/embeddings \\(model m\\) could not be reached after 2 tries`),
    );
  });
});

describe('makeEmbedder', () => {
  it('builds lexical and endpoint embedders; the onnx one is made from the preprocess encoders', () => {
    expect(makeEmbedder('lexical', {}).id).toBe('lexical/1');
    expect(makeEmbedder('endpoint', { baseUrl: 'http://127.0.0.1:1/v1', model: 'qwen3-embedding' }).id).toBe(
      'endpoint/qwen3-embedding',
    );
    expect(() => makeEmbedder('endpoint', { baseUrl: 'http://127.0.0.1:1/v1' })).toThrow(
      /needs a base URL .* and an embedding model/,
    );
    expect(() => makeEmbedder('onnx', {})).toThrow(
      "the ONNX embedder is made from the experiment's preprocess encoders",
    );
  });
});

/** logdet of a small SPD matrix by Gaussian elimination with partial pivoting (independent of the Cholesky code). */
function logdetByGauss(rows: ArrayLike<number>[]): number {
  const n = rows.length;
  const a = rows.map((r) => Array.from(r));
  let sum = 0;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
    [a[col], a[pivot]] = [a[pivot], a[col]];
    sum += Math.log(Math.abs(a[col][col]));
    for (let r = col + 1; r < n; r++) {
      const f = a[r][col] / a[col][col];
      for (let k = col; k < n; k++) a[r][k] -= f * a[col][k];
    }
  }
  return sum;
}
