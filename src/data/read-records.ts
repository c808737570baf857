// Reads a dataset file (.jsonl, .json array, .yaml/.yml sequence) into raw records that remember where
// they came from. Values come from a strict parser (JSON.parse for JSON, the yaml package for YAML);
// positions of records and of fields inside them come from the yaml package's node ranges (it parses
// JSON too), built lazily so callers that never report a problem never pay for them.
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Diagnostic } from '../diagnostics.js';
import { byteLimit, checkRegularFile, decodeUtf8, InputFileProblem, readRegularFileSync } from '../util/input-files.js';
import { checkParsedJson, renderPath } from '../util/safe-keys.js';
import { unsafeYamlKey } from '../util/yaml-keys.js';

export type DatasetFormat = 'jsonl' | 'json' | 'yaml';

/** A path into a record: `['response', 1]` is the second image of `response`. */
export type FieldPath = ReadonlyArray<string | number>;

/** 1-based line and column. */
export interface Position {
  line: number;
  col?: number;
}

export interface RawRecord {
  /** 0-based record index. For .jsonl it counts non-blank lines, so a bad line keeps its number. */
  readonly index: number;
  /** The parsed value; normally an object, but not checked here. */
  readonly value: unknown;
  /** 1-based line (and column) where the record starts, when known. */
  readonly line: number | undefined;
  readonly col: number | undefined;
  /**
   * Where a field of this record is written: the key for a mapping entry, the element for a list
   * entry. Falls back to the deepest part of the path that exists, then to the record itself.
   */
  locate(path: FieldPath): Position | undefined;
}

export interface ReadRecordsResult {
  /** Absolute path of the dataset file. */
  file: string;
  format: DatasetFormat | undefined;
  records: RawRecord[];
  diagnostics: Diagnostic[];
}

const EXTENSIONS: Record<string, DatasetFormat> = {
  '.jsonl': 'jsonl',
  '.json': 'json',
  '.yaml': 'yaml',
  '.yml': 'yaml',
};

/** The container format a dataset path names by its extension, or undefined when unsupported. */
export function datasetFormat(file: string): DatasetFormat | undefined {
  return EXTENSIONS[extname(file).toLowerCase()];
}

/** A .json or .yaml dataset is one document, parsed whole; above this size it must be .jsonl. */
export const MAX_DOCUMENT_BYTES = 256 * 1024 * 1024;
/** Longest .jsonl line (one record) read. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;
/** Lines longer than this are located by line only (finding a column means parsing the line again). */
const MAX_LOCATE_CHARS = 256 * 1024;

/**
 * Reads and parses a dataset file. Never throws for unreadable or malformed input: it reports.
 * Only a regular file of at most ARR_MAX_DATASET_BYTES (default 2 GiB) is read; .jsonl is read line
 * by line in bounded memory, .json and .yaml whole (at most MAX_DOCUMENT_BYTES).
 */
export function readRecords(file: string, options: { maxBytes?: number } = {}): ReadRecordsResult {
  const abs = resolve(file);
  const format = datasetFormat(abs);
  if (!format) {
    const ext = extname(abs) || '(none)';
    return {
      file: abs,
      format,
      records: [],
      diagnostics: [{ file: abs, message: `unsupported dataset extension ${ext}; use .jsonl, .json, .yaml or .yml` }],
    };
  }
  const limit = options.maxBytes ?? byteLimit('ARR_MAX_DATASET_BYTES');
  const failed = (problem: unknown): ReadRecordsResult => {
    if (!(problem instanceof InputFileProblem) || problem.osError) {
      if (problem instanceof InputFileProblem) problem = problem.osError;
      return {
        file: abs,
        format,
        records: [],
        diagnostics: [{ file: abs, message: `cannot read the dataset (${osReason(problem)})` }],
      };
    }
    const where = problem.line === undefined ? {} : { line: problem.line, col: problem.col };
    return {
      file: abs,
      format,
      records: [],
      diagnostics: [
        {
          file: abs,
          ...where,
          message: problem.line === undefined ? `cannot read the dataset (${problem.message})` : problem.message,
        },
      ],
    };
  };
  try {
    const stats = checkRegularFile(abs, limit, 'ARR_MAX_DATASET_BYTES');
    if (format === 'jsonl') return readJsonlFile(abs);
    if (stats.size > MAX_DOCUMENT_BYTES) {
      return failed(
        new InputFileProblem(
          `${stats.size} bytes: a .${format} dataset is parsed as one document, at most ${MAX_DOCUMENT_BYTES} bytes; write it as .jsonl (one record per line, read in bounded memory)`,
        ),
      );
    }
    return parseRecords(
      abs,
      decodeUtf8(readRegularFileSync(abs, Math.min(limit, MAX_DOCUMENT_BYTES), 'ARR_MAX_DATASET_BYTES')),
      format,
    );
  } catch (error) {
    return failed(error);
  }
}

/** A .jsonl file, line by line through a fixed buffer: memory grows with the records, not the file. */
function readJsonlFile(file: string): ReadRecordsResult {
  const out: ReadRecordsResult = { file, format: 'jsonl', records: [], diagnostics: [] };
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let overlong = false;
  let lineNo = 0;
  const counter = { index: 0 };
  const finishLine = (tail: Buffer) => {
    lineNo++;
    if (overlong) {
      out.diagnostics.push({
        file,
        line: lineNo,
        field: `records[${counter.index++}]`,
        message: `line ${lineNo} is longer than ${MAX_LINE_BYTES} bytes; one record never needs that much`,
      });
    } else {
      let bytes = pending.length ? Buffer.concat([...pending, tail]) : tail;
      if (lineNo === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
      try {
        parseJsonlLine(file, decodeUtf8(bytes, lineNo), lineNo, counter, out);
      } catch (error) {
        if (!(error instanceof InputFileProblem)) throw error;
        out.diagnostics.push({
          file,
          line: error.line,
          col: error.col,
          field: `records[${counter.index++}]`,
          message: error.message,
        });
      }
    }
    pending = [];
    pendingBytes = 0;
    overlong = false;
  };
  try {
    for (;;) {
      const n = readSync(fd, chunk, 0, CHUNK_BYTES, null);
      if (n === 0) break;
      let start = 0;
      for (let nl = chunk.indexOf(0x0a, 0); nl !== -1 && nl < n; nl = chunk.indexOf(0x0a, start)) {
        // No copy: the line is decoded before the next read overwrites the chunk.
        finishLine(overlong ? Buffer.alloc(0) : chunk.subarray(start, nl));
        start = nl + 1;
      }
      if (start < n && !overlong) {
        pendingBytes += n - start;
        if (pendingBytes > MAX_LINE_BYTES) {
          overlong = true;
          pending = [];
        } else pending.push(Buffer.from(chunk.subarray(start, n)));
      }
    }
    if (pendingBytes > 0 || overlong) finishLine(Buffer.alloc(0));
  } finally {
    closeSync(fd);
  }
  return out;
}

/** Parses dataset text that was read from `file` (used for positions in diagnostics). */
export function parseRecords(
  file: string,
  text: string,
  format: DatasetFormat = datasetFormat(file) ?? 'json',
): ReadRecordsResult {
  const abs = resolve(file);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const out: ReadRecordsResult = { file: abs, format, records: [], diagnostics: [] };
  if (format === 'jsonl') parseJsonl(abs, text, out);
  else if (format === 'json') parseJsonArray(abs, text, out);
  else parseYaml(abs, text, out);
  return out;
}

/** `ENOENT: no such file or directory` out of a Node fs error. */
export function osReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.message === 'string') {
    // Node writes `CODE: description, syscall 'path'`; the path is already in the diagnostic.
    const m = /^([A-Z0-9_]+: [^,]+)/.exec(e.message);
    return m ? m[1] : e.message;
  }
  return String(err);
}

// ---------------------------------------------------------------------------------------------
// .jsonl

function parseJsonl(file: string, text: string, out: ReadRecordsResult): void {
  const lines = text.split('\n');
  const counter = { index: 0 };
  for (let i = 0; i < lines.length; i++) parseJsonlLine(file, lines[i], i + 1, counter, out);
}

/** One .jsonl line: a record, a located problem, or nothing (blank). */
function parseJsonlLine(
  file: string,
  line: string,
  lineNo: number,
  counter: { index: number },
  out: ReadRecordsResult,
): void {
  const raw = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (raw.trim() === '') return;
  const recordIndex = counter.index++;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    const pos = jsonErrorOffset(err);
    out.diagnostics.push({
      file,
      line: lineNo,
      col: pos === undefined ? undefined : Math.min(pos, raw.length) + 1,
      field: `records[${recordIndex}]`,
      message: `line ${lineNo} is not valid JSON (${(err as Error).message})`,
    });
    return;
  }
  const problem = checkParsedJson(raw, value);
  if (problem) {
    out.diagnostics.push({
      file,
      line: lineNo,
      col: problem.offset + 1,
      field: renderPath(`records[${recordIndex}]`, problem.path),
      message: problem.message,
    });
    return;
  }
  const col = raw.length - raw.trimStart().length + 1;
  let doc: Document | null | undefined;
  out.records.push({
    index: recordIndex,
    value,
    line: lineNo,
    col,
    locate(path) {
      // Re-parsing a huge line for a column costs seconds; its line is location enough.
      if (raw.length > MAX_LOCATE_CHARS) return { line: lineNo, col };
      if (doc === undefined) doc = safeParseDocument(raw);
      const offset = doc ? offsetOf(doc.contents, path) : undefined;
      return offset === undefined ? { line: lineNo, col } : { line: lineNo, col: offset + 1 };
    },
  });
}

// ---------------------------------------------------------------------------------------------
// .json

function parseJsonArray(file: string, text: string, out: ReadRecordsResult): void {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const pos = jsonErrorOffset(err);
    const where = pos === undefined ? yamlErrorPosition(text) : new Lines(text).position(pos);
    out.diagnostics.push({ file, ...where, message: `not valid JSON (${(err as Error).message})` });
    return;
  }
  if (!Array.isArray(value)) {
    out.diagnostics.push({
      file,
      line: 1,
      message: `a .json dataset must be an array of records, found ${describe(value)}`,
    });
    return;
  }
  const problem = checkParsedJson(text, value);
  if (problem) {
    out.diagnostics.push({
      file,
      ...new Lines(text).position(problem.offset),
      field: renderPath('records', problem.path),
      message: problem.message,
    });
    return;
  }
  const lazy = lazyDocument(text);
  const starts = value.length ? arrayElementStarts(text) : [];
  const lines = new Lines(text);
  value.forEach((v, index) => {
    const start = starts.length === value.length ? lines.position(starts[index]) : undefined;
    out.records.push(nodeRecord(index, v, lazy, start));
  });
}

/**
 * Offsets where the elements of the top-level array of (valid) JSON `text` begin: one pass that
 * tracks strings and nesting, so record lines cost nothing next to JSON.parse.
 */
function arrayElementStarts(text: string): number[] {
  const starts: number[] = [];
  let depth = 0;
  let expectValue = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      if (depth === 1 && expectValue) {
        starts.push(i);
        expectValue = false;
      }
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
      continue;
    }
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (c === 0x2c /* , */) {
      if (depth === 1) expectValue = true;
      continue;
    }
    if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
      continue;
    }
    if (depth === 1 && expectValue) {
      starts.push(i);
      expectValue = false;
    }
    if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      depth++;
      if (depth === 1) expectValue = true;
    }
  }
  return starts;
}

// ---------------------------------------------------------------------------------------------
// .yaml / .yml

function parseYaml(file: string, text: string, out: ReadRecordsResult): void {
  const lineCounter = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    out.diagnostics.push({ file, line: 1, message: 'not valid YAML (nested too deeply to read)' });
    return;
  }
  for (const e of doc.errors) {
    const p = lineCounter.linePos(e.pos[0]);
    const reason = /call stack/i.test(e.message) ? 'nested too deeply to read' : firstLine(e.message);
    out.diagnostics.push({ file, line: p.line, col: p.col, message: `not valid YAML (${reason})` });
  }
  if (doc.errors.length) return;
  const unsafe = unsafeYamlKey(doc.contents as Node | null);
  if (unsafe) {
    const p = unsafe.offset === undefined ? { line: 1, col: 1 } : lineCounter.linePos(unsafe.offset);
    out.diagnostics.push({
      file,
      line: p.line,
      col: p.col,
      field: unsafe.field.replace(/^\[(\d+)\]/, 'records[$1]'),
      message: unsafe.message,
    });
    return;
  }
  for (const w of doc.warnings) {
    const p = lineCounter.linePos(w.pos[0]);
    out.diagnostics.push({ file, line: p.line, col: p.col, severity: 'warning', message: firstLine(w.message) });
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 10_000 });
  } catch (err) {
    out.diagnostics.push({ file, line: 1, message: `not valid YAML (${(err as Error).message})` });
    return;
  }
  if (value === null || value === undefined) return; // an empty file: no records
  if (!Array.isArray(value)) {
    const p = doc.contents?.range ? lineCounter.linePos(doc.contents.range[0]) : { line: 1, col: 1 };
    out.diagnostics.push({
      file,
      line: p.line,
      col: p.col,
      message: `a YAML dataset must be a sequence of records, found ${describe(value)}`,
    });
    return;
  }
  const lazy = (): Parsed => ({ doc, lineCounter });
  value.forEach((v, index) => out.records.push(nodeRecord(index, v, lazy)));
}

// ---------------------------------------------------------------------------------------------
// positions

interface Parsed {
  doc: Document;
  lineCounter: LineCounter;
}

function lazyDocument(text: string): () => Parsed | null {
  let parsed: Parsed | null | undefined;
  return () => {
    if (parsed === undefined) {
      const lineCounter = new LineCounter();
      const doc = safeParseDocument(text, lineCounter);
      parsed = doc ? { doc, lineCounter } : null;
    }
    return parsed;
  };
}

function safeParseDocument(text: string, lineCounter?: LineCounter): Document | null {
  try {
    const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
    return doc.errors.length ? null : doc;
  } catch {
    return null;
  }
}

/** A record of a .json/.yaml sequence: its position comes from the sequence item node. */
function nodeRecord(index: number, value: unknown, parsed: () => Parsed | null, knownStart?: Position): RawRecord {
  const node = (): unknown => {
    const p = parsed();
    const root = p?.doc.contents;
    return isSeq(root) ? root.items[index] : undefined;
  };
  const pos = (offset: number | undefined): Position | undefined => {
    const p = parsed();
    if (!p || offset === undefined) return undefined;
    return p.lineCounter.linePos(offset);
  };
  let start: Position | undefined | null = knownStart ?? null;
  const recordStart = (): Position | undefined => {
    if (start === null) start = pos(rangeStart(node()));
    return start;
  };
  return {
    index,
    value,
    get line() {
      return recordStart()?.line;
    },
    get col() {
      return recordStart()?.col;
    },
    locate(path) {
      return pos(offsetOf(node(), path)) ?? recordStart();
    },
  };
}

/** Offset of the deepest existing node along `path` under `node` (a key for mappings, an item for lists). */
function offsetOf(node: unknown, path: FieldPath): number | undefined {
  let cur: unknown = node;
  let best = rangeStart(node);
  for (const seg of path) {
    if (isMap(cur)) {
      const pair = cur.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) return best;
      best = rangeStart(pair.key) ?? rangeStart(pair.value) ?? best;
      cur = pair.value;
    } else if (isSeq(cur) && typeof seg === 'number') {
      const item = cur.items[seg];
      if (item === undefined) return best;
      best = rangeStart(item) ?? best;
      cur = item;
    } else {
      return best;
    }
  }
  return best;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range ? range[0] : undefined;
}

/** Maps string offsets to 1-based line/col. */
class Lines {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }
  position(offset: number): Position {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - this.starts[lo] + 1 };
  }
}

/** V8 says `… in JSON at position 42` for most syntax errors. */
function jsonErrorOffset(err: unknown): number | undefined {
  const m = /at position (\d+)/.exec((err as Error)?.message ?? '');
  return m ? Number(m[1]) : undefined;
}

/** When V8 gives no offset, the yaml parser (a JSON superset) usually points at the problem. */
function yamlErrorPosition(text: string): Position {
  const lineCounter = new LineCounter();
  try {
    const doc = parseDocument(text, { lineCounter, prettyErrors: false });
    const e = doc.errors[0];
    if (e) return lineCounter.linePos(e.pos[0]);
  } catch {
    /* fall through */
  }
  return { line: 1 };
}

function firstLine(s: string): string {
  return s.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}

/** `an object`, `a string`, … for messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return Number.isInteger(value) ? `the integer ${value}` : `the number ${value}`;
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'boolean') return `${value}`;
  return typeof value;
}
