// Seeded randomness: every record and image draws from its own stream, keyed by a string.
import { mulberry32 } from '../../src/util/random.js';

export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class Rng {
  /** Uniform in [0, 1). */
  readonly next: () => number;
  constructor(seed: string | number) {
    this.next = mulberry32(typeof seed === 'number' ? seed >>> 0 : hashString(`arr-examples/v1/${seed}`));
  }
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  int(lo: number, hiInclusive: number): number {
    return lo + Math.floor(this.next() * (hiInclusive - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('pick from empty list');
    return xs[Math.floor(this.next() * xs.length)];
  }
  shuffle<T>(xs: readonly T[]): T[] {
    const a = xs.slice();
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }
}

/** Exactly floor(n/2) or ceil(n/2) `true`s (preferred-first), order shuffled by the seeded PRNG. */
export function balancedFlags(n: number, key: string): boolean[] {
  const rng = new Rng(`flags/${key}`);
  const nTrue = rng.next() < 0.5 ? Math.floor(n / 2) : Math.ceil(n / 2);
  const flags = Array.from({ length: n }, (_, i) => i < nTrue);
  return rng.shuffle(flags);
}
