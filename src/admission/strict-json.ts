// The JSON language bouncer accepts: RFC 8259 JSON that OPA's WASM parser reads to the same
// value as JSON.parse, and that the API server can send. The policy input is the raw body,
// parsed inside WASM, and JavaScript reads the same bytes (the envelope for scoping, the
// objects for patches and the decision log), so the two parsers must agree on every body
// bouncer evaluates. OPA's parser (opa/wasm/src/json.c) departs from JSON both ways:
//
// - it aborts on a lone UTF-16 surrogate escape ("\ud800", "\udc00", "\ud800x"), decodes
//   other unpaired ones ("\ud800\u0041", "\udc00\ud800") to characters JSON.parse does not
//   produce, and misdecodes half of the paired ones (see skipEscape);
// - it accepts what JSON forbids: arrays without commas or with a trailing one ("[1 2]",
//   "[1,]"), non-string keys ("{1:2}"), numbers without digits after "." or "e" ("1.",
//   "1e+"), form feed and vertical tab as whitespace, anything after the first value.
//
// This checker accepts exactly the intersection, found empirically against the real engine
// and kept so by test/unit/json-language.property.test.ts: JSON with only these further
// rules — every \u surrogate escape is a high one followed by a low one, in a pair OPA
// decodes right; every number is a
// finite double (Go's decoder in the API server rejects 1e400, JSON.parse reads Infinity
// while OPA keeps the decimal); at most MAX_DEPTH levels of nesting. UTF-8 is checked for
// the whole body before (node:buffer isUtf8 and OPA's decoder reject the same sequences:
// overlong forms, surrogates, beyond U+10FFFF). Duplicate keys are accepted: JSON.parse,
// OPA and Go's decoder all keep the last value (see docs/reliability.md).
//
// It walks the bytes once, iteratively (no recursion, whatever the depth), and reports the
// members of the top-level object and of the objects directly inside it, so the envelope
// can be split in the same pass.
import { BACKSLASH, CLOSE_ARRAY, CLOSE_OBJECT, COLON, COMMA, OPEN_ARRAY, OPEN_OBJECT, QUOTE, utf8 } from './json-bytes.js';
import { parseJson } from '../json/parse-json.js';

/** [start, end) byte offsets of a JSON value in the body. */
export type Span = readonly [number, number];

/** Thrown when the body is not in the accepted language; callers report "not JSON". */
export class MalformedJson extends Error {}

/**
 * The deepest nesting accepted: the API server decodes JSON with Go's encoding/json, which
 * refuses more than 10000 levels (maxNestingDepth in
 * https://github.com/golang/go/blob/go1.25.0/src/encoding/json/scanner.go), so an object in
 * a review is at most 10000 levels deep, and the AdmissionReview and its request add two.
 */
export const MAX_DEPTH = 10_002;

/** Called when the value of a member at depth 1 (`[key]`) or 2 (`[parent, key]`) ends. */
export type MemberVisitor = (path: readonly [string] | readonly [string, string], span: Span) => void;

const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

function fail(what: string, at: number): never {
  throw new MalformedJson(`${what} at byte ${at}`);
}

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= ZERO && b <= NINE;
}

function hexValue(b: number | undefined): number {
  if (b === undefined) return -1;
  if (b >= ZERO && b <= NINE) return b - ZERO;
  const lower = b | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** The code unit of the \uXXXX escape at `at` (the backslash), or -1 when there is none. */
function unitAt(body: Uint8Array, at: number): number {
  if (body[at] !== BACKSLASH || body[at + 1] !== 0x75) return -1;
  let unit = 0;
  for (let i = at + 2; i < at + 6; i++) {
    const h = hexValue(body[i]);
    if (h < 0) return -1;
    unit = unit * 16 + h;
  }
  return unit;
}

/** Position after the escape sequence whose backslash is at `at`. */
function skipEscape(body: Uint8Array, at: number): number {
  const e = body[at + 1];
  // " \ / b f n r t
  if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) return at + 2;
  if (e !== 0x75) fail('invalid escape', at);
  const unit = unitAt(body, at);
  if (unit < 0) fail('invalid \\u escape', at);
  if (unit >= 0xdc00 && unit <= 0xdfff) fail('lone low surrogate escape', at);
  if (unit < 0xd800 || unit > 0xdbff) return at + 6;
  const low = unitAt(body, at + 6);
  if (low < 0xdc00 || low > 0xdfff) fail('lone high surrogate escape', at);
  // OPA joins a pair as (high - 0xd800) << 10 | (low - 0xdc00) + 0x10000: an OR where an
  // addition is meant, wrong whenever bit 6 of (high - 0xd800) is set (U+20000 "\ud840\udc00"
  // reads as U+10000). Those pairs are refused; the API server writes such characters as
  // UTF-8, which OPA decodes right.
  if ((unit - 0xd800) & 0x40) fail('surrogate pair escape the policy engine misreads (write the character as UTF-8)', at);
  return at + 12;
}

/**
 * The scanning steps over one body. Every loop checks its bound rather than reading past the
 * end (an out-of-bounds read of a typed array is the slow path in V8).
 */
class Cursor {
  constructor(readonly body: Uint8Array) {}

  skipSpace(pos: number): number {
    const body = this.body;
    const len = body.length;
    while (pos < len) {
      const b = body[pos];
      if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) break;
      pos++;
    }
    return pos;
  }

  /** Position after the string opening at `pos`. Bytes from 0x80 up were checked as UTF-8 already. */
  skipString(pos: number): number {
    const body = this.body;
    const len = body.length;
    let at = pos + 1;
    while (at < len) {
      const b = body[at] as number;
      if (b === QUOTE) return at + 1;
      if (b === BACKSLASH) at = skipEscape(body, at);
      else if (b < 0x20) fail('unescaped control character in a string', at);
      else at++;
    }
    return fail('unterminated string', pos);
  }

  private skipDigits(pos: number, what: string): number {
    const body = this.body;
    const len = body.length;
    if (!isDigit(body[pos])) fail(what, pos);
    pos++;
    while (pos < len) {
      const b = body[pos] as number;
      if (b < ZERO || b > NINE) break;
      pos++;
    }
    return pos;
  }

  /** Position after the number starting at `pos`; it must be a finite double. */
  skipNumber(pos: number): number {
    const body = this.body;
    const start = pos;
    if (body[pos] === MINUS) pos++;
    if (body[pos] === ZERO) {
      pos++;
      if (isDigit(body[pos])) fail('leading zero in a number', start);
    } else pos = this.skipDigits(pos, 'expected a digit');
    if (body[pos] === DOT) pos = this.skipDigits(pos + 1, 'expected a digit after "."');
    let exponent = false;
    if (body[pos] === 0x65 || body[pos] === 0x45) {
      exponent = true;
      pos++;
      if (body[pos] === PLUS || body[pos] === MINUS) pos++;
      pos = this.skipDigits(pos, 'expected a digit in the exponent');
    }
    // Only a number with an exponent or more than 308 digits can overflow a double.
    if ((exponent || pos - start > 308) && !Number.isFinite(Number(utf8.decode(body.subarray(start, pos))))) {
      fail('number out of the range of a double', start);
    }
    return pos;
  }

  skipLiteral(pos: number, text: string): number {
    for (let i = 0; i < text.length; i++) if (this.body[pos + i] !== text.charCodeAt(i)) fail('invalid literal', pos);
    return pos + text.length;
  }
}

/** A key's text: the bytes between its quotes, unescaped. */
function keyText(body: Uint8Array, start: number, end: number): string {
  const inner = body.subarray(start + 1, end - 1);
  return inner.includes(BACKSLASH) ? (parseJson(utf8.decode(body.subarray(start, end))) as string) : utf8.decode(inner);
}

const enum Next {
  Value,
  Key,
  AfterValue,
}

/**
 * Checks that `body` (valid UTF-8) is one JSON value in the accepted language; throws
 * MalformedJson saying what is wrong and where. `visit` sees the members of the top-level
 * object and of objects that are its members' values.
 */
export function checkJson(body: Uint8Array, visit?: MemberVisitor): void {
  const inObject: boolean[] = [];
  const keys: string[] = [];
  const starts: number[] = [];
  const cursor = new Cursor(body);
  let depth = 0;
  let pos = cursor.skipSpace(0);
  let next = Next.Value;
  for (;;) {
    if (next === Next.Value) {
      const b = body[pos];
      if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
        if (depth === MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH} levels`, pos);
        const object = b === OPEN_OBJECT;
        inObject[++depth] = object;
        pos = cursor.skipSpace(pos + 1);
        if (body[pos] === (object ? CLOSE_OBJECT : CLOSE_ARRAY)) {
          pos++;
          depth--;
          next = Next.AfterValue;
        } else next = object ? Next.Key : Next.Value;
        continue;
      }
      if (b === QUOTE) pos = cursor.skipString(pos);
      else if (b === MINUS || isDigit(b)) pos = cursor.skipNumber(pos);
      else if (b === 0x74) pos = cursor.skipLiteral(pos, 'true');
      else if (b === 0x66) pos = cursor.skipLiteral(pos, 'false');
      else if (b === 0x6e) pos = cursor.skipLiteral(pos, 'null');
      else fail(b === undefined ? 'expected a value, found the end' : 'expected a value', pos);
      next = Next.AfterValue;
    } else if (next === Next.Key) {
      if (body[pos] !== QUOTE) fail('expected a string key', pos);
      const keyEnd = cursor.skipString(pos);
      if (visit && (depth === 1 || (depth === 2 && inObject[1]))) keys[depth] = keyText(body, pos, keyEnd);
      pos = cursor.skipSpace(keyEnd);
      if (body[pos] !== COLON) fail('expected ":"', pos);
      pos = cursor.skipSpace(pos + 1);
      starts[depth] = pos;
      next = Next.Value;
    } else {
      // A value ended at pos; it is a member or element of the container at `depth`.
      if (depth === 0) break;
      if (visit && inObject[depth] && (depth === 1 || (depth === 2 && inObject[1]))) {
        visit(depth === 1 ? [keys[1] as string] : [keys[1] as string, keys[2] as string], [starts[depth] as number, pos]);
      }
      pos = cursor.skipSpace(pos);
      const b = body[pos];
      if (b === COMMA) {
        pos = cursor.skipSpace(pos + 1);
        next = inObject[depth] ? Next.Key : Next.Value;
      } else if (b === (inObject[depth] ? CLOSE_OBJECT : CLOSE_ARRAY)) {
        pos++;
        depth--;
      } else fail(inObject[depth] ? 'expected "," or "}"' : 'expected "," or "]"', pos);
    }
  }
  pos = cursor.skipSpace(pos);
  if (pos !== body.length) fail('unexpected content after the JSON value', pos);
}
