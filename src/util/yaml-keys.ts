// Forbidden keys and absurd nesting in a parsed YAML document, found on its nodes (before any plain
// object is built from them: building one is what would pollute Object.prototype).
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import { FORBIDDEN_KEYS, forbiddenKeyMessage, MAX_DEPTH } from './safe-keys.js';

const joinPath = (parent: string, key: string | number): string =>
  typeof key === 'number' ? `${parent}[${key}]` : parent ? `${parent}.${key}` : key;

/**
 * The first mapping key that could reach Object.prototype, or nesting deeper than MAX_DEPTH, found
 * on the parsed nodes before any plain object is built from them (building one is what pollutes).
 */
export function unsafeYamlKey(
  root: Node | null | undefined,
  maxDepth = MAX_DEPTH,
): { offset?: number; field: string; message: string } | undefined {
  const stack: { node: Node | null | undefined; path: string; depth: number }[] = [{ node: root, path: '', depth: 0 }];
  while (stack.length) {
    const { node, path, depth } = stack.pop()!;
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth >= maxDepth)
      return { offset: node.range?.[0], field: path, message: `nested more than ${maxDepth} levels deep` };
    if (isMap(node)) {
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
        const childPath = joinPath(path, key);
        if (FORBIDDEN_KEYS.has(key))
          return { offset: keyNode?.range?.[0], field: childPath, message: forbiddenKeyMessage(key) };
        stack.push({ node: pair.value as Node | null, path: childPath, depth: depth + 1 });
      }
    } else {
      node.items.forEach((item, i) =>
        stack.push({ node: item as Node | null, path: joinPath(path, i), depth: depth + 1 }),
      );
    }
  }
  return undefined;
}
