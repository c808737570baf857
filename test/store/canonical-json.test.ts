import { describe, expect, it } from 'vitest';
import { canonicalJson, keyOf, sha256Hex } from '../../src/store/canonical-json.js';

describe('canonicalJson', () => {
  it('sorts object keys recursively and emits no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}',
    );
  });

  it('gives the same key whatever the key order, and a different key when a value changes', () => {
    const a = { judge: { model: 'm', temperature: 0 }, rubric: { per_pair: 5 } };
    const b = { rubric: { per_pair: 5 }, judge: { temperature: 0, model: 'm' } };
    expect(keyOf(a)).toBe(keyOf(b));
    expect(keyOf(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(keyOf({ ...a, rubric: { per_pair: 6 } })).not.toBe(keyOf(a));
  });

  it('keeps array order significant', () => {
    expect(keyOf([1, 2])).not.toBe(keyOf([2, 1]));
  });

  it('escapes strings exactly like JSON.stringify', () => {
    expect(canonicalJson({ 'k"\n': 'é\u0000' })).toBe(JSON.stringify({ 'k"\n': 'é\u0000' }));
  });

  it.each([
    ['undefined property', { a: undefined }, '$.a'],
    ['undefined in an array', [1, undefined], '$[1]'],
    ['function', { f: () => 1 }, '$.f'],
    ['NaN', { x: { y: NaN } }, '$.x.y'],
    ['Infinity', { x: Infinity }, '$.x'],
    ['bigint', { n: 1n }, '$.n'],
    ['Date', { d: new Date(0) }, '$.d'],
  ])('rejects a %s and names where it is', (_name, value, at) => {
    expect(() => canonicalJson(value)).toThrow(`cannot encode ${at} as canonical JSON`);
  });

  it('rejects circular references', () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => canonicalJson(loop)).toThrow('circular reference');
  });

  it('accepts the same object twice when it is not a cycle', () => {
    const shared = { a: 1 };
    expect(canonicalJson([shared, shared])).toBe('[{"a":1},{"a":1}]');
  });

  it('hashes strings and bytes alike', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex(Buffer.from('abc'))).toBe(sha256Hex('abc'));
  });
});
