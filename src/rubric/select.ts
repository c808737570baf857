// Coding-rate (MCR²) selection of rubric criteria: a seeded, deterministic, exact greedy maximisation.
//
// THE CODING RATE. For a set S of k criteria whose embeddings are the rows of X_S (k × d, each row
// L2-normalised), and n candidates in all,
//
//     R(S) = ½ · logdet( I_d + c · X_Sᵀ X_S ),        c = d / (n · ε²)        (ε = 0.5 by default)
//
// which is the standard MCR² rate (Yu et al. 2020, "Learning Diverse and Discriminative Representations
// via the Principle of Maximal Coding Rate Reduction"): the number of nats needed to code the rows up to
// distortion ε. By Sylvester's determinant identity det(I_d + c XᵀX) = det(I_k + c X Xᵀ), so R is
// computed on the k × k Gram matrix G = I_k + c · X_S X_Sᵀ, which is symmetric positive definite:
// with its Cholesky factor G = L Lᵀ, R(S) = Σᵢ ln Lᵢᵢ. Here k ≤ a few hundred, so this is cheap.
//
// n is the number of candidates and stays fixed during a selection: c is then a constant, and
// S ↦ R(S) is monotone (adding a row never lowers it) and submodular (gains only shrink as S grows),
// so greedy forward selection carries the usual (1 − 1/e) guarantee. A row orthogonal to the selected
// ones adds ½·ln(1 + c); a paraphrase (a row mostly inside their span) adds less; an exact duplicate of
// a lone selected row adds ½·ln((1 + 2c)/(1 + c)) < ½·ln 2 ≈ 0.35 nats. Not zero: MCR² counts mass
// along a direction, logarithmically. So repeats come last, after every new direction; `dedupeExact`
// removes exact repeats beforehand, and minGain = DUPLICATE_GAIN (½·ln 2) stops the selection before a
// pick that adds no more than repeating a selected criterion would.
//
// HOW THIS DIFFERS FROM THE REFERENCE (docs/architecture.md, "Criterion selection"):
//   - The reference computes Σ_{i≤k} ln(1 + sᵢ² / (ε² · m) + 1e-8) over the singular values sᵢ of the
//     m evaluated rows: it drops the d in c = d/(n ε²) (with ε = 0.1), keeps only the top singular
//     values holding 95% of the energy (the rest of the spectrum is lost, so R can fall as rows are
//     added), and m is the size of the subset, so the scale changes with every evaluation.
//   - It evaluates R on a random 50-row sample when there are more than 50 rows, and samples the
//     candidates it looks at (≤ 50, or 30% of them): the result changes from run to run.
//   - With its pipeline batch size 10 it picks by a distance-to-centroid heuristic, not by the rate.
//   - It reduces the 2560-d Qwen3-Embedding-4B vectors to ≤ 100 dims by PCA first.
// Here every remaining candidate's gain is evaluated exactly at every step, there is no sampling, no
// spectrum truncation and no PCA, and the only randomness is a seeded shuffle that breaks ties.
//
// THE GAIN. Adding a candidate x (a unit row) to S grows G by one row and column; by the Schur
// complement,
//
//     R(S ∪ {x}) − R(S) = ½ · ln( 1 + c·xᵀx − c² · (X_S x)ᵀ G⁻¹ (X_S x) )
//
// and with w = L⁻¹ (c · X_S x) the argument is s = 1 + c·xᵀx − wᵀw, the new diagonal entry of L
// squared. Rather than solving for w afresh (O(k²) per candidate per step), each candidate keeps its w
// and s and, when the pick p (with row w_p and δ = √s_p) joins S, appends one entry:
//
//     e = (c · x_pᵀ x − w_pᵀ w) / δ,      w ← [w, e],      s ← s − e²
//
// (the incremental Cholesky of greedy DPP MAP inference, Chen, Zhang & Zhou 2018). A step then costs
// O(n · (d + k)) and selecting K of n costs O(n · K · (d + K)): about 15 M multiply-adds for 50 of 500
// 512-d criteria. s ≥ 1 holds exactly (it is 1 + c·xᵀ(I + c X_SᵀX_S)⁻¹x, by Woodbury); rounding can
// take it a hair below 1, so gains are computed from max(s, 1).
//
// TIES. Candidates are scanned in an order fixed by a seeded Fisher–Yates shuffle (mulberry32, seed 0
// by default) and the first candidate whose s exceeds the best so far by more than 1e-9 wins. So the
// result is a pure function of (vectors, their order, options, seed), identical on every machine (IEEE
// arithmetic in a fixed order; comparisons use s, not its logarithm). All unit rows tie on the first
// pick (s = 1 + c), so the seed chooses the first criterion; later picks are ties only between
// duplicates or symmetric configurations.
//
// The pick order matters to a caller that keeps a fixed number of criteria, so `rates` (R after each
// pick) and `gains` come back too: callers can show or cut the curve.
import { mulberry32 } from '../util/random.js';
import type { Embedder } from './embed.js';

export { mulberry32 };

export interface SelectOptions {
  /** Most criteria to select. */
  maxSelected: number;
  /** Distortion ε of the coding rate (default 0.5). */
  eps?: number;
  /** Stop when the best remaining gain (in nats) is below this (default 1e-6; see DUPLICATE_GAIN). */
  minGain?: number;
  /** Seed of the tie-breaking shuffle (default 0). */
  seed?: number;
  /** L2-normalise the rows first (default true; zero rows stay zero and never gain). */
  normalize?: boolean;
}

export interface SelectResult {
  /** Indices into the input, in pick order. */
  selected: number[];
  /** R(S) after each pick, in nats: rates[i] = R(selected[0..i]). Non-decreasing. */
  rates: number[];
  /** R gain of each pick, in nats: gains[i] = rates[i] − rates[i−1] (rates[−1] = 0). Non-increasing up to rounding (R is submodular). */
  gains: number[];
  /** The scale c = d / (n · ε²) used. */
  scale: number;
  /** Why the selection ended. */
  stopped: 'maxSelected' | 'minGain' | 'exhausted';
}

export const DEFAULT_EPS = 0.5;
/** Default minGain: stops only on (numerically) zero gains, such as zero rows. */
export const DEFAULT_MIN_GAIN = 1e-6;
/** ½·ln 2: the most that repeating a selected criterion can add; a useful minGain. */
export const DUPLICATE_GAIN = Math.log(2) / 2;
/** Two Schur complements closer than this are a tie, decided by the seeded order. */
const TIE = 1e-9;

/** c = d / (n · ε²): the scale of X_Sᵀ X_S in R for d-dimensional rows and n candidates. */
export function codingRateScale(d: number, n: number, eps = DEFAULT_EPS): number {
  if (!(d > 0 && n > 0 && eps > 0))
    throw new RangeError(`coding rate scale needs d, n, eps > 0 (got d=${d}, n=${n}, eps=${eps})`);
  return d / (n * eps * eps);
}

/**
 * R = ½ · logdet(I_k + scale · X Xᵀ) for the rows X, by a Cholesky factorisation of the k × k Gram
 * matrix (equal to ½ · logdet(I_d + scale · XᵀX) by Sylvester's identity). Rows are used as given.
 */
export function codingRate(rows: ArrayLike<number>[], scale: number): number {
  return choleskyLogDet(gram(rows, scale), rows.length) / 2;
}

/** I_k + scale · X Xᵀ, row-major k × k. */
function gram(rows: ArrayLike<number>[], scale: number): Float64Array {
  const k = rows.length;
  const g = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      const v = (i === j ? 1 : 0) + scale * dot(rows[i], rows[j]);
      g[i * k + j] = v;
      g[j * k + i] = v;
    }
  }
  return g;
}

/**
 * The gain R(S ∪ {x}) − R(S) by the Schur-complement identity
 * ½ · ln(1 + c·xᵀx − c² · vᵀ (I + c X_S X_Sᵀ)⁻¹ v) with v = X_S x, solving with the Cholesky factor of
 * the Gram matrix (O(k³) to factor, O(k²) per solve). For checking the incremental selection.
 */
export function codingRateGain(rows: ArrayLike<number>[], x: ArrayLike<number>, scale: number): number {
  const k = rows.length;
  const g = gram(rows, scale);
  cholesky(g, k);
  // Forward substitution L w = c · X_S x; then vᵀ G⁻¹ v · c² = wᵀw.
  const w = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let sum = scale * dot(rows[i], x);
    for (let j = 0; j < i; j++) sum -= g[i * k + j] * w[j];
    w[i] = sum / g[i * k + i];
  }
  let ww = 0;
  for (let i = 0; i < k; i++) ww += w[i] * w[i];
  return Math.log(Math.max(1, 1 + scale * dot(x, x) - ww)) / 2;
}

/**
 * Greedy forward selection of the rows that maximise the coding rate R (see the head of this file):
 * each step adds the remaining candidate with the largest exact gain, until `maxSelected` are picked,
 * the best gain is below `minGain`, or no candidate is left. Deterministic for a given input order and
 * seed. `texts` only fixes n and is checked against `vectors`; pass `dedupeExact`'s output to keep
 * exact repeats out of n.
 */
export function selectByCodingRate(texts: string[], vectors: Float32Array[], opts: SelectOptions): SelectResult {
  const n = vectors.length;
  if (texts.length !== n) throw new RangeError(`selectByCodingRate: ${texts.length} texts but ${n} vectors`);
  const eps = opts.eps ?? DEFAULT_EPS;
  const minGain = opts.minGain ?? DEFAULT_MIN_GAIN;
  const seed = opts.seed ?? 0;
  if (!(eps > 0) || !Number.isFinite(eps))
    throw new RangeError(`selectByCodingRate: eps must be a positive number (got ${eps})`);
  if (!Number.isFinite(minGain)) throw new RangeError(`selectByCodingRate: minGain must be a number (got ${minGain})`);
  if (!Number.isInteger(opts.maxSelected) || opts.maxSelected < 0) {
    throw new RangeError(`selectByCodingRate: maxSelected must be a non-negative integer (got ${opts.maxSelected})`);
  }
  if (!Number.isSafeInteger(seed)) throw new RangeError(`selectByCodingRate: seed must be an integer (got ${seed})`);
  const d = n > 0 ? vectors[0].length : 1;
  const result: SelectResult = {
    selected: [],
    rates: [],
    gains: [],
    scale: n > 0 ? codingRateScale(d, n, eps) : 0,
    stopped: 'exhausted',
  };
  if (n === 0) return result;
  if (d === 0) throw new RangeError('selectByCodingRate: vectors are empty');
  const c = result.scale;

  // Rows as float64, normalised unless told otherwise.
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const v = vectors[i];
    if (v.length !== d)
      throw new RangeError(`selectByCodingRate: vector ${i} has dimension ${v.length}, vector 0 has ${d}`);
    let sq = 0;
    for (let j = 0; j < d; j++) {
      if (!Number.isFinite(v[j])) throw new RangeError(`selectByCodingRate: vector ${i} has a non-finite entry`);
      sq += v[j] * v[j];
    }
    const inv = opts.normalize === false || sq === 0 ? 1 : 1 / Math.sqrt(sq);
    for (let j = 0; j < d; j++) x[i * d + j] = v[j] * inv;
  }

  const kMax = Math.min(opts.maxSelected, n);
  const order = seededPermutation(n, seed); // scan order, decides ties
  const w = new Float64Array(n * Math.max(1, kMax)); // row i: w_i (first k entries used)
  const s = new Float64Array(n); // Schur complements: s_i = 1 + c·x_iᵀx_i − ‖w_i‖²
  for (let i = 0; i < n; i++) {
    let sq = 0;
    for (let j = 0; j < d; j++) sq += x[i * d + j] * x[i * d + j];
    s[i] = 1 + c * sq;
  }
  const remaining = new Uint8Array(n).fill(1);
  let rate = 0;

  for (let k = 0; ; k++) {
    if (k >= kMax) {
      result.stopped = k >= n ? 'exhausted' : 'maxSelected';
      break;
    }
    let best = -1;
    for (const i of order) {
      if (remaining[i] && (best < 0 || s[i] > s[best] + TIE)) best = i;
    }
    if (best < 0) break;
    const gain = Math.log(Math.max(1, s[best])) / 2;
    if (gain < minGain) {
      result.stopped = 'minGain';
      break;
    }
    remaining[best] = 0;
    rate += gain;
    result.selected.push(best);
    result.gains.push(gain);
    result.rates.push(rate);
    if (k + 1 >= kMax) continue; // no later pick needs the update

    // Append one Cholesky entry to every remaining candidate's w and shrink its s.
    const delta = Math.sqrt(Math.max(1, s[best]));
    const pRow = best * d;
    const pW = best * kMax;
    for (let i = 0; i < n; i++) {
      if (!remaining[i]) continue;
      let xx = 0;
      const iRow = i * d;
      for (let j = 0; j < d; j++) xx += x[pRow + j] * x[iRow + j];
      let ww = 0;
      const iW = i * kMax;
      for (let j = 0; j < k; j++) ww += w[pW + j] * w[iW + j];
      const e = (c * xx - ww) / delta;
      w[iW + k] = e;
      s[i] -= e * e;
    }
  }
  return result;
}

export interface DedupeResult {
  /** The first occurrence of each distinct text, as written there, in input order. */
  texts: string[];
  /** indices[i]: the input index of texts[i]. */
  indices: number[];
  /** groupOf[j]: the position in `texts` of input j's distinct text. */
  groupOf: number[];
}

/** The key under which texts count as the same: NFKC, lower case, whitespace runs collapsed, trimmed. */
export function normalizeCriterion(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

/** Drops texts that repeat an earlier one up to case and whitespace ({@link normalizeCriterion}); keeps the first. */
export function dedupeExact(texts: string[]): DedupeResult {
  const seen = new Map<string, number>();
  const out: DedupeResult = { texts: [], indices: [], groupOf: [] };
  texts.forEach((text, j) => {
    const key = normalizeCriterion(text);
    let group = seen.get(key);
    if (group === undefined) {
      group = out.texts.length;
      seen.set(key, group);
      out.texts.push(text);
      out.indices.push(j);
    }
    out.groupOf.push(group);
  });
  return out;
}

export interface CriteriaSelection extends SelectResult {
  /** The selected texts, in pick order (`selected` holds their indices into the caller's list). */
  texts: string[];
  /** Texts left after exact dedupe (the n of the coding rate). */
  distinct: number;
  /** The embedder's id, for cache keys and reports. */
  embedder: string;
}

/**
 * The whole step: exact dedupe, embed the distinct texts, select by coding rate. `selected` indexes
 * the caller's `texts` (first occurrences).
 */
export async function selectCriteria(
  texts: string[],
  embedder: Embedder,
  opts: SelectOptions,
): Promise<CriteriaSelection> {
  const unique = dedupeExact(texts);
  const vectors = unique.texts.length > 0 ? await embedder.embed(unique.texts) : [];
  if (vectors.length !== unique.texts.length)
    throw new Error(`embedder ${embedder.id} returned ${vectors.length} vectors for ${unique.texts.length} texts`);
  const result = selectByCodingRate(unique.texts, vectors, opts);
  return {
    ...result,
    selected: result.selected.map((i) => unique.indices[i]),
    texts: result.selected.map((i) => unique.texts[i]),
    distinct: unique.texts.length,
    embedder: embedder.id,
  };
}

/** 0…n−1 shuffled by Fisher–Yates (from the end) with mulberry32(seed). */
export function seededPermutation(n: number, seed: number): number[] {
  const random = mulberry32(seed);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`dimension mismatch: ${a.length} vs ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

/** In-place lower Cholesky factor of the k × k SPD matrix a (row-major); throws if a is not SPD. */
function cholesky(a: Float64Array, k: number): void {
  for (let j = 0; j < k; j++) {
    let diag = a[j * k + j];
    for (let m = 0; m < j; m++) diag -= a[j * k + m] * a[j * k + m];
    if (!(diag > 0)) throw new RangeError('Cholesky: matrix is not positive definite');
    const ljj = Math.sqrt(diag);
    a[j * k + j] = ljj;
    for (let i = j + 1; i < k; i++) {
      let sum = a[i * k + j];
      for (let m = 0; m < j; m++) sum -= a[i * k + m] * a[j * k + m];
      a[i * k + j] = sum / ljj;
    }
    for (let i = 0; i < j; i++) a[i * k + j] = 0;
  }
}

/** logdet of the SPD matrix a = 2 · Σ ln Lᵢᵢ (a is overwritten by its factor). */
function choleskyLogDet(a: Float64Array, k: number): number {
  cholesky(a, k);
  let sum = 0;
  for (let i = 0; i < k; i++) sum += Math.log(a[i * k + i]);
  return 2 * sum;
}
