// Text-to-image pairs: a prompt, the scene it describes, and a scene with one deliberate defect.
import { type Color, COLOR_NAMES, NUM_WORDS, type Shape, T2I_SHAPES, W } from './constants.js';
import { Rng } from './rng.js';
import { baseRadius, FULL, makeBackground, type Obj, placeInRegion, type Region, type Scene } from './scene.js';

export type Relation = 'left' | 'right' | 'above' | 'below';
export const REL_TEXT: Record<Relation, string> = {
  left: 'to the left of',
  right: 'to the right of',
  above: 'above',
  below: 'below',
};
export const REL_SWAP: Record<Relation, Relation> = { left: 'right', right: 'left', above: 'below', below: 'above' };

export interface Group {
  n: number;
  color: Color;
  shape: Shape;
}

export interface T2ISpec {
  groups: Group[];
  /** Relation of group 0 relative to group 1. */
  relation?: Relation;
  white: boolean;
}

export type T2ICategory = 'count' | 'pair' | 'position' | 'count_position' | 'multi_count';
export const T2I_CATEGORIES: T2ICategory[] = ['count', 'position', 'pair', 'count_position', 'multi_count'];

export function plural(shape: Shape, n: number): string {
  return n === 1 ? shape : `${shape}s`;
}

/** "a" or "an" for the following word. */
export function indef(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

export function groupPhrase(g: Group, article: 'a' | 'num'): string {
  if (article === 'a' && g.n === 1) return `${indef(g.color)} ${g.color} ${g.shape}`;
  return `${NUM_WORDS[g.n]} ${g.color} ${plural(g.shape, g.n)}`;
}

export function t2iPrompt(spec: T2ISpec, cat: T2ICategory): string {
  const [g0, g1] = spec.groups;
  switch (cat) {
    case 'count':
      return `${groupPhrase(g0, 'num')} on a white background`;
    case 'pair':
      return `${groupPhrase(g0, 'a')} and ${groupPhrase(g1, 'a')}`;
    case 'position':
      return `${groupPhrase(g0, 'a')} ${REL_TEXT[spec.relation!]} ${groupPhrase(g1, 'a')}`;
    case 'count_position':
      return `${groupPhrase(g0, 'num')} ${REL_TEXT[spec.relation!]} ${groupPhrase(g1, 'num')}`;
    case 'multi_count':
      return `${groupPhrase(g0, 'num')} and ${groupPhrase(g1, 'num')}${spec.white ? ' on a white background' : ''}`;
  }
}

export function distinctGroups(rng: Rng, k: number): Group[] {
  const colors = rng.shuffle(COLOR_NAMES).slice(0, k);
  const shapes = rng.shuffle(T2I_SHAPES).slice(0, k);
  return colors.map((color, i) => ({ n: 1, color, shape: shapes[i] }));
}

export function makeT2ISpec(rng: Rng, cat: T2ICategory): T2ISpec {
  switch (cat) {
    case 'count': {
      const [g] = distinctGroups(rng, 1);
      g.n = rng.int(2, 5);
      return { groups: [g], white: true };
    }
    case 'pair':
      return { groups: distinctGroups(rng, 2), white: false };
    case 'position':
      return {
        groups: distinctGroups(rng, 2),
        relation: rng.pick(['left', 'right', 'above', 'below'] as const),
        white: false,
      };
    case 'count_position': {
      const gs = distinctGroups(rng, 2);
      gs[0].n = rng.int(1, 3);
      gs[1].n = gs[0].n === 1 ? rng.int(2, 3) : rng.int(1, 3);
      return { groups: gs, relation: rng.pick(['left', 'right', 'above', 'below'] as const), white: false };
    }
    case 'multi_count': {
      const gs = distinctGroups(rng, 2);
      gs[0].n = rng.int(2, 3);
      gs[1].n = rng.int(1, 3);
      return { groups: gs, white: rng.next() < 0.5 };
    }
  }
}

export type T2IMiss =
  | 'wrong_count'
  | 'wrong_color'
  | 'swapped_positions'
  | 'missing_object'
  | 'swapped_colors'
  | 'one_off_color';

export const T2I_MISSES: Record<T2ICategory, T2IMiss[]> = {
  count: ['wrong_count', 'wrong_count', 'one_off_color'],
  pair: ['swapped_colors', 'missing_object', 'wrong_color'],
  position: ['swapped_positions', 'swapped_positions', 'wrong_color', 'missing_object'],
  count_position: ['swapped_positions', 'wrong_count', 'missing_object'],
  multi_count: ['wrong_count', 'missing_object', 'wrong_color'],
};

export function cloneSpec(s: T2ISpec): T2ISpec {
  return { ...s, groups: s.groups.map((g) => ({ ...g })) };
}

/** A T2I spec describing what the near-miss image shows, plus per-object colour overrides. */
export interface MissSpec {
  spec: T2ISpec;
  /** Optional: recolour one object of group 0 (the "one off" miss). */
  oneOffColor?: Color;
}

export function applyT2IMiss(rng: Rng, spec: T2ISpec, miss: T2IMiss): MissSpec {
  const s = cloneSpec(spec);
  const used = new Set(s.groups.map((g) => g.color));
  const otherColor = (): Color => rng.pick(COLOR_NAMES.filter((c) => !used.has(c)));
  switch (miss) {
    case 'wrong_count': {
      const gi = rng.int(0, s.groups.length - 1);
      const g = s.groups[gi];
      const options = [g.n - 1, g.n + 1].filter((n) => n >= 1 && n <= 5);
      g.n = rng.pick(options);
      return { spec: s };
    }
    case 'wrong_color': {
      const gi = rng.int(0, s.groups.length - 1);
      s.groups[gi].color = otherColor();
      return { spec: s };
    }
    case 'one_off_color':
      return { spec: s, oneOffColor: otherColor() };
    case 'swapped_positions':
      s.relation = REL_SWAP[s.relation!];
      return { spec: s };
    case 'missing_object': {
      const gi = rng.int(0, s.groups.length - 1);
      s.groups.splice(gi, 1);
      s.relation = undefined;
      return { spec: s };
    }
    case 'swapped_colors': {
      const [a, b] = s.groups;
      [a.color, b.color] = [b.color, a.color];
      return { spec: s };
    }
  }
}

/** Lay out a T2I spec as a concrete scene. Relations constrain groups to opposite halves. */
export function layoutT2I(rng: Rng, spec: T2ISpec, oneOffColor?: Color): Scene {
  const bg = makeBackground(rng, spec.white);
  const total = spec.groups.reduce((a, g) => a + g.n, 0);
  const r0 = baseRadius(rng, total);
  const objects: Obj[] = [];
  const regions: Region[] = [];
  if (spec.relation && spec.groups.length === 2) {
    const gap = 14;
    const half = W / 2;
    const [g0, g1] = spec.groups;
    // Single objects in a relation stay roughly on one line so the relation reads clearly.
    const single = g0.n === 1 && g1.n === 1;
    const band = single ? { lo: half - 70, hi: half + 70 } : { lo: 0, hi: W };
    const first: Region =
      spec.relation === 'left' || spec.relation === 'right'
        ? { x0: 0, x1: half - gap, y0: band.lo, y1: band.hi }
        : { x0: band.lo, x1: band.hi, y0: 0, y1: half - gap };
    const second: Region =
      spec.relation === 'left' || spec.relation === 'right'
        ? { x0: half + gap, x1: W, y0: band.lo, y1: band.hi }
        : { x0: band.lo, x1: band.hi, y0: half + gap, y1: W };
    // group 0 is left/above group 1 when relation is left/above
    if (spec.relation === 'left' || spec.relation === 'above') regions.push(first, second);
    else regions.push(second, first);
  } else {
    for (let i = 0; i < spec.groups.length; i++) regions.push(FULL);
  }
  const taken: { x: number; y: number; r: number }[] = [];
  spec.groups.forEach((g, gi) => {
    const pts = placeInRegion(rng, g.n, r0 * 1.08, regions[gi], taken);
    pts.forEach((p) => {
      const o: Obj = {
        shape: g.shape,
        color: g.color,
        x: p.x,
        y: p.y,
        r: r0 * rng.range(0.92, 1.08),
        rot: g.shape === 'circle' ? 0 : rng.range(-7, 7),
      };
      objects.push(o);
      taken.push({ x: o.x, y: o.y, r: o.r });
    });
  });
  if (oneOffColor) {
    const idx = rng.int(0, spec.groups[0].n - 1);
    objects[idx].color = oneOffColor;
  }
  return { bg, objects };
}
