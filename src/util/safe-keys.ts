// Keys that could reach Object.prototype (`__proto__`, and `constructor`/`prototype` through merges)
// are refused wherever we read user data; JSON text is also checked for duplicate keys (JSON.parse
// silently keeps the last one) and for nesting deeper than any real record needs.

/** Keys refused in manifests, datasets and request bodies. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Deepest nesting accepted in a record or manifest; real ones stay under 10. */
export const MAX_DEPTH = 64;

export type KeyPath = (string | number)[];

/** A problem found in JSON text: where (byte offset in the text, path of keys) and what. */
export interface JsonTextProblem {
  offset: number;
  path: KeyPath;
  message: string;
}

/** `records[3].response[1]`-style rendering of a key path under `prefix`. */
export function renderPath(prefix: string, path: KeyPath): string {
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), prefix);
}

const forbiddenMessage = (key: string) =>
  `the key ${JSON.stringify(key)} is not allowed (it could reach Object.prototype); rename it`;

/**
 * Scans JSON text that JSON.parse already accepted for duplicate keys, forbidden keys and nesting
 * deeper than `maxDepth`, without recursion. Returns the first problem, or undefined.
 */
export function checkJsonText(text: string, maxDepth = MAX_DEPTH): JsonTextProblem | undefined {
  type Frame = { keys?: Set<string>; key?: string; index: number; expectKey: boolean };
  const stack: Frame[] = [];
  const path = (): KeyPath => stack.map((f) => (f.keys ? (f.key ?? '') : f.index));
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      let escaped = false;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) {
          escaped = true;
          i++;
        } else if (d === 0x22) break;
      }
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const raw = text.slice(start + 1, i);
        const key = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : raw;
        top.expectKey = false;
        top.key = key;
        if (FORBIDDEN_KEYS.has(key)) return { offset: start, path: path(), message: forbiddenMessage(key) };
        if (top.keys.has(key))
          return {
            offset: start,
            path: path(),
            message: `duplicate key ${JSON.stringify(key)}: JSON keeps only the last one; remove one of them`,
          };
        top.keys.add(key);
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= maxDepth)
        return { offset: i, path: path(), message: `nested more than ${maxDepth} levels deep` };
      stack.push(c === 0x7b ? { keys: new Set(), index: 0, expectKey: true } : { index: 0, expectKey: false });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
      else if (top) top.index++;
    }
  }
  return undefined;
}

/**
 * checkJsonText for text whose parsed `value` is at hand, fast in the common case: the value is walked
 * (forbidden keys, depth) and its keys counted against the `"…":` pairs in the text; only when they
 * disagree (a duplicate collapsed, or a string merely looks like a key) is the text scanned.
 */
export function checkParsedJson(text: string, value: unknown, maxDepth = MAX_DEPTH): JsonTextProblem | undefined {
  let keys = 0;
  let suspicious = false;
  const stack: { node: unknown; depth: number }[] = [{ node: value, depth: 0 }];
  while (stack.length && !suspicious) {
    const { node, depth } = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth >= maxDepth) {
      suspicious = true;
      break;
    }
    if (Array.isArray(node)) {
      for (const item of node)
        if (typeof item === 'object' && item !== null) stack.push({ node: item, depth: depth + 1 });
      continue;
    }
    for (const key of Object.keys(node)) {
      keys++;
      if (FORBIDDEN_KEYS.has(key)) suspicious = true;
      const child = (node as Record<string, unknown>)[key];
      if (typeof child === 'object' && child !== null) stack.push({ node: child, depth: depth + 1 });
    }
  }
  if (!suspicious) {
    let written = 0;
    const pair = /"\s*:/g;
    while (pair.exec(text)) written++;
    if (written === keys) return undefined;
  }
  return checkJsonText(text, maxDepth);
}

/**
 * The first forbidden key in an already parsed value, or undefined; checks without recursion, and
 * reports nesting deeper than `maxDepth`. For request bodies (the reward service) and YAML values.
 * @example findUnsafeKey(JSON.parse('{"a":{"__proto__":{}}}')) // { path: ['a', '__proto__'], message: … }
 */
export function findUnsafeKey(value: unknown, maxDepth = MAX_DEPTH): { path: KeyPath; message: string } | undefined {
  const stack: { node: unknown; path: KeyPath }[] = [{ node: value, path: [] }];
  while (stack.length) {
    const { node, path } = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (path.length > maxDepth) return { path, message: `nested more than ${maxDepth} levels deep` };
    if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push({ node: node[i], path: [...path, i] });
      continue;
    }
    for (const key of Object.keys(node)) {
      if (FORBIDDEN_KEYS.has(key)) return { path: [...path, key], message: forbiddenMessage(key) };
      stack.push({ node: (node as Record<string, unknown>)[key], path: [...path, key] });
    }
  }
  return undefined;
}

export { forbiddenMessage as forbiddenKeyMessage };
