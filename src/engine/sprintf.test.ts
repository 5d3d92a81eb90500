// Every expected string below is what `opa eval 'sprintf(format, args)'` prints with the
// pinned OPA (v1.22.4): goSprintf replaces the SDK's sprintf so that a policy's messages are
// the same under `opa test` and in bouncer.
import { describe, expect, it } from 'vitest';
import { BuiltinError } from './builtin-error.js';
import { fromJs, str } from './rego-value.js';
import { goSprintf, sprintfBuiltin } from './sprintf.js';

type Case = { name: string; format: string; args: unknown[]; expected: string };

const check = ({ format, args, expected }: Case) => {
  expect(goSprintf(format, args.map(fromJs))).toBe(expected);
};

describe('goSprintf: verbs on their own types', () => {
  it.each<Case>([
    { name: '%s string', format: 'hello %s', args: ['world'], expected: 'hello world' },
    { name: '%v string', format: '%v', args: ['a'], expected: 'a' },
    { name: '%v integer', format: '%v', args: [5], expected: '5' },
    { name: '%v float', format: '%v', args: [1.5], expected: '1.5' },
    { name: '%v large float', format: '%v', args: [1e21], expected: '1e+21' },
    { name: '%v null', format: '%v', args: [null], expected: 'null' },
    { name: '%v boolean', format: '%v', args: [true], expected: 'true' },
    { name: '%s null', format: '%s', args: [null], expected: 'null' },
    { name: '%s boolean', format: '%s', args: [false], expected: 'false' },
    { name: '%q string', format: '%q', args: ['a"b'], expected: '"a\\"b"' },
    { name: '%q string with newline and non-ASCII', format: '%q', args: ['é\n'], expected: '"é\\n"' },
    { name: '%d integer', format: '%d', args: [42], expected: '42' },
    { name: '%d negative integer', format: '%d', args: [-7], expected: '-7' },
    { name: '%f float', format: '%f', args: [1.5], expected: '1.500000' },
    { name: '%.2f float', format: '%.2f', args: [3.14159], expected: '3.14' },
    { name: '%.0f float', format: '%.0f', args: [2.75], expected: '3' },
    { name: '%x integer', format: '%x', args: [255], expected: 'ff' },
    { name: '%X integer', format: '%X', args: [255], expected: 'FF' },
    { name: '%x negative integer', format: '%x', args: [-255], expected: '-ff' },
    { name: '%x string', format: '%x', args: ['hi'], expected: '6869' },
    { name: '%T string', format: '%T', args: ['a'], expected: 'string' },
    { name: '%% literal', format: '100%%', args: [], expected: '100%' },
    { name: '%% between verbs', format: '%d%% of %s', args: [50, 'pods'], expected: '50% of pods' },
    { name: 'no verbs', format: 'plain text', args: [], expected: 'plain text' },
    { name: 'several verbs in order', format: '%s/%s/%d', args: ['spec', 'containers', 0], expected: 'spec/containers/0' },
  ])('$name', check);
});

describe('goSprintf: composite values are printed like OPA terms', () => {
  it.each<Case>([
    { name: '%v array of strings', format: '%v', args: [['a', 'b']], expected: '["a", "b"]' },
    { name: '%s array of strings', format: '%s', args: [['a', 'b']], expected: '["a", "b"]' },
    { name: '%v object', format: '%v', args: [{ a: 1 }], expected: '{"a": 1}' },
    { name: '%s object', format: '%s', args: [{ a: 1 }], expected: '{"a": 1}' },
    { name: '%v empty array and object', format: '%v %v', args: [[], {}], expected: '[] {}' },
    { name: '%v nested mixed values', format: '%v', args: [[1, 'a', null, true, { k: [2] }]], expected: '[1, "a", null, true, {"k": [2]}]' },
    { name: '%v object keys in sorted order', format: '%v', args: [{ b: 1, a: 2 }], expected: '{"a": 2, "b": 1}' },
    { name: '%v nested object keys in sorted order', format: '%v', args: [{ b: { z: 1, y: 2 }, a: [3] }], expected: '{"a": [3], "b": {"y": 2, "z": 1}}' },
    { name: '%q array (quotes its text)', format: '%q', args: [['a']], expected: '"[\\"a\\"]"' },
    { name: '%q boolean (quotes its text)', format: '%q', args: [true], expected: '"true"' },
  ])('$name', check);
});

describe('goSprintf: missing and extra arguments', () => {
  it.each<Case>([
    { name: 'one missing', format: '%s %s', args: ['a'], expected: 'a %!s(MISSING)' },
    { name: 'missing %v', format: '%v %v', args: ['a'], expected: 'a %!v(MISSING)' },
    { name: 'missing %d with no args', format: 'n=%d', args: [], expected: 'n=%!d(MISSING)' },
    { name: 'extra string', format: 'hi', args: ['guys'], expected: 'hi%!(EXTRA string=guys)' },
    { name: 'extra string and integer', format: '%s', args: ['a', 'b', 3], expected: 'a%!(EXTRA string=b, int64=3)' },
  ])('$name', check);

  it('is a builtin error (undefined in OPA) when args is not an array', () => {
    expect(() => sprintfBuiltin([str('%s'), str('x')])).toThrow(BuiltinError);
  });

  it('is a builtin error (undefined in OPA) when the format is not a string', () => {
    expect(() => sprintfBuiltin([fromJs(42), fromJs([])])).toThrow(BuiltinError);
  });
});

describe('goSprintf: a verb applied to the wrong type', () => {
  it.each<Case>([
    { name: '%d string', format: '%d', args: ['x'], expected: '%!d(string=x)' },
    { name: '%d float', format: '%d', args: [1.5], expected: '%!d(float64=1.5)' },
    { name: '%s integer', format: '%s', args: [5], expected: '%!s(int64=5)' },
    { name: '%f integer', format: '%f', args: [3], expected: '%!f(int64=3)' },
    { name: '%t boolean (OPA passes booleans as text)', format: '%t', args: [true], expected: '%!t(string=true)' },
  ])('$name', check);
});

describe('goSprintf: %T', () => {
  it.each<Case>([
    { name: 'integer', format: '%T', args: [1], expected: 'int64' },
    { name: 'float', format: '%T', args: [1.5], expected: 'float64' },
    { name: 'boolean', format: '%T', args: [true], expected: 'string' },
    { name: 'array', format: '%T', args: [[1]], expected: 'string' },
  ])('$name', check);
});

describe('goSprintf: width, flags and other float verbs', () => {
  it.each<Case>([
    { name: 'right-aligned %5s', format: '[%5s]', args: ['ab'], expected: '[   ab]' },
    { name: 'left-aligned %-5s', format: '[%-5s]', args: ['cd'], expected: '[cd   ]' },
    { name: 'zero-padded %05d', format: '%05d', args: [42], expected: '00042' },
    { name: 'left-aligned %-6d', format: '%-6d|', args: [42], expected: '42    |' },
    { name: 'width and precision %8.2f', format: '%8.2f|', args: [3.14159], expected: '    3.14|' },
    { name: 'negative %6.2f', format: '%6.2f|', args: [-3.14159], expected: ' -3.14|' },
    { name: 'width shorter than the text', format: '%2s', args: ['abcdef'], expected: 'abcdef' },
    { name: 'zero-padded %04x', format: '%04x', args: [255], expected: '00ff' },
    { name: 'zero-padded negative %05d', format: '%05d', args: [-42], expected: '-0042' },
    { name: 'zero-padded negative %06.2f', format: '%06.2f|', args: [-3.14159], expected: '-03.14|' },
    { name: 'zero-padded %05s', format: '%05s', args: ['ab'], expected: '000ab' },
    { name: '%e', format: '%e', args: [1234.5], expected: '1.234500e+03' },
    { name: '%g', format: '%g', args: [1234.5], expected: '1234.5' },
  ])('$name', check);
});
