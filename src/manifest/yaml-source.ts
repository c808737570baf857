import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { Diagnostic } from '../diagnostics.js';

export interface Position {
  line: number;
  col: number;
}

/** A parsed YAML file: its plain value and where each field path (`judge.concurrency`, `extends[1]`) is written. */
export interface YamlSource {
  file: string;
  value: unknown;
  /** Position of the key for mapping entries, of the item for list entries. */
  positions: Map<string, Position>;
}

export const joinPath = (parent: string, key: string | number): string =>
  typeof key === 'number' ? `${parent}[${key}]` : parent ? `${parent}.${key}` : key;

/** A JSON pointer (ajv's `instancePath`, `/judge/base_url/0`) as a field path (`judge.base_url[0]`). */
export const pointerToField = (pointer: string): string =>
  pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<string>((acc, part) => joinPath(acc, /^\d+$/.test(part) ? Number(part) : part), '');

function collectPositions(node: Node | null | undefined, path: string, lc: LineCounter, out: Map<string, Position>): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      const childPath = joinPath(path, key);
      if (keyNode?.range) out.set(childPath, toPosition(lc, keyNode.range[0]));
      collectPositions(pair.value as Node | null, childPath, lc, out);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => {
      const childPath = joinPath(path, index);
      const range = (item as Node | null)?.range;
      if (range) out.set(childPath, toPosition(lc, range[0]));
      collectPositions(item as Node | null, childPath, lc, out);
    });
  }
}

function toPosition(lc: LineCounter, offset: number): Position {
  const { line, col } = lc.linePos(offset);
  return { line, col };
}

/** Parses YAML text; syntax errors come back as diagnostics with their line and column. */
export function parseYaml(file: string, text: string): { source?: YamlSource; diagnostics: Diagnostic[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems = [...doc.errors, ...doc.warnings.filter((w) => w.code === 'DUPLICATE_KEY')];
  if (problems.length > 0) {
    return {
      diagnostics: problems.map((e) => {
        const { line, col } = toPosition(lineCounter, e.pos[0]);
        return { file, line, col, message: `invalid YAML: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}` };
      }),
    };
  }
  const positions = new Map<string, Position>();
  collectPositions(doc.contents as Node | null, '', lineCounter, positions);
  return { source: { file, value: doc.toJS({ maxAliasCount: 100 }), positions }, diagnostics: [] };
}

export function readYamlFile(file: string): { source?: YamlSource; diagnostics: Diagnostic[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message;
    return { diagnostics: [{ file, message: `cannot read manifest: ${reason}` }] };
  }
  return parseYaml(file, text);
}
