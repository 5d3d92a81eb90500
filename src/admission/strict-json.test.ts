import { describe, expect, it } from 'vitest';
import { checkJson, MalformedJson, MAX_DEPTH, type Span } from './strict-json.js';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

function refusal(text: string | Uint8Array): string {
  try {
    checkJson(typeof text === 'string' ? encode(text) : text);
  } catch (err) {
    expect(err).toBeInstanceOf(MalformedJson);
    return (err as Error).message;
  }
  throw new Error(`accepted ${String(text)}`);
}

describe('checkJson', () => {
  it.each([
    ['an object with every kind of value', '{"a":[1,-0,0.5,1e-400,1E+5,"é\\n\\u00e9\\ud83d\\ude00",true,false,null,{}],"b":{}}'],
    ['duplicate keys (the last wins in every parser)', '{"a":1,"a":2,"\\u0061":3}'],
    ['RFC 8259 whitespace around everything', ' \t\r\n{ "a" : [ 1 , 2 ] } \n'],
    ['raw DEL, U+2028 and a BOM inside a string', '"\u007f\u2028\ufeff"'],
    ['a scalar at the top level', '42'],
    ['the largest double', '1.7976931348623157e308'],
    ['an integer beyond 2^53 (OPA compares it exactly)', '9007199254740993'],
    ['a surrogate pair OPA decodes right', '"\\ud83d\\ude00"'],
    [`${MAX_DEPTH} levels of nesting`, '['.repeat(MAX_DEPTH) + ']'.repeat(MAX_DEPTH)],
  ])('accepts %s', (_name, text) => {
    expect(() => checkJson(encode(text))).not.toThrow();
  });

  it.each([
    ['an invalid escape', '"\\x"', 'invalid escape'],
    ['a short \\u escape', '"\\u12"', 'invalid \\u escape'],
    ['a lone high surrogate escape', '"\\ud800"', 'lone high surrogate'],
    ['a high surrogate escape before a non-surrogate one', '"\\ud800\\u0041"', 'lone high surrogate'],
    ['a lone low surrogate escape', '"\\udc00"', 'lone low surrogate'],
    ['a pair OPA misdecodes (U+20000 read as U+10000)', '"\\ud840\\udc00"', 'misreads'],
    ['a raw control character in a string', '"a\tb"', 'control character'],
    ['an unterminated string', '"abc', 'unterminated string'],
    ['a leading zero', '01', 'leading zero'],
    ['a "+" sign', '+1', 'expected a value'],
    ['no digits after "."', '1.', 'after "."'],
    ['no digits in the exponent', '1e+', 'exponent'],
    ['a number beyond a double', '1e309', 'range of a double'],
    ['309 digits', '1'.padEnd(310, '0'), 'range of a double'],
    ['NaN', 'NaN', 'expected a value'],
    ['an array without commas', '[1 2]', 'expected "," or "]"'],
    ['a trailing comma', '[1,]', 'expected a value'],
    ['a non-string key', '{1:2}', 'expected a string key'],
    ['a missing colon', '{"a" 1}', 'expected ":"'],
    ['a form feed as whitespace', '[1,\f2]', 'expected a value'],
    ['a no-break space as whitespace', '[\u00a01]', 'expected a value'],
    ['content after the value', '{} {}', 'after the JSON value'],
    ['a NUL after the value', '{}\u0000', 'after the JSON value'],
    ['a byte-order mark', '\ufeff{}', 'expected a value'],
    ['a truncated literal', 'tru', 'invalid literal'],
    ['an empty body', '', 'found the end'],
    [`${MAX_DEPTH + 1} levels of nesting`, '['.repeat(MAX_DEPTH + 1) + ']'.repeat(MAX_DEPTH + 1), `deeper than ${MAX_DEPTH}`],
  ])('refuses %s', (_name, text, message) => {
    expect(refusal(text)).toContain(message);
  });

  it('refuses deep nesting without recursing (a million levels)', () => {
    expect(refusal('['.repeat(1_000_000))).toContain('deeper than');
  });

  it('visits the members of the top-level object and of the objects directly in it, with their spans', () => {
    const text = '{"a":{"b":[1,{"c":2}],"d":"x"},"e":3,"f":[{"g":4}]}';
    const seen: [string, string][] = [];
    checkJson(encode(text), (path, [start, end]: Span) => seen.push([path.join('.'), text.slice(start, end)]));
    expect(seen).toEqual([
      ['a.b', '[1,{"c":2}]'],
      ['a.d', '"x"'],
      ['a', '{"b":[1,{"c":2}],"d":"x"}'],
      ['e', '3'],
      ['f', '[{"g":4}]'],
    ]);
  });
});
