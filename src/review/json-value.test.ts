import { describe, expect, it } from 'vitest';
import { deepChain, deepChainLeaf, KUBERNETES_MAX_JSON_DEPTH } from '../../test/support/deep.js';
import { cloneJson, equalJson, iterativeClone } from './json-value.js';

describe.each([
  ['cloneJson', cloneJson],
  ['iterativeClone', iterativeClone],
])('%s', (_name, clone) => {
  it('copies every container and keeps every value', () => {
    const value = JSON.parse('{"a":[1,{"b":null,"c":"x"}],"__proto__":{"d":true},"e":{}}') as Record<string, unknown>;
    const copy = clone(value);
    expect(JSON.stringify(copy)).toBe(JSON.stringify(value));
    expect(copy.a).not.toBe(value.a);
    expect((copy.a as unknown[])[1]).not.toBe((value.a as unknown[])[1]);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
  });

  it('copies a value deeper than structuredClone can', () => {
    const value = deepChain(KUBERNETES_MAX_JSON_DEPTH * 2);
    expect(() => structuredClone(value)).toThrow(RangeError);
    const copy = clone(value);
    expect(copy === value).toBe(false);
    expect(deepChainLeaf(copy)).toEqual({ leaf: true });
  });
});

describe('equalJson', () => {
  it.each<[string, unknown, unknown, boolean]>([
    ['equal scalars', 'a', 'a', true],
    ['a number and its string', 1, '1', false],
    ['member order does not matter', { a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }, true],
    ['element order does', [1, 2], [2, 1], false],
    ['an array is no object', [], {}, false],
    ['a missing member', { a: 1 }, { a: 1, b: 2 }, false],
    ['null is no object', null, {}, false],
  ])('%s', (_name, a, b, equal) => {
    expect(equalJson(a, b)).toBe(equal);
    expect(equalJson(b, a)).toBe(equal);
  });

  it('compares values deeper than recursion allows', () => {
    expect(equalJson(deepChain(KUBERNETES_MAX_JSON_DEPTH * 2), deepChain(KUBERNETES_MAX_JSON_DEPTH * 2))).toBe(true);
    expect(equalJson(deepChain(KUBERNETES_MAX_JSON_DEPTH * 2), deepChain(KUBERNETES_MAX_JSON_DEPTH * 2, { leaf: false }))).toBe(false);
  });
});
