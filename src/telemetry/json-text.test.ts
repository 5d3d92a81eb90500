import { describe, expect, it } from 'vitest';
import { iterativeJsonText, jsonText } from './json-text.js';

describe('jsonText', () => {
  it.each<[string, unknown]>([
    ['a string with escapes', 'a"b\\c\n\u2028'],
    ['numbers', [0, -0, 1.5, 1e21, Number.NaN, Number.POSITIVE_INFINITY]],
    ['null, booleans', [null, true, false]],
    ['empty containers', { a: {}, b: [], c: [[], {}] }],
    ['undefined members are left out, undefined elements are null', { a: undefined, b: [undefined, 1], c: 2 }],
    ['keys needing escapes', { 'a"b': 1, '': 2, 'é/~': { x: [1, { y: 'z' }] } }],
    ['a member named __proto__', JSON.parse('{"__proto__":{"x":1},"y":[{"__proto__":2}]}') as unknown],
    ['a nested event', { version: 1, policies: [{ policy: 'p', messages: ['m'] }], input: { object: { kind: 'Pod', spec: { containers: [{ name: 'a' }] } }, oldObject: null } }],
  ])('gives the text JSON.stringify gives: %s', (_name, value) => {
    expect(iterativeJsonText(value)).toBe(JSON.stringify(value));
  });

  it('gives undefined where JSON.stringify does', () => {
    expect(iterativeJsonText(undefined)).toBeUndefined();
  });

  it('serializes values deeper than JSON.stringify can', () => {
    const depth = 20_000;
    let value: unknown = { leaf: [1, 'two'] };
    for (let i = 0; i < depth; i++) value = i % 2 ? { a: value, b: i } : [value, i];
    expect(() => JSON.stringify(value)).toThrow(RangeError);
    const text = jsonText(value);
    expect(text.length).toBeGreaterThan(depth * 4);
    // JSON.parse is not recursive: the text round-trips (compared as text, as comparison would recurse).
    expect(iterativeJsonText(JSON.parse(text))).toBe(text);
    expect(text.startsWith('{"a":[{"a":')).toBe(true);
  });
});
