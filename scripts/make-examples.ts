/**
 * Deterministic generator for the toy judge datasets under examples/.
 *
 *   npx tsx scripts/make-examples.ts           # (re)write examples/t2i and examples/edit
 *   npx tsx scripts/make-examples.ts --check   # regenerate into a temp dir, exit 1 on any byte difference
 *
 * Every image is a shapes-only SVG (no text, so no system fonts are involved) rasterised by sharp
 * (librsvg) and encoded as PNG with fixed options. All variation comes from a seeded PRNG keyed by
 * a string, so each record/image has its own independent stream and adding records does not shift
 * the others. No timestamps, no Math.random.
 *
 * The preferred image is right by construction: it is rendered from exactly the scene the text
 * describes, while the other candidate is rendered from a scene with one deliberate defect
 * (wrong count / colour / position, missing object, edit not done, edit plus collateral damage).
 */
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';

// ---------------------------------------------------------------------------------------------
// Constants

export const IMAGE_SIZE = 384;
const W = IMAGE_SIZE;

/** Record counts. */
export const COUNTS = {
  t2iSeed: 14,
  t2iTest: 28,
  t2iPrompts: 40,
  editSeedSources: 7, // 2 instructions each -> 14 records
  editTestSources: 14, // 2 instructions each -> 28 records
  editsPerSource: 2,
  editTrain: 20,
} as const;

const PNG_OPTIONS = {
  compressionLevel: 9,
  adaptiveFiltering: false,
  palette: false,
  progressive: false,
  force: true,
} as const;

const COLORS = {
  red: '#d62728',
  blue: '#1f5fd6',
  green: '#2ca02c',
  yellow: '#f2c81b',
  purple: '#8e44ad',
  orange: '#f57f0e',
} as const;
type Color = keyof typeof COLORS;
const COLOR_NAMES = Object.keys(COLORS) as Color[];

const SHAPES = ['circle', 'square', 'triangle', 'star'] as const;
type Shape = (typeof SHAPES)[number];
/** Shapes used in text-to-image prompts. */
const T2I_SHAPES: readonly Shape[] = ['circle', 'square', 'triangle', 'star'];

const NUM_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five'];

// ---------------------------------------------------------------------------------------------
// Seeded PRNG (FNV-1a string hash -> mulberry32)

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class Rng {
  private state: number;
  constructor(seed: string | number) {
    this.state = typeof seed === 'number' ? seed >>> 0 : hashString(`arr-examples/v1/${seed}`);
  }
  /** Uniform in [0, 1). mulberry32. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
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
function balancedFlags(n: number, key: string): boolean[] {
  const rng = new Rng(`flags/${key}`);
  const nTrue = rng.next() < 0.5 ? Math.floor(n / 2) : Math.ceil(n / 2);
  const flags = Array.from({ length: n }, (_, i) => i < nTrue);
  return rng.shuffle(flags);
}

// ---------------------------------------------------------------------------------------------
// Scene model and SVG rendering

interface Obj {
  shape: Shape;
  color: Color;
  x: number;
  y: number;
  /** Half-extent in px. */
  r: number;
  /** Degrees. */
  rot: number;
}

interface Background {
  c1: string;
  c2: string;
  /** Gradient direction in degrees. */
  angle: number;
}

interface Scene {
  bg: Background;
  objects: Obj[];
}

const fmt = (n: number): string => {
  const s = n.toFixed(1);
  return s.endsWith('.0') ? s.slice(0, -2) : s;
};

function hslToHex(h: number, s: number, l: number): string {
  // h in degrees, s/l in [0,1]
  const a = s * Math.min(l, 1 - l);
  const f = (n: number): number => {
    const k = (n + h / 30) % 12;
    const c = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(255 * c);
  };
  return `#${[f(0), f(8), f(4)].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

function darken(hex: string, amount: number): string {
  const n = parseInt(hex.slice(1), 16);
  const ch = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => Math.round(v * (1 - amount)));
  return `#${ch.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

function makeBackground(rng: Rng, white: boolean): Background {
  const hue = rng.range(0, 360);
  const hue2 = hue + rng.range(-25, 25);
  const sat = white ? rng.range(0.0, 0.12) : rng.range(0.2, 0.38);
  const l1 = white ? rng.range(0.975, 0.995) : rng.range(0.9, 0.94);
  const l2 = white ? rng.range(0.95, 0.975) : rng.range(0.86, 0.9);
  return {
    c1: hslToHex(hue, sat, l1),
    c2: hslToHex(hue2, sat, l2),
    angle: rng.range(0, 360),
  };
}

function shapeSvg(o: Obj): string {
  const fill = COLORS[o.color];
  const stroke = darken(fill, 0.28);
  const common = `fill="${fill}" stroke="${stroke}" stroke-width="2.5" stroke-linejoin="round"`;
  const tf = o.rot !== 0 ? ` transform="rotate(${fmt(o.rot)} ${fmt(o.x)} ${fmt(o.y)})"` : '';
  switch (o.shape) {
    case 'circle':
      return `<circle cx="${fmt(o.x)}" cy="${fmt(o.y)}" r="${fmt(o.r)}" ${common}/>`;
    case 'square': {
      const s = o.r * 0.9;
      return `<rect x="${fmt(o.x - s)}" y="${fmt(o.y - s)}" width="${fmt(2 * s)}" height="${fmt(2 * s)}" ${common}${tf}/>`;
    }
    case 'triangle': {
      // Equilateral, pointing up; circumradius slightly larger than r so the area matches.
      const R = o.r * 1.18;
      const cy = o.y + R * 0.12;
      const pts = [0, 120, 240].map((deg) => {
        const a = ((deg - 90) * Math.PI) / 180;
        return `${fmt(o.x + R * Math.cos(a))},${fmt(cy + R * Math.sin(a))}`;
      });
      return `<polygon points="${pts.join(' ')}" ${common}${tf}/>`;
    }
    case 'star': {
      const R = o.r * 1.15;
      const rIn = R * 0.45;
      const pts: string[] = [];
      for (let i = 0; i < 10; i++) {
        const rad = i % 2 === 0 ? R : rIn;
        const a = ((i * 36 - 90) * Math.PI) / 180;
        pts.push(`${fmt(o.x + rad * Math.cos(a))},${fmt(o.y + R * 0.06 + rad * Math.sin(a))}`);
      }
      return `<polygon points="${pts.join(' ')}" ${common}${tf}/>`;
    }
  }
}

export function sceneToSvg(scene: Scene): string {
  const { bg } = scene;
  const a = (bg.angle * Math.PI) / 180;
  const x1 = 0.5 - 0.5 * Math.cos(a);
  const y1 = 0.5 - 0.5 * Math.sin(a);
  const x2 = 0.5 + 0.5 * Math.cos(a);
  const y2 = 0.5 + 0.5 * Math.sin(a);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${W}" viewBox="0 0 ${W} ${W}">`,
    '<defs>',
    `<linearGradient id="bg" x1="${x1.toFixed(3)}" y1="${y1.toFixed(3)}" x2="${x2.toFixed(3)}" y2="${y2.toFixed(3)}">`,
    `<stop offset="0" stop-color="${bg.c1}"/><stop offset="1" stop-color="${bg.c2}"/>`,
    '</linearGradient>',
    '<filter id="shadow" x="-50%" y="-50%" width="200%" height="200%"><feGaussianBlur stdDeviation="3"/></filter>',
    '</defs>',
    `<rect x="0" y="0" width="${W}" height="${W}" fill="url(#bg)"/>`,
  );
  // Soft contact shadows, then the shapes.
  parts.push('<g filter="url(#shadow)" fill="#000000" fill-opacity="0.16">');
  for (const o of scene.objects) {
    parts.push(
      `<ellipse cx="${fmt(o.x + 2)}" cy="${fmt(o.y + o.r * 0.95)}" rx="${fmt(o.r * 0.85)}" ry="${fmt(o.r * 0.18)}"/>`,
    );
  }
  parts.push('</g>');
  for (const o of scene.objects) parts.push(shapeSvg(o));
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

export async function renderPng(scene: Scene): Promise<Buffer> {
  return sharp(Buffer.from(sceneToSvg(scene)), { density: 72 })
    .flatten({ background: '#ffffff' })
    .png(PNG_OPTIONS)
    .toBuffer();
}

// ---------------------------------------------------------------------------------------------
// Layout helpers

interface Region {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

const FULL: Region = { x0: 0, x1: W, y0: 0, y1: W };

/**
 * Place n objects of half-extent ~r inside region without overlap (rejection sampling with a
 * deterministic grid fallback). `taken` are objects already placed elsewhere to avoid.
 */
function placeInRegion(rng: Rng, n: number, r: number, region: Region, taken: { x: number; y: number; r: number }[]) {
  const margin = r * 1.25 + 6;
  const x0 = region.x0 + margin;
  const x1 = region.x1 - margin;
  const y0 = region.y0 + margin;
  const y1 = region.y1 - margin;
  for (let sep = 2.6; sep >= 2.2; sep -= 0.1) {
    const out: { x: number; y: number }[] = [];
    let attempts = 0;
    while (out.length < n && attempts < 4000) {
      attempts++;
      const x = rng.range(x0, Math.max(x0, x1));
      const y = rng.range(y0, Math.max(y0, y1));
      const ok =
        out.every((p) => Math.hypot(p.x - x, p.y - y) > sep * r) &&
        taken.every((p) => Math.hypot(p.x - x, p.y - y) > (sep / 2) * r + p.r * (sep / 2) + 4);
      if (ok) out.push({ x, y });
    }
    if (out.length === n) return out;
  }
  // Fallback: regular grid across the region (deterministic).
  const cols = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const out: { x: number; y: number }[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % cols;
    const rr = Math.floor(i / cols);
    out.push({
      x: region.x0 + ((c + 0.5) * (region.x1 - region.x0)) / cols,
      y: region.y0 + ((rr + 0.5) * (region.y1 - region.y0)) / rows,
    });
  }
  return out;
}

function baseRadius(rng: Rng, total: number): number {
  if (total <= 2) return rng.range(40, 50);
  if (total <= 3) return rng.range(34, 42);
  if (total <= 4) return rng.range(30, 36);
  if (total <= 6) return rng.range(25, 30);
  return rng.range(21, 25);
}

// ---------------------------------------------------------------------------------------------
// Text-to-image specs

type Relation = 'left' | 'right' | 'above' | 'below';
const REL_TEXT: Record<Relation, string> = {
  left: 'to the left of',
  right: 'to the right of',
  above: 'above',
  below: 'below',
};
const REL_SWAP: Record<Relation, Relation> = { left: 'right', right: 'left', above: 'below', below: 'above' };

interface Group {
  n: number;
  color: Color;
  shape: Shape;
}

interface T2ISpec {
  groups: Group[];
  /** Relation of group 0 relative to group 1. */
  relation?: Relation;
  white: boolean;
}

type T2ICategory = 'count' | 'pair' | 'position' | 'count_position' | 'multi_count';
const T2I_CATEGORIES: T2ICategory[] = ['count', 'position', 'pair', 'count_position', 'multi_count'];

function plural(shape: Shape, n: number): string {
  return n === 1 ? shape : `${shape}s`;
}

/** "a" or "an" for the following word. */
function indef(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

function groupPhrase(g: Group, article: 'a' | 'num'): string {
  if (article === 'a' && g.n === 1) return `${indef(g.color)} ${g.color} ${g.shape}`;
  return `${NUM_WORDS[g.n]} ${g.color} ${plural(g.shape, g.n)}`;
}

function t2iPrompt(spec: T2ISpec, cat: T2ICategory): string {
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

function distinctGroups(rng: Rng, k: number): Group[] {
  const colors = rng.shuffle(COLOR_NAMES).slice(0, k);
  const shapes = rng.shuffle(T2I_SHAPES).slice(0, k);
  return colors.map((color, i) => ({ n: 1, color, shape: shapes[i] }));
}

function makeT2ISpec(rng: Rng, cat: T2ICategory): T2ISpec {
  switch (cat) {
    case 'count': {
      const [g] = distinctGroups(rng, 1);
      g.n = rng.int(2, 5);
      return { groups: [g], white: true };
    }
    case 'pair':
      return { groups: distinctGroups(rng, 2), white: false };
    case 'position':
      return { groups: distinctGroups(rng, 2), relation: rng.pick(['left', 'right', 'above', 'below'] as const), white: false };
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

type T2IMiss = 'wrong_count' | 'wrong_color' | 'swapped_positions' | 'missing_object' | 'swapped_colors' | 'one_off_color';

const T2I_MISSES: Record<T2ICategory, T2IMiss[]> = {
  count: ['wrong_count', 'wrong_count', 'one_off_color'],
  pair: ['swapped_colors', 'missing_object', 'wrong_color'],
  position: ['swapped_positions', 'swapped_positions', 'wrong_color', 'missing_object'],
  count_position: ['swapped_positions', 'wrong_count', 'missing_object'],
  multi_count: ['wrong_count', 'missing_object', 'wrong_color'],
};

function cloneSpec(s: T2ISpec): T2ISpec {
  return { ...s, groups: s.groups.map((g) => ({ ...g })) };
}

/** A T2I spec describing what the near-miss image shows, plus per-object colour overrides. */
interface MissSpec {
  spec: T2ISpec;
  /** Optional: recolour one object of group 0 (the "one off" miss). */
  oneOffColor?: Color;
}

function applyT2IMiss(rng: Rng, spec: T2ISpec, miss: T2IMiss): MissSpec {
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
function layoutT2I(rng: Rng, spec: T2ISpec, oneOffColor?: Color): Scene {
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

// ---------------------------------------------------------------------------------------------
// Edit specs

const CELL = W / 3;
/** 3x3 grid cells: index = row*3 + col. Corners 0,2,6,8 are kept free in source scenes. */
const CENTER_CELLS = [1, 3, 4, 5, 7];
type Corner = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';
const CORNERS: Record<Corner, number> = { 'top-left': 0, 'top-right': 2, 'bottom-left': 6, 'bottom-right': 8 };
const CORNER_NAMES = Object.keys(CORNERS) as Corner[];

function cellCenter(cell: number): { x: number; y: number } {
  return { x: (cell % 3) * CELL + CELL / 2, y: Math.floor(cell / 3) * CELL + CELL / 2 };
}

interface EditObj extends Obj {
  cell: number;
}

interface EditScene {
  bg: Background;
  objects: EditObj[];
}

function cloneEditScene(s: EditScene): EditScene {
  return { bg: s.bg, objects: s.objects.map((o) => ({ ...o })) };
}

function objectAtCell(rng: Rng, cell: number, shape: Shape, color: Color): EditObj {
  const c = cellCenter(cell);
  return {
    shape,
    color,
    cell,
    x: c.x + rng.range(-10, 10),
    y: c.y + rng.range(-10, 10),
    r: rng.range(31, 40),
    rot: shape === 'circle' ? 0 : rng.range(-6, 6),
  };
}

function makeSourceScene(rng: Rng): EditScene {
  const bg = makeBackground(rng, rng.next() < 0.3);
  const k = rng.int(2, 4);
  const cells = rng.shuffle(CENTER_CELLS).slice(0, k).sort((a, b) => a - b);
  const colors = rng.shuffle(COLOR_NAMES).slice(0, k);
  const objects = cells.map((cell, i) => objectAtCell(rng, cell, rng.pick(SHAPES), colors[i]));
  return { bg, objects };
}

type EditOp =
  | { kind: 'recolor'; target: number; to: Color }
  | { kind: 'add'; shape: Shape; color: Color; corner: Corner }
  | { kind: 'remove'; target: number }
  | { kind: 'resize'; target: number; larger: boolean };

type EditKind = EditOp['kind'];
const EDIT_KINDS: EditKind[] = ['recolor', 'add', 'remove', 'resize'];

function nameOf(o: Obj): string {
  return `${o.color} ${o.shape}`;
}

function instructionText(src: EditScene, op: EditOp): string {
  switch (op.kind) {
    case 'recolor':
      return `change the ${nameOf(src.objects[op.target])} to ${op.to}`;
    case 'add':
      return `add ${indef(op.color)} ${op.color} ${op.shape} in the ${op.corner} corner`;
    case 'remove':
      return `remove the ${nameOf(src.objects[op.target])}`;
    case 'resize':
      return `make the ${nameOf(src.objects[op.target])} ${op.larger ? 'larger' : 'smaller'}`;
  }
}

function makeEditOp(rng: Rng, src: EditScene, kind: EditKind): EditOp {
  const usedColors = new Set(src.objects.map((o) => o.color));
  const n = src.objects.length;
  switch (kind) {
    case 'recolor': {
      const target = rng.int(0, n - 1);
      return { kind, target, to: rng.pick(COLOR_NAMES.filter((c) => !usedColors.has(c))) };
    }
    case 'add':
      return {
        kind,
        shape: rng.pick(SHAPES),
        color: rng.pick(COLOR_NAMES.filter((c) => !usedColors.has(c))),
        corner: rng.pick(CORNER_NAMES),
      };
    case 'remove':
      return { kind, target: rng.int(0, n - 1) };
    case 'resize':
      return { kind, target: rng.int(0, n - 1), larger: rng.next() < 0.6 };
  }
}

function applyEditOp(rng: Rng, src: EditScene, op: EditOp): EditScene {
  const s = cloneEditScene(src);
  switch (op.kind) {
    case 'recolor':
      s.objects[op.target].color = op.to;
      break;
    case 'add':
      s.objects.push(objectAtCell(rng, CORNERS[op.corner], op.shape, op.color));
      break;
    case 'remove':
      s.objects.splice(op.target, 1);
      break;
    case 'resize':
      s.objects[op.target].r *= op.larger ? 1.4 : 0.55;
      break;
  }
  return s;
}

type EditMiss =
  | 'not_done'
  | 'wrong_color'
  | 'wrong_place'
  | 'wrong_object'
  | 'opposite'
  | 'collateral_recolor'
  | 'collateral_move'
  | 'collateral_remove';

const EDIT_MISSES: Record<EditKind, EditMiss[]> = {
  recolor: ['wrong_color', 'not_done', 'collateral_recolor', 'collateral_move'],
  add: ['wrong_place', 'wrong_color', 'not_done', 'collateral_remove', 'collateral_move'],
  remove: ['wrong_object', 'not_done', 'collateral_recolor', 'collateral_move'],
  resize: ['opposite', 'not_done', 'collateral_recolor', 'collateral_move'],
};

/** Indices of source objects the instruction does not mention. */
function untouchedIndices(src: EditScene, op: EditOp): number[] {
  const idx = src.objects.map((_, i) => i);
  return 'target' in op ? idx.filter((i) => i !== op.target) : idx;
}

function applyEditMiss(rng: Rng, src: EditScene, op: EditOp, good: EditScene, miss: EditMiss): EditScene {
  switch (miss) {
    case 'not_done':
      return cloneEditScene(src);
    case 'wrong_color': {
      const s = cloneEditScene(src);
      const taken = new Set(src.objects.map((o) => o.color));
      if (op.kind === 'recolor') {
        taken.add(op.to);
        s.objects[op.target].color = rng.pick(COLOR_NAMES.filter((c) => !taken.has(c)));
        return s;
      }
      if (op.kind === 'add') {
        taken.add(op.color);
        const wrong = rng.pick(COLOR_NAMES.filter((c) => !taken.has(c)));
        return applyEditOp(rng, src, { ...op, color: wrong });
      }
      throw new Error(`wrong_color not valid for ${op.kind}`);
    }
    case 'wrong_place': {
      if (op.kind !== 'add') throw new Error('wrong_place only for add');
      const corner = rng.pick(CORNER_NAMES.filter((c) => c !== op.corner));
      return applyEditOp(rng, src, { ...op, corner });
    }
    case 'wrong_object': {
      if (op.kind !== 'remove') throw new Error('wrong_object only for remove');
      const s = cloneEditScene(src);
      s.objects.splice(rng.pick(untouchedIndices(src, op)), 1);
      return s;
    }
    case 'opposite': {
      if (op.kind !== 'resize') throw new Error('opposite only for resize');
      return applyEditOp(rng, src, { ...op, larger: !op.larger });
    }
    case 'collateral_recolor': {
      // Follows the instruction but also recolours an unrelated object.
      const s = cloneEditScene(good);
      const others = untouchedIndices(src, op);
      const j = rng.pick(others);
      const gi = op.kind === 'remove' && j > op.target ? j - 1 : j;
      const taken = new Set(s.objects.map((o) => o.color));
      s.objects[gi].color = rng.pick(COLOR_NAMES.filter((c) => !taken.has(c)));
      return s;
    }
    case 'collateral_remove': {
      const s = cloneEditScene(good);
      const j = rng.pick(untouchedIndices(src, op));
      s.objects.splice(j, 1);
      return s;
    }
    case 'collateral_move': {
      const s = cloneEditScene(good);
      const others = untouchedIndices(src, op);
      const j = rng.pick(others);
      const gi = op.kind === 'remove' && j > op.target ? j - 1 : j;
      const occupied = new Set(s.objects.map((o) => o.cell));
      const free = [0, 1, 2, 3, 4, 5, 6, 7, 8].filter((c) => !occupied.has(c));
      const cell = rng.pick(free);
      const c = cellCenter(cell);
      s.objects[gi] = { ...s.objects[gi], cell, x: c.x + rng.range(-8, 8), y: c.y + rng.range(-8, 8) };
      return s;
    }
  }
}

function missIsValid(src: EditScene, op: EditOp, miss: EditMiss): boolean {
  const others = untouchedIndices(src, op).length;
  if (miss.startsWith('collateral') || miss === 'wrong_object') return others >= 1;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Dataset assembly

interface OutFile {
  rel: string;
  data: Buffer | string;
}

type RenderJob = { rel: string; scene: Scene };

function jsonl(rows: object[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

function buildT2I(files: OutFile[], jobs: RenderJob[]): void {
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

function buildEdit(files: OutFile[], jobs: RenderJob[]): void {
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

/** Write all generated files under outDir; returns the sorted relative paths. */
export async function generateExamples(outDir: string): Promise<string[]> {
  const files = await buildExampleFiles();
  for (const [rel, data] of files) {
    const p = path.join(outDir, rel);
    await mkdir(path.dirname(p), { recursive: true });
    await writeFile(p, data);
  }
  return [...files.keys()];
}

/** All files (relative, '/'-separated, sorted) under the generated subdirectories of dir. */
export async function listGeneratedFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(path.join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else out.push(r);
    }
  };
  for (const d of GENERATED_DIRS) await walk(d);
  return out.sort();
}

export const EXAMPLES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'examples');

/** Compare a freshly generated tree against `committedDir`; returns human-readable problems. */
export async function checkExamples(committedDir: string = EXAMPLES_DIR): Promise<string[]> {
  const tmp = await mkdtemp(path.join(tmpdir(), 'arr-examples-'));
  try {
    await generateExamples(tmp);
    const fresh = await listGeneratedFiles(tmp);
    const committed = await listGeneratedFiles(committedDir);
    const problems: string[] = [];
    const committedSet = new Set(committed);
    const freshSet = new Set(fresh);
    for (const f of fresh) {
      if (!committedSet.has(f)) {
        problems.push(`missing: ${f}`);
        continue;
      }
      const [a, b] = await Promise.all([readFile(path.join(tmp, f)), readFile(path.join(committedDir, f))]);
      if (!a.equals(b)) problems.push(`differs: ${f}`);
    }
    for (const f of committed) if (!freshSet.has(f)) problems.push(`extra (not generated): ${f}`);
    return problems;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--check')) {
    const problems = await checkExamples();
    if (problems.length) {
      for (const p of problems) console.error(p);
      console.error(`examples are stale: ${problems.length} file(s); run npx tsx scripts/make-examples.ts`);
      return 1;
    }
    console.log('examples are up to date');
    return 0;
  }
  for (const d of GENERATED_DIRS) await rm(path.join(EXAMPLES_DIR, d), { recursive: true, force: true });
  const written = await generateExamples(EXAMPLES_DIR);
  console.log(`wrote ${written.length} files under ${path.relative(process.cwd(), EXAMPLES_DIR) || '.'}`);
  return 0;
}

const invokedDirectly = (() => {
  const arg = process.argv[1];
  if (!arg) return false;
  try {
    return pathToFileURL(realpathSync(arg)).href === pathToFileURL(realpathSync(fileURLToPath(import.meta.url))).href;
  } catch {
    return false;
  }
})();

if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(2);
    },
  );
}
