import { describe, expect, it } from 'vitest';
import { lexRego, RegoLexError } from './rego-lexer.js';

const texts = (source: string): string[] => lexRego(source).map((t) => t.text);

describe('lexRego', () => {
  it('skips comments and keeps strings, raw strings and numbers whole', () => {
    expect(texts('x := "a # not a comment \\" data.lib" # data.lib comment\ny := `raw\n# not a comment` + 1.5e-3')).toEqual([
      'x',
      ':=',
      '"a # not a comment \\" data.lib"',
      'y',
      ':=',
      '`raw\n# not a comment`',
      '+',
      '1.5e-3',
    ]);
  });

  it('gives every token the line it starts on, counting lines inside raw strings', () => {
    const tokens = lexRego('a\n`x\ny`\n  b == c\n');
    expect(tokens.map((t) => [t.text, t.line])).toEqual([
      ['a', 1],
      ['`x\ny`', 2],
      ['b', 4],
      ['==', 4],
      ['c', 4],
    ]);
  });

  it('lexes the code inside template strings and skips their literal text', () => {
    expect(texts('m := $"a {data.lib.x} \\{ \\" {f({"k": 1})}" + $`r {y}`')).toEqual(['m', ':=', 'data', '.', 'lib', '.', 'x', 'f', '(', '{', '"k"', ':', '1', '}', ')', '+', 'y']);
  });

  it.each([
    ['an unterminated string', 'x := "abc\n', 1],
    ['an unterminated raw string', 'a\nx := `abc\n', 2],
    ['an unterminated template expression', 'x := $"{a"', 1],
    ['a character Rego does not use', 'x := 1 ^ 2', 1],
  ])('refuses %s, with its line', (_, source, line) => {
    expect(() => lexRego(source)).toThrow(RegoLexError);
    try {
      lexRego(source);
    } catch (err) {
      expect((err as RegoLexError).line).toBe(line);
    }
  });
});
