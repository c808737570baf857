// The rubric text format of the reference (docs/architecture.md, "Rubric text"): rendering, parsing, round trips, and
// strict diagnostics for texts that start structured and then break the format.
import { mulberry32 as rng } from '../../src/util/random.js';
import { describe, expect, it } from 'vitest';
import {
  normalizeRubricLine,
  parseRubric,
  parseRubricStrict,
  renderRubric,
  rubricFormatOf,
  type RubricDoc,
} from '../../src/rubric/text.js';

// Fragments chosen to collide with the format: markers, numbers, blank lines, CRLF, odd whitespace, unicode.
const FRAGMENTS = [
  'prompt',
  'following',
  'artifacts',
  'Rubric 2:',
  'Theme:',
  '- Tip1:',
  '- Tip',
  '1.',
  '2. ',
  '10.',
  ':',
  '-',
  '\n',
  '\n\n',
  '\r\n',
  '  ',
  '\t',
  ' ',
  '…',
  '图像',
  'naïve',
  '"quoted"',
  '{json}',
  '#',
  '*bold*',
  '\u00a0',
  '',
];

function text(r: () => number, max = 8): string {
  const n = Math.floor(r() * max);
  let s = '';
  for (let i = 0; i < n; i++) s += FRAGMENTS[Math.floor(r() * FRAGMENTS.length)] + (r() < 0.5 ? ' ' : '');
  return s;
}

function doc(r: () => number): RubricDoc {
  const pick = r();
  if (pick < 0.45) {
    const categories = Array.from({ length: Math.floor(r() * 6) }, () => ({
      theme: text(r),
      tips: Array.from({ length: Math.floor(r() * 5) }, () => text(r)),
    }));
    return { kind: 'categories', categories };
  }
  if (pick < 0.85) return { kind: 'list', items: Array.from({ length: Math.floor(r() * 7) }, () => text(r)) };
  // Free text: anything whose first line does not look like `Rubric N:` or `N.` (such text is read as that format).
  return { kind: 'free', text: `Notes ${text(r, 20)}` };
}

describe('renderRubric', () => {
  it('writes the reference categorised format: Rubric i / Theme / - TipK blocks joined by a blank line', () => {
    const out = renderRubric({
      kind: 'categories',
      categories: [
        { theme: 'Prompt alignment', tips: ['Count the objects.', 'Check colours.'] },
        { theme: 'Artifacts', tips: ['No extra fingers.'] },
      ],
    });
    expect(out).toBe(
      'Rubric 1:\nTheme: Prompt alignment\n- Tip1: Count the objects.\n- Tip2: Check colours.\n\nRubric 2:\nTheme: Artifacts\n- Tip1: No extra fingers.\n',
    );
  });

  it('writes the numbered fallback list separated by blank lines, and free text as is with a trailing newline', () => {
    expect(renderRubric({ kind: 'list', items: ['Prefer the image with three cats.', 'Penalise blur.'] })).toBe(
      '1. Prefer the image with three cats.\n\n2. Penalise blur.\n',
    );
    expect(renderRubric({ kind: 'free', text: '- Tip: anything\n  goes' })).toBe('- Tip: anything\n  goes\n');
    expect(renderRubric({ kind: 'free', text: 'kept\n' })).toBe('kept\n');
  });

  it('normalises multi-line themes, tips and items to one line', () => {
    expect(normalizeRubricLine('  two\n   lines \r\n\n and a third  ')).toBe('two lines and a third');
    expect(renderRubric({ kind: 'categories', categories: [{ theme: 'A\nB', tips: ['x\n\n- Tip2: y'] }] })).toBe(
      'Rubric 1:\nTheme: A B\n- Tip1: x - Tip2: y\n',
    );
    expect(renderRubric({ kind: 'list', items: ['a\n\n2. b'] })).toBe('1. a 2. b\n');
  });
});

describe('parseRubric', () => {
  it('reads the formats back', () => {
    const categories: RubricDoc = {
      kind: 'categories',
      categories: [
        { theme: 'T', tips: ['a', 'b'] },
        { theme: 'U', tips: [] },
      ],
    };
    expect(parseRubric(renderRubric(categories))).toEqual(categories);
    const list: RubricDoc = { kind: 'list', items: ['one', 'two', ''] };
    expect(parseRubric(renderRubric(list))).toEqual(list);
    expect(parseRubric('Prefer sharp images.\n')).toEqual({ kind: 'free', text: 'Prefer sharp images.\n' });
  });

  it('tolerates CRLF, trailing spaces, extra blank lines and tips wrapped over lines', () => {
    const messy =
      '\r\nRubric 1:  \r\nTheme:   Alignment  \r\n- Tip1: count\r\n  the objects\r\n\r\n\r\n\r\nRubric 2:\nTheme: Quality\n\n- Tip1: no blur\n';
    expect(parseRubric(messy)).toEqual({
      kind: 'categories',
      categories: [
        { theme: 'Alignment', tips: ['count the objects'] },
        { theme: 'Quality', tips: ['no blur'] },
      ],
    });
    expect(parseRubric('1. a\n2. b\n   continued\n')).toEqual({ kind: 'list', items: ['a', 'b continued'] });
  });

  it('keeps a text that breaks its format as free text, byte for byte', () => {
    const broken = 'Rubric 1:\nTheme: A\n- Tip2: b\n';
    expect(parseRubric(broken)).toEqual({ kind: 'free', text: broken });
  });

  it('round-trips: render(parse(render(doc))) === render(doc) for 3000 generated docs', () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const d = doc(rng(seed));
      const once = renderRubric(d);
      const twice = renderRubric(parseRubric(once));
      expect(twice, `seed ${seed}: ${JSON.stringify(d)}`).toBe(once);
      // A canonical rendering of a structured doc is never flagged by the strict parser.
      expect(parseRubricStrict(once, 'gen.txt').diagnostics, `seed ${seed}`).toEqual([]);
    }
  });

  it('parses a canonical rendering back to the normalised doc', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const d = doc(rng(seed));
      if (d.kind === 'free') continue;
      const normal: RubricDoc =
        d.kind === 'list'
          ? { kind: 'list', items: d.items.map(normalizeRubricLine) }
          : {
              kind: 'categories',
              categories: d.categories.map((c) => ({
                theme: normalizeRubricLine(c.theme),
                tips: c.tips.map(normalizeRubricLine),
              })),
            };
      const empty = d.kind === 'list' ? d.items.length === 0 : d.categories.length === 0;
      expect(parseRubric(renderRubric(d)), `seed ${seed}`).toEqual(empty ? { kind: 'free', text: '\n' } : normal);
    }
  });
});

describe('parseRubricStrict', () => {
  const lines = (text: string) =>
    parseRubricStrict(text, '/ws/rubrics/x.v1.txt').diagnostics.map((d) => [d.line, d.message]);

  it('flags a Rubric block without a Theme line at its header', () => {
    const text = 'Rubric 1:\nTheme: A\n- Tip1: a\n\nRubric 2:\n- Tip1: b\n';
    const found = lines(text);
    expect(found).toContainEqual([5, expect.stringContaining('Rubric 2 has no "Theme:" line')]);
    expect(parseRubricStrict(text, 'f').diagnostics[0]).toMatchObject({ file: 'f', col: 1 });
  });

  it('flags tips out of order and numbering gaps, with their lines', () => {
    expect(lines('Rubric 1:\nTheme: A\n- Tip1: a\n- Tip3: c\n')).toEqual([
      [4, '"- Tip3:" follows Tip1: numbering gap (expected "- Tip2:")'],
    ]);
    expect(lines('Rubric 1:\nTheme: A\n- Tip1: a\n- Tip2: b\n- Tip1: c\n')).toEqual([
      [5, '"- Tip1:" is out of order after Tip2 (expected "- Tip3:")'],
    ]);
    expect(lines('Rubric 1:\nTheme: A\n\nRubric 3:\nTheme: C\n')).toEqual([
      [4, '"Rubric 3:" follows Rubric 1: numbering gap (expected "Rubric 2:")'],
    ]);
    expect(lines('Rubric 2:\nTheme: A\n')).toEqual([[1, expect.stringContaining('must be numbered 1')]]);
    expect(lines('1. a\n\n3. c\n')).toEqual([[3, 'item "3." follows item 1: numbering gap (expected "2.")']]);
  });

  it('flags stray text, unnumbered tips and themes after tips', () => {
    expect(lines('Rubric 1:\nTheme: A\n- Tip1: a\n\nstray paragraph\n')).toEqual([
      [5, expect.stringContaining('unexpected text in Rubric 1')],
    ]);
    expect(lines('Rubric 1:\nTheme: A\n- Tip: a\n')).toEqual([[3, 'tips are numbered: write "- Tip1:"']]);
    expect(lines('Rubric 1:\n- Tip1: a\nTheme: A\n')).toEqual([
      [3, expect.stringContaining('"Theme:" must come before the tips')],
    ]);
    expect(lines('1. a\n\nsecond paragraph\n')).toEqual([
      [3, expect.stringContaining('unexpected text between numbered items')],
    ]);
  });

  it('has nothing to say about free text, whatever it contains', () => {
    expect(rubricFormatOf('- Tip: prefer sharp\n1. not a list')).toBe('free');
    expect(lines('- Tip: prefer sharp\n\nRubric 9:\n')).toEqual([]);
    expect(lines('')).toEqual([]);
  });
});
