// Splits an AdmissionReview body into its envelope and the byte spans of
// request.object and request.oldObject, without materializing the objects. The policy
// input is the raw body (parsed inside WASM), so JavaScript needs only the envelope — uid,
// kind, operation, namespace, userInfo — on the /validate path; the objects are parsed
// when something asks for them (a patch, a decision log with inputs).
//
// splitReview checks the whole body against the language both parsers read alike
// (strict-json.ts) in the same pass, so nothing the engine cannot parse reaches it.
// splitReviewLoose is only a structural scan (strings and brackets), for reading the uid of
// a body that failed that check, so that even its rejection is answered by uid.
import { checkJson, MalformedJson, type Span } from './strict-json.js';
import { BACKSLASH, CLOSE_ARRAY, CLOSE_OBJECT, COLON, COMMA, OPEN_ARRAY, OPEN_OBJECT, QUOTE, utf8 } from './json-bytes.js';
import { parseJson } from '../json/parse-json.js';

export { MalformedJson, type Span } from './strict-json.js';

export interface SplitReview {
  /** The body's JSON text with request.object and request.oldObject replaced by null. */
  readonly envelope: string;
  readonly object?: Span;
  readonly oldObject?: Span;
  /** request.uid's value (with its quotes). */
  readonly uid?: Span;
}


function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function skipSpace(body: Uint8Array, pos: number): number {
  while (pos < body.length && isSpace(body[pos] as number)) pos++;
  return pos;
}

/** Position after the closing quote of the string opening at `pos`. */
function skipString(body: Uint8Array, pos: number): number {
  // Most strings are short keys and values: a plain loop beats a call to indexOf for them.
  let at = pos + 1;
  const near = Math.min(body.length, at + 24);
  for (; at < near; at++) {
    const b = body[at];
    if (b === QUOTE) return at + 1;
    if (b === BACKSLASH) at++;
  }
  for (;;) {
    const quote = body.indexOf(QUOTE, at);
    if (quote < 0) throw new MalformedJson('unterminated string');
    let backslashes = 0;
    while (body[quote - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    at = quote + 1;
  }
}

/** Position after the JSON value starting at `pos` (no leading space). */
function skipValue(body: Uint8Array, pos: number): number {
  const first = body[pos];
  if (first === QUOTE) return skipString(body, pos);
  if (first === OPEN_OBJECT || first === OPEN_ARRAY) {
    let depth = 0;
    let at = pos;
    while (at < body.length) {
      const b = body[at] as number;
      if (b === QUOTE) {
        at = skipString(body, at);
        continue;
      }
      if (b === OPEN_OBJECT || b === OPEN_ARRAY) depth++;
      else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
        depth--;
        if (depth === 0) return at + 1;
      }
      at++;
    }
    throw new MalformedJson('unterminated object or array');
  }
  let at = pos;
  while (at < body.length) {
    const b = body[at] as number;
    if (b === COMMA || b === CLOSE_OBJECT || b === CLOSE_ARRAY || isSpace(b)) break;
    at++;
  }
  if (at === pos) throw new MalformedJson('expected a value');
  return at;
}

/** A key's text: the bytes between its quotes, unescaped the way JSON.parse would. */
function keyText(body: Uint8Array, start: number, end: number): string {
  const inner = body.subarray(start + 1, end - 1);
  if (!inner.includes(BACKSLASH)) return utf8.decode(inner);
  try {
    return parseJson(utf8.decode(body.subarray(start, end))) as string;
  } catch (cause) {
    throw new MalformedJson(`bad key: ${(cause as Error).message}`);
  }
}

/**
 * Visits the members of the object opening at `pos`; `onMember(key, valueStart)` returns
 * where the value ends. Returns the position after the closing brace.
 */
function members(body: Uint8Array, pos: number, onMember: (key: string, valueStart: number) => number): number {
  let at = skipSpace(body, pos + 1);
  if (body[at] === CLOSE_OBJECT) return at + 1;
  for (;;) {
    if (body[at] !== QUOTE) throw new MalformedJson('expected a key');
    const keyEnd = skipString(body, at);
    const key = keyText(body, at, keyEnd);
    at = skipSpace(body, keyEnd);
    if (body[at] !== COLON) throw new MalformedJson('expected ":"');
    at = skipSpace(body, onMember(key, skipSpace(body, at + 1)));
    if (body[at] === COMMA) {
      at = skipSpace(body, at + 1);
      continue;
    }
    if (body[at] === CLOSE_OBJECT) return at + 1;
    throw new MalformedJson('expected "," or "}"');
  }
}

type Spans = { object?: Span; oldObject?: Span; uid?: Span };

/** The envelope text: `body` with the given spans (sorted, disjoint) replaced by null. */
function envelopeOf(body: Uint8Array, spans: Spans): SplitReview {
  const cut = [spans.object, spans.oldObject].filter((s): s is Span => s !== undefined).sort((a, b) => a[0] - b[0]);
  if (cut.length === 0) return { envelope: utf8.decode(body), ...spans };
  let envelope = '';
  let from = 0;
  for (const [start, end] of cut) {
    envelope += `${utf8.decode(body.subarray(from, start))}null`;
    from = end;
  }
  envelope += utf8.decode(body.subarray(from));
  return { envelope, ...spans };
}

/**
 * Checks the whole body (strict-json.ts) and finds request.object, request.oldObject and
 * request.uid; throws MalformedJson when the body is outside the accepted language. With
 * duplicate keys the last one wins, as in JSON.parse and in OPA: a later "request" replaces
 * every span an earlier one had.
 */
export function splitReview(body: Uint8Array): SplitReview {
  let spans: Spans = {};
  let pending: Spans = {};
  checkJson(body, (path, span) => {
    if (path.length === 1) {
      if (path[0] === 'request') {
        spans = pending;
        pending = {};
      }
      return;
    }
    const [parent, field] = path;
    if (parent === 'request' && (field === 'object' || field === 'oldObject' || field === 'uid')) pending[field] = span;
  });
  // A request that is not an object has no members: its spans are empty, as they should be.
  return envelopeOf(body, spans);
}

/**
 * The structural scan alone, for a body splitReview refused: finds the same spans by strings
 * and brackets, without checking the values. Throws MalformedJson when even the structure
 * around them is broken. A body whose top level is not an object is returned whole.
 */
export function splitReviewLoose(body: Uint8Array): SplitReview {
  const top = skipSpace(body, 0);
  if (body[top] !== OPEN_OBJECT) return { envelope: utf8.decode(body) };
  let spans: Spans = {};
  members(body, top, (key, start) => {
    if (key !== 'request') return skipValue(body, start);
    spans = {};
    if (body[start] !== OPEN_OBJECT) return skipValue(body, start);
    return members(body, start, (field, valueStart) => {
      const end = skipValue(body, valueStart);
      if (field === 'object' || field === 'oldObject' || field === 'uid') spans[field] = [valueStart, end];
      return end;
    });
  });
  return envelopeOf(body, spans);
}

/** The span of member `key` of the object at `span`, or undefined when it has none. */
export function memberSpan(body: Uint8Array, span: Span, key: string): Span | undefined {
  let found: Span | undefined;
  members(body, span[0], (name, start) => {
    const end = skipValue(body, start);
    if (name === key) found = [start, end];
    return end;
  });
  return found;
}
