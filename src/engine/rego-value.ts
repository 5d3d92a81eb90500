// Rego values as the engine's builtins see them. The SDK hands builtins JSON-parsed
// arguments, which turns sets into arrays and rounds integers beyond 2^53; OPA's Go
// builtins see neither loss. The host (wasm-host.ts) dumps arguments with the module's
// `opa_value_dump` instead — Rego literal syntax, with sets as `{a, b}` / `set()`, numbers
// as their exact text and non-string object keys — and this file parses that text, prints
// values the way Go OPA prints terms (`ast.Value.String()`), orders them as `ast.Compare`
// does, and writes results back as text `opa_value_parse` reads.
// https://github.com/open-policy-agent/opa/blob/v1.22.4/wasm/src/json.c (opa_value_dump)
import { parseJson } from '../json/parse-json.js';

export type RegoValue =
  | { readonly type: 'null' }
  | { readonly type: 'boolean'; readonly value: boolean }
  /** `text` is the number as OPA holds it (JSON number syntax, exact). */
  | { readonly type: 'number'; readonly text: string }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'array'; readonly items: readonly RegoValue[] }
  | { readonly type: 'set'; readonly items: readonly RegoValue[] }
  | { readonly type: 'object'; readonly entries: readonly (readonly [RegoValue, RegoValue])[] };

export const NULL: RegoValue = { type: 'null' };
export const str = (value: string): RegoValue => ({ type: 'string', value });
export const num = (text: string | number | bigint): RegoValue => ({ type: 'number', text: String(text) });
export const bool = (value: boolean): RegoValue => ({ type: 'boolean', value });

const NUMBER_CHARS = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?$/;

/** Parses `opa_value_dump` output (a superset of JSON). Throws on text it does not produce. */
export function parseRegoValue(text: string): RegoValue {
  let at = 0;
  const fail = (): never => {
    throw new Error(`unexpected value text at offset ${at}: ${text.slice(at, at + 20)}`);
  };
  const skip = (): void => {
    for (let c = text.charCodeAt(at); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = text.charCodeAt(++at));
  };
  const literal = (word: string, value: RegoValue): RegoValue => {
    if (!text.startsWith(word, at)) fail();
    at += word.length;
    return value;
  };
  const string = (): RegoValue => {
    const start = at++;
    let escaped = false;
    for (;;) {
      const c = text.charCodeAt(at++);
      if (Number.isNaN(c)) fail();
      if (c === 0x5c) {
        escaped = true;
        at++;
      } else if (c === 0x22) break;
    }
    return str(escaped ? (parseJson(text.slice(start, at)) as string) : text.slice(start + 1, at - 1));
  };
  const number = (): RegoValue => {
    const start = at;
    for (let c = text.charCodeAt(at); (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45; c = text.charCodeAt(++at));
    const t = text.slice(start, at);
    if (!NUMBER_CHARS.test(t)) fail();
    return num(t);
  };
  const list = (close: number, item: () => void): void => {
    skip();
    if (text.charCodeAt(at) === close) {
      at++;
      return;
    }
    for (;;) {
      item();
      skip();
      const c = text.charCodeAt(at++);
      if (c === close) return;
      if (c !== 0x2c) fail();
    }
  };
  const value = (): RegoValue => {
    skip();
    switch (text.charAt(at)) {
      case '"':
        return string();
      case '[': {
        at++;
        const items: RegoValue[] = [];
        list(0x5d, () => items.push(value()));
        return { type: 'array', items };
      }
      case '{': {
        at++;
        const entries: [RegoValue, RegoValue][] = [];
        const items: RegoValue[] = [];
        list(0x7d, () => {
          const first = value();
          skip();
          if (text.charCodeAt(at) === 0x3a) {
            at++;
            entries.push([first, value()]);
          } else items.push(first);
        });
        if (items.length > 0 && entries.length > 0) fail();
        return items.length > 0 ? { type: 'set', items } : { type: 'object', entries };
      }
      case 's':
        return literal('set()', { type: 'set', items: [] });
      case 'n':
        return literal('null', NULL);
      case 't':
        return literal('true', bool(true));
      case 'f':
        return literal('false', bool(false));
      default:
        return number();
    }
  };
  const result = value();
  skip();
  if (at !== text.length) fail();
  return result;
}

/** The value as text `opa_value_parse` reads back (JSON plus set literals). */
export function wasmText(v: RegoValue): string {
  switch (v.type) {
    case 'null':
      return 'null';
    case 'boolean':
      return String(v.value);
    case 'number':
      return v.text;
    case 'string':
      return JSON.stringify(v.value);
    case 'array':
      return `[${v.items.map(wasmText).join(',')}]`;
    case 'set':
      return v.items.length === 0 ? 'set()' : `{${v.items.map(wasmText).join(',')}}`;
    case 'object':
      return `{${v.entries.map(([k, x]) => `${k.type === 'string' ? wasmText(k) : JSON.stringify(wasmText(k))}:${wasmText(x)}`).join(',')}}`;
  }
}

/** Plain JSON-like JS (sets as arrays, numbers as doubles), for SDK builtins written against it. */
export function toJs(v: RegoValue): unknown {
  switch (v.type) {
    case 'null':
      return null;
    case 'boolean':
    case 'string':
      return v.value;
    case 'number':
      return Number(v.text);
    case 'array':
    case 'set':
      return v.items.map(toJs);
    case 'object':
      return Object.fromEntries(v.entries.map(([k, x]) => [k.type === 'string' ? k.value : wasmText(k), toJs(x)]));
  }
}

/** A JSON-like JS value as a Rego value (numbers by their JS text). */
export function fromJs(x: unknown): RegoValue {
  if (x === null || x === undefined) return NULL;
  if (typeof x === 'boolean') return bool(x);
  if (typeof x === 'number' || typeof x === 'bigint') return num(x);
  if (typeof x === 'string') return str(x);
  if (Array.isArray(x)) return { type: 'array', items: x.map(fromJs) };
  if (x instanceof Set) return { type: 'set', items: [...(x as Set<unknown>)].map(fromJs) };
  return { type: 'object', entries: Object.entries(x as Record<string, unknown>).map(([k, v]) => [str(k), fromJs(v)] as const) };
}

const ORDER: Record<RegoValue['type'], number> = { null: 0, boolean: 1, number: 2, string: 3, array: 7, object: 8, set: 9 };

/** Exact comparison of two JSON number texts (what ast.NumberCompare does with big.Float). */
function compareNumbers(a: string, b: string): number {
  const integer = /^-?\d+$/;
  if (integer.test(a) && integer.test(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = Number(a);
  const y = Number(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Byte-wise comparison of the UTF-8 encodings, as Go compares strings. */
function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return Buffer.compare(x, y);
}

function compareLists(a: readonly RegoValue[], b: readonly RegoValue[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareValues(a[i] as RegoValue, b[i] as RegoValue);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** OPA's ast.Compare on values: type order null < boolean < number < string < array < object < set. */
export function compareValues(a: RegoValue, b: RegoValue): number {
  if (a.type !== b.type) return ORDER[a.type] - ORDER[b.type];
  switch (a.type) {
    case 'null':
      return 0;
    case 'boolean':
      return Number(a.value) - Number((b as typeof a).value);
    case 'number':
      return compareNumbers(a.text, (b as typeof a).text);
    case 'string':
      return compareStrings(a.value, (b as typeof a).value);
    case 'array':
      return compareLists(a.items, (b as typeof a).items);
    case 'set':
      return compareLists(sortedItems(a.items), sortedItems((b as typeof a).items));
    case 'object': {
      const x = sortedEntries(a.entries);
      const y = sortedEntries((b as typeof a).entries);
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const [xk, xv] = x[i] as readonly [RegoValue, RegoValue];
        const [yk, yv] = y[i] as readonly [RegoValue, RegoValue];
        const c = compareValues(xk, yk) || compareValues(xv, yv);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
  }
}

const sortedItems = (items: readonly RegoValue[]): RegoValue[] => [...items].sort(compareValues);
const sortedEntries = (entries: readonly (readonly [RegoValue, RegoValue])[]): (readonly [RegoValue, RegoValue])[] =>
  [...entries].sort(([a], [b]) => compareValues(a, b));

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };

/** Go's strconv.Quote: printable runes as they are, `\n`-style escapes, `\x`, `\u` and `\U` otherwise. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (PRINTABLE.test(ch)) out += ch;
    else if (SHORT_ESCAPES[ch] !== undefined) out += SHORT_ESCAPES[ch];
    else {
      const cp = ch.codePointAt(0) as number;
      if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
      else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd';
      else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
      else out += `\\U${cp.toString(16).padStart(8, '0')}`;
    }
  }
  return `${out}"`;
}

/** Go OPA's `Value.String()`: strings quoted by strconv.Quote, sets and object keys sorted, ", " separators. */
export function regoString(v: RegoValue): string {
  switch (v.type) {
    case 'null':
      return 'null';
    case 'boolean':
      return String(v.value);
    case 'number':
      return v.text;
    case 'string':
      return goQuote(v.value);
    case 'array':
      return `[${v.items.map(regoString).join(', ')}]`;
    case 'set':
      return v.items.length === 0 ? 'set()' : `{${sortedItems(v.items).map(regoString).join(', ')}}`;
    case 'object':
      return `{${sortedEntries(v.entries).map(([k, x]) => `${regoString(k)}: ${regoString(x)}`).join(', ')}}`;
  }
}
