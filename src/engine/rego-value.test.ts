// parseRegoValue reads what the module's opa_value_dump writes; wasmText writes what its
// opa_value_parse reads. (How values print, regoString, is checked against opa eval in
// test/unit/builtins-vs-opa.test.ts.)
import { describe, expect, it } from 'vitest';
import { compareValues, num, parseRegoValue, str, wasmText, type RegoValue } from './rego-value.js';

describe('parseRegoValue', () => {
  it.each<[string, RegoValue]>([
    ['set()', { type: 'set', items: [] }],
    ['{}', { type: 'object', entries: [] }],
    ['{"a", 1}', { type: 'set', items: [str('a'), num(1)] }],
    ['{1: "one", ["k"]: null}', { type: 'object', entries: [[num(1), str('one')], [{ type: 'array', items: [str('k')] }, { type: 'null' }]] }],
    ['[12345678901234567890123, 1.0, -2.50e+3]', { type: 'array', items: [num('12345678901234567890123'), num('1.0'), num('-2.50e+3')] }],
    ['"tab\\t\\"q\\" é"', str('tab\t"q" é')],
    ['[true, false, {set(), {"x": [set()]}}]', { type: 'array', items: [{ type: 'boolean', value: true }, { type: 'boolean', value: false }, { type: 'set', items: [{ type: 'set', items: [] }, { type: 'object', entries: [[str('x'), { type: 'array', items: [{ type: 'set', items: [] }] }]] }] }] }],
  ])('%s', (text, value) => {
    expect(parseRegoValue(text)).toEqual(value);
  });

  it.each(['', '[1,', '{"a": 1, "b"}', '01', 'nul', '"open', '[1] x'])('refuses %j', (text) => {
    expect(() => parseRegoValue(text)).toThrow(/unexpected value text/);
  });
});

describe('wasmText', () => {
  it('writes sets as literals and non-string object keys as their JSON text', () => {
    const v: RegoValue = { type: 'object', entries: [[num(1), { type: 'set', items: [str('a')] }], [str('e'), { type: 'set', items: [] }]] };
    expect(wasmText(v)).toBe('{"1":{"a"},"e":set()}');
  });
});

describe('compareValues', () => {
  it('orders types as OPA does and numbers exactly', () => {
    const values: RegoValue[] = [{ type: 'set', items: [] }, { type: 'object', entries: [] }, { type: 'array', items: [] }, str('a'), num('9007199254740993'), num('9007199254740992'), { type: 'boolean', value: false }, { type: 'null' }];
    expect([...values].sort(compareValues).map(wasmText)).toEqual(['null', 'false', '9007199254740992', '9007199254740993', '"a"', '[]', '{}', 'set()']);
  });
});
