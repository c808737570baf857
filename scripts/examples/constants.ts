// Constants of the toy example datasets: image size, counts, colours and shapes.

export const IMAGE_SIZE = 384;
export const W = IMAGE_SIZE;

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

export const PNG_OPTIONS = {
  compressionLevel: 9,
  adaptiveFiltering: false,
  palette: false,
  progressive: false,
  force: true,
} as const;

export const COLORS = {
  red: '#d62728',
  blue: '#1f5fd6',
  green: '#2ca02c',
  yellow: '#f2c81b',
  purple: '#8e44ad',
  orange: '#f57f0e',
} as const;
export type Color = keyof typeof COLORS;
export const COLOR_NAMES = Object.keys(COLORS) as Color[];

export const SHAPES = ['circle', 'square', 'triangle', 'star'] as const;
export type Shape = (typeof SHAPES)[number];
/** Shapes used in text-to-image prompts. */
export const T2I_SHAPES: readonly Shape[] = ['circle', 'square', 'triangle', 'star'];

export const NUM_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five'];
