// Edit pairs: a source scene, an instruction, the edit done right and an edit with one defect.
import { type Color, COLOR_NAMES, type Shape, SHAPES, W } from './constants.js';
import { Rng } from './rng.js';
import { type Background, makeBackground, type Obj } from './scene.js';
import { indef } from './t2i.js';

export const CELL = W / 3;
/** 3x3 grid cells: index = row*3 + col. Corners 0,2,6,8 are kept free in source scenes. */
export const CENTER_CELLS = [1, 3, 4, 5, 7];
export type Corner = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';
export const CORNERS: Record<Corner, number> = { 'top-left': 0, 'top-right': 2, 'bottom-left': 6, 'bottom-right': 8 };
export const CORNER_NAMES = Object.keys(CORNERS) as Corner[];

export function cellCenter(cell: number): { x: number; y: number } {
  return { x: (cell % 3) * CELL + CELL / 2, y: Math.floor(cell / 3) * CELL + CELL / 2 };
}

export interface EditObj extends Obj {
  cell: number;
}

export interface EditScene {
  bg: Background;
  objects: EditObj[];
}

export function cloneEditScene(s: EditScene): EditScene {
  return { bg: s.bg, objects: s.objects.map((o) => ({ ...o })) };
}

export function objectAtCell(rng: Rng, cell: number, shape: Shape, color: Color): EditObj {
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

export function makeSourceScene(rng: Rng): EditScene {
  const bg = makeBackground(rng, rng.next() < 0.3);
  const k = rng.int(2, 4);
  const cells = rng
    .shuffle(CENTER_CELLS)
    .slice(0, k)
    .sort((a, b) => a - b);
  const colors = rng.shuffle(COLOR_NAMES).slice(0, k);
  const objects = cells.map((cell, i) => objectAtCell(rng, cell, rng.pick(SHAPES), colors[i]));
  return { bg, objects };
}

export type EditOp =
  | { kind: 'recolor'; target: number; to: Color }
  | { kind: 'add'; shape: Shape; color: Color; corner: Corner }
  | { kind: 'remove'; target: number }
  | { kind: 'resize'; target: number; larger: boolean };

export type EditKind = EditOp['kind'];
export const EDIT_KINDS: EditKind[] = ['recolor', 'add', 'remove', 'resize'];

export function nameOf(o: Obj): string {
  return `${o.color} ${o.shape}`;
}

export function instructionText(src: EditScene, op: EditOp): string {
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

export function makeEditOp(rng: Rng, src: EditScene, kind: EditKind): EditOp {
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

export function applyEditOp(rng: Rng, src: EditScene, op: EditOp): EditScene {
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

export type EditMiss =
  | 'not_done'
  | 'wrong_color'
  | 'wrong_place'
  | 'wrong_object'
  | 'opposite'
  | 'collateral_recolor'
  | 'collateral_move'
  | 'collateral_remove';

export const EDIT_MISSES: Record<EditKind, EditMiss[]> = {
  recolor: ['wrong_color', 'not_done', 'collateral_recolor', 'collateral_move'],
  add: ['wrong_place', 'wrong_color', 'not_done', 'collateral_remove', 'collateral_move'],
  remove: ['wrong_object', 'not_done', 'collateral_recolor', 'collateral_move'],
  resize: ['opposite', 'not_done', 'collateral_recolor', 'collateral_move'],
};

/** Indices of source objects the instruction does not mention. */
export function untouchedIndices(src: EditScene, op: EditOp): number[] {
  const idx = src.objects.map((_, i) => i);
  return 'target' in op ? idx.filter((i) => i !== op.target) : idx;
}

export function applyEditMiss(rng: Rng, src: EditScene, op: EditOp, good: EditScene, miss: EditMiss): EditScene {
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

export function missIsValid(src: EditScene, op: EditOp, miss: EditMiss): boolean {
  const others = untouchedIndices(src, op).length;
  if (miss.startsWith('collateral') || miss === 'wrong_object') return others >= 1;
  return true;
}
