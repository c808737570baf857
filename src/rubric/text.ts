// The rubric text format the reference writes and its trainers read (`rubrics_file`; docs/architecture.md, "Rubric text"):
//
//   categorised   Rubric 1:\nTheme: <theme>\n- Tip1: <tip>\n- Tip2: <tip>   blocks joined by a blank line
//   list          1. <item>\n\n2. <item>                                    (no categorisation, or it failed)
//   free          any other text, kept byte for byte
//
// `renderRubric` writes the canonical form; `parseRubric` reads it back (and tolerates what a person or a
// model typically does to it: CRLF, trailing spaces, extra or missing blank lines, a tip wrapped over
// several lines). Normalisation, applied by `renderRubric`, so render(parse(render(doc))) === render(doc):
//   - every theme, tip and item becomes one line: whitespace runs that contain a line break become one
//     space, and leading/trailing whitespace is trimmed (a tip cannot span lines in this format);
//   - the output always ends with exactly one newline for structured docs, and with at least one for free text.
// A free text that happens to follow a structured format is read as that format (so rendering it gives the
// canonical spelling, which may differ in whitespace from the original).
import type { Diagnostic } from '../diagnostics.js';

export interface RubricCategory {
  theme: string;
  tips: string[];
}

export type RubricDoc =
  | { kind: 'categories'; categories: RubricCategory[] }
  | { kind: 'list'; items: string[] }
  | { kind: 'free'; text: string };

/** One line of a theme, tip or item: line breaks (and the whitespace around them) become one space; ends trimmed. */
export function normalizeRubricLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/** The canonical text of a rubric; always ends with a newline. */
export function renderRubric(doc: RubricDoc): string {
  switch (doc.kind) {
    case 'categories': {
      const blocks = doc.categories.map((c, i) =>
        [
          `Rubric ${i + 1}:`,
          `Theme: ${normalizeRubricLine(c.theme)}`,
          ...c.tips.map((t, k) => `- Tip${k + 1}: ${normalizeRubricLine(t)}`),
        ]
          .map((line) => line.trimEnd())
          .join('\n'),
      );
      return `${blocks.join('\n\n')}\n`;
    }
    case 'list':
      return `${doc.items.map((item, i) => `${i + 1}. ${normalizeRubricLine(item)}`.trimEnd()).join('\n\n')}\n`;
    case 'free':
      return doc.text.endsWith('\n') ? doc.text : `${doc.text}\n`;
  }
}

const RUBRIC_HEADER = /^Rubric\s+(\d+)\s*:\s*(.*)$/;
const THEME = /^Theme\s*:\s*(.*)$/;
const TIP = /^-\s*Tip\s*(\d*)\s*:\s*(.*)$/;
const ITEM = /^(\d+)\.(?:[ \t]+(.*))?$/;

/** Which structured format a text starts in (by its first non-blank line), if any. */
export function rubricFormatOf(text: string): 'categories' | 'list' | 'free' {
  const first =
    text
      .split(/\r?\n/)
      .find((l) => l.trim() !== '')
      ?.trim() ?? '';
  if (RUBRIC_HEADER.test(first)) return 'categories';
  if (ITEM.test(first)) return 'list';
  return 'free';
}

export interface StrictParse {
  /** The structured doc when the text follows its format; the free text (verbatim) otherwise. */
  doc: RubricDoc;
  /** Where a text that starts in a structured format breaks it (line numbers are 1-based). Empty for free text. */
  diagnostics: Diagnostic[];
}

/**
 * Parses a rubric and reports, with line numbers, where a text that starts in one of the structured
 * formats breaks it: a `Rubric N:` block without `Theme:`, blocks or tips numbered out of order or with a
 * gap, text outside any block. Text that starts in neither format is free text and has no diagnostics.
 */
export function parseRubricStrict(text: string, file: string): StrictParse {
  const lines = text.split(/\r?\n/).map((l) => l.trimEnd());
  const format = rubricFormatOf(text);
  const free: RubricDoc = { kind: 'free', text };
  if (format === 'free') return { doc: free, diagnostics: [] };
  const diagnostics: Diagnostic[] = [];
  const problem = (index: number, message: string) => diagnostics.push({ file, line: index + 1, col: 1, message });
  const doc = format === 'categories' ? parseCategories(lines, problem) : parseList(lines, problem);
  diagnostics.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return diagnostics.length ? { doc: free, diagnostics } : { doc, diagnostics };
}

/** Categories or list when the text follows that format (see parseRubricStrict), else the text as free text. */
export function parseRubric(text: string): RubricDoc {
  return parseRubricStrict(text, '<rubric>').doc;
}

type Problem = (index: number, message: string) => void;

function parseCategories(lines: string[], problem: Problem): RubricDoc {
  const categories: RubricCategory[] = [];
  // What the previous non-blank line opened, so a wrapped line (no blank line before it) can continue it.
  let open: { append: (more: string) => void } | undefined;
  let block: { category: RubricCategory; header: number; hasTheme: boolean } | undefined;
  let afterBlank = false;
  const closeBlock = () => {
    if (block && !block.hasTheme)
      problem(
        block.header,
        `Rubric ${categories.length} has no "Theme:" line (each block is "Rubric N:", then "Theme: …", then "- Tip1: …" lines)`,
      );
  };
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') {
      afterBlank = true;
      open = undefined;
      return;
    }
    const header = RUBRIC_HEADER.exec(line);
    if (header) {
      closeBlock();
      const n = Number(header[1]);
      const expected = categories.length + 1;
      if (n !== expected) {
        problem(i, numbering(`"Rubric ${n}:"`, n, expected, `Rubric ${expected - 1}`, `"Rubric ${expected}:"`));
      }
      if (header[2].trim() !== '') problem(i, `text after "Rubric ${n}:" belongs on a "Theme:" line below it`);
      const category: RubricCategory = { theme: '', tips: [] };
      categories.push(category);
      block = { category, header: i, hasTheme: false };
      open = undefined;
      afterBlank = false;
      return;
    }
    if (!block) return; // cannot happen: the text starts with a header
    const theme = THEME.exec(line);
    if (theme) {
      if (block.hasTheme) problem(i, `Rubric ${categories.length} has a second "Theme:" line`);
      else if (block.category.tips.length)
        problem(i, `"Theme:" must come before the tips of Rubric ${categories.length}`);
      block.hasTheme = true;
      block.category.theme = theme[1].trim();
      const category = block.category;
      open = { append: (more) => (category.theme = joinLine(category.theme, more)) };
      afterBlank = false;
      return;
    }
    const tip = TIP.exec(line);
    if (tip) {
      const expected = block.category.tips.length + 1;
      if (tip[1] === '') problem(i, `tips are numbered: write "- Tip${expected}:"`);
      else if (Number(tip[1]) !== expected) {
        const n = Number(tip[1]);
        problem(i, numbering(`"- Tip${n}:"`, n, expected, `Tip${expected - 1}`, `"- Tip${expected}:"`));
      }
      const tips = block.category.tips;
      const index = tips.push(tip[2].trim()) - 1;
      open = { append: (more) => (tips[index] = joinLine(tips[index], more)) };
      afterBlank = false;
      return;
    }
    if (open && !afterBlank) {
      open.append(line);
      return;
    }
    problem(
      i,
      `unexpected text in Rubric ${categories.length}: expected "Rubric ${categories.length + 1}:", "Theme: …" or "- Tip${block.category.tips.length + 1}: …"`,
    );
    afterBlank = false;
  });
  closeBlock();
  return { kind: 'categories', categories };
}

function parseList(lines: string[], problem: Problem): RubricDoc {
  const items: string[] = [];
  let open = false;
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') {
      open = false;
      return;
    }
    const item = ITEM.exec(line);
    if (item) {
      const n = Number(item[1]);
      const expected = items.length + 1;
      if (n !== expected) {
        problem(i, numbering(`item "${n}."`, n, expected, `item ${expected - 1}`, `"${expected}."`));
      }
      items.push((item[2] ?? '').trim());
      open = true;
      return;
    }
    if (open) {
      items[items.length - 1] = joinLine(items[items.length - 1], line);
      return;
    }
    problem(
      i,
      `unexpected text between numbered items: start it with "${items.length + 1}. " or join it to the item above (no blank line)`,
    );
  });
  return { kind: 'list', items };
}

/** Why a number is wrong: numbering starts at 1 and goes up by one (a gap and a step back read differently). */
function numbering(what: string, n: number, expected: number, previous: string, expectedText: string): string {
  if (expected === 1) return `${what} must be numbered 1 (numbering starts at 1; expected ${expectedText})`;
  if (n > expected) return `${what} follows ${previous}: numbering gap (expected ${expectedText})`;
  return `${what} is out of order after ${previous} (expected ${expectedText})`;
}

const joinLine = (a: string, b: string): string => (a ? `${a} ${b}` : b);
