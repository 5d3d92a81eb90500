import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { parseJson } from './parse-json.js';

/** Texts whose keys hold a backslash: on V8 13.6 and 14.6 they make later escaped keys read as `\`. */
const POISON = ['{"\\\\":0}', '{"h":[],"\\\\":0}', '{"\\r":[],"\\\\":0}', '{"a\\\\":0}'];

/**
 * A JSON value as the set of its nodes: [path, scalar] for leaves and [path, "object" or
 * "array"] for containers, each as JSON text, sorted (members in order are checked apart).
 */
type Nodes = string[];

/**
 * What OPA's json.unmarshal (Go's encoding/json) reads in each text, as nodes; null when it
 * refuses the text. Its answer holds keys and paths only as string values, which JSON.parse
 * reads right whatever it parsed before.
 */
function goNodes(texts: readonly string[]): (Nodes | null)[] {
  const dir = mkdtempSync(join(tmpdir(), 'parse-json-'));
  try {
    writeFileSync(
      join(dir, 'ref.rego'),
      `package ref
nodes(v) := [[p, n] | walk(v, [p, x]); n := node(x)]
node(x) := type_name(x) if type_name(x) in {"object", "array"}
node(x) := x if not type_name(x) in {"object", "array"}
read[i] := nodes(json.unmarshal(t)) if some i, t in input.texts
`,
    );
    writeFileSync(join(dir, 'input.json'), JSON.stringify({ texts }));
    const out = execFileSync(inject('opa'), ['eval', '-f', 'json', '-d', join(dir, 'ref.rego'), '-i', join(dir, 'input.json'), 'data.ref.read'], { encoding: 'utf8' });
    const read = (JSON.parse(out) as { result: { expressions: { value: Record<string, [string[], unknown][]> }[] }[] }).result[0]?.expressions[0]?.value ?? {};
    return texts.map((_, i) => (read[String(i)] ? read[String(i)]!.map((node) => JSON.stringify(node)).sort() : null));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same nodes of a value JavaScript holds. */
function jsNodes(value: unknown): Nodes {
  const nodes: string[] = [];
  const work: [string[], unknown][] = [[[], value]];
  while (work.length > 0) {
    const [path, v] = work.pop()!;
    const container = typeof v === 'object' && v !== null;
    nodes.push(JSON.stringify([path, container ? (Array.isArray(v) ? 'array' : 'object') : v]));
    if (container) for (const [k, child] of Object.entries(v)) work.push([[...path, Array.isArray(v) ? Number(k) : k] as string[], child]);
  }
  return nodes.sort();
}

const read = (text: string): Nodes | null => {
  try {
    return jsNodes(parseJson(text));
  } catch {
    return null;
  }
};

/** Every character of every key written as a \u escape (string tokens taken in order). */
const escapeKeys = (text: string): string =>
  text.replace(/"(?:[^"\\]|\\.)*"(\s*:)?/g, (token: string, colon?: string) => {
    if (!colon) return token;
    const decoded = JSON.parse(token.slice(0, token.length - colon.length)) as string;
    return `"${[...decoded.split('')].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"${colon}`;
  });

describe('parseJson', () => {
  beforeAll(() => {
    for (const text of POISON) JSON.parse(text);
  });

  const cases: [string, string][] = [
    ['a key written as \\u escapes', '{"\\u0061":1}'],
    ['an escaped key repeating an earlier one', '{"a":1,"b":2,"\\u0061":3}'],
    ['an escaped key between two plain ones of the same name: the last value', '{"a":"","\\u0061":" ","a":"last","b":{"\\u0062":1,"b":2}}'],
    ['an escaped key after a plain one (the reported trigger shape)', '{"h":1,"\\"":2}'],
    ['control-character keys', '{"\\r":"v","\\n":"k","\\t":1,"\\f":2,"\\b":3}'],
    ['keys Go escapes', '{"\\u003c":1,"\\u003e":2,"\\u0026":3,"\\u2028":4}'],
    ['escaped keys inside arrays, before and after a backslash key', '{"x":{"\\n":[{"\\"":3},{"\\\\":4},{"\\n":5}]}}'],
    ['an escaped __proto__', '{"\\u005f_proto__":{"polluted":true},"k":1}'],
    ['integer-like escaped keys', '{"\\u0031":1,"b":2,"0":0}'],
    ['whitespace before the colon', '{"x" \n\t: {"\\t"  : 1}}'],
    ['escapes only in values', '{"k":"a\\":b","l":"\\\\","m":["\\n\\"",":"]}'],
    ['a value ending in an escaped backslash, then a colon in a string', '["\\\\", ":", {"q":"\\\\\\""}]'],
    ['a text holding the placeholder prefix', '{"~k0":1,"~~k":2,"\\u007ek0":3}'],
    ['a surrogate pair in a key', '{"\\ud83d\\ude00":1,"😀":2}'],
    ['a string at the top level', '"\\u0061\\n"'],
    ['not JSON', '{"\\u0061":}'],
    ['not JSON: an unterminated escaped string', '{"\\u0061'],
  ];

  it('reads each case as Go does (OPA json.unmarshal), after keys holding a backslash were parsed', () => {
    const expected = goNodes(cases.map(([, text]) => text));
    cases.forEach(([name, text], i) => expect(read(text), name).toEqual(expected[i]));
  });

  it('reads back what JSON.stringify wrote, members in order, with keys escaped or not', () => {
    const key = fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('\\', '"', '\n', '\r', 'a', 'h', '__proto__', '0', '<'));
    const json = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, fc.string(), fc.integer(), fc.boolean(), fc.constant(null), tie('array'), tie('object')),
      array: fc.array(tie('value'), { maxLength: 4 }),
      object: fc.array(fc.tuple(key, tie('value')), { maxLength: 5 }).map((entries) => {
        const object: Record<string, unknown> = {};
        for (const [k, v] of entries) Object.defineProperty(object, k, { value: v, writable: true, enumerable: true, configurable: true });
        return object;
      }),
    })).object;
    fc.assert(
      fc.property(json, (value) => {
        const text = JSON.stringify(value);
        expect(JSON.stringify(parseJson(text))).toBe(text);
        expect(JSON.stringify(parseJson(escapeKeys(text)))).toBe(text);
      }),
      { numRuns: 300, seed: 20_261_202 },
    );
  });

  it('reads deeply nested escaped keys without exhausting the stack', () => {
    const depth = 10_000;
    let value = parseJson('{"\\n":'.repeat(depth) + '1' + '}'.repeat(depth)) as Record<string, unknown>;
    for (let i = 0; i < depth - 1; i++) value = value['\n'] as Record<string, unknown>;
    expect(value).toEqual({ '\n': 1 });
  });
});

describe('parseJson errors', () => {
  it.each(['{"\\u0061":}', '{"\\n":1,}', '{"\\u00zz":1}'])('throws what JSON.parse throws for %s', (text) => {
    let expected = '';
    try {
      JSON.parse(text);
    } catch (err) {
      expected = (err as Error).message;
    }
    expect(expected).not.toBe('');
    expect(() => parseJson(text)).toThrow(expected);
  });
});
