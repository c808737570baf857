// The scene model, its SVG rendering and layout helpers.
import sharp from 'sharp';
import { type Color, COLORS, PNG_OPTIONS, type Shape, W } from './constants.js';
import { Rng } from './rng.js';

export interface Obj {
  shape: Shape;
  color: Color;
  x: number;
  y: number;
  /** Half-extent in px. */
  r: number;
  /** Degrees. */
  rot: number;
}

export interface Background {
  c1: string;
  c2: string;
  /** Gradient direction in degrees. */
  angle: number;
}

export interface Scene {
  bg: Background;
  objects: Obj[];
}

export const fmt = (n: number): string => {
  const s = n.toFixed(1);
  return s.endsWith('.0') ? s.slice(0, -2) : s;
};

export function hslToHex(h: number, s: number, l: number): string {
  // h in degrees, s/l in [0,1]
  const a = s * Math.min(l, 1 - l);
  const f = (n: number): number => {
    const k = (n + h / 30) % 12;
    const c = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(255 * c);
  };
  return `#${[f(0), f(8), f(4)].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

export function darken(hex: string, amount: number): string {
  const n = parseInt(hex.slice(1), 16);
  const ch = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => Math.round(v * (1 - amount)));
  return `#${ch.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

export function makeBackground(rng: Rng, white: boolean): Background {
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

export function shapeSvg(o: Obj): string {
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

export interface Region {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

export const FULL: Region = { x0: 0, x1: W, y0: 0, y1: W };

/**
 * Place n objects of half-extent ~r inside region without overlap (rejection sampling with a
 * deterministic grid fallback). `taken` are objects already placed elsewhere to avoid.
 */
export function placeInRegion(
  rng: Rng,
  n: number,
  r: number,
  region: Region,
  taken: { x: number; y: number; r: number }[],
) {
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

export function baseRadius(rng: Rng, total: number): number {
  if (total <= 2) return rng.range(40, 50);
  if (total <= 3) return rng.range(34, 42);
  if (total <= 4) return rng.range(30, 36);
  if (total <= 6) return rng.range(25, 30);
  return rng.range(21, 25);
}
