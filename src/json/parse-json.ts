// JSON.parse with object keys read right on every Node bouncer runs on. V8 13.6 (Node 24) and
// 14.6 (Node 26) resolve an escaped key through a hidden-class transition an earlier parse
// created whenever the transition's key matches the key's raw source: once anything in the
// process has parsed a key holding a backslash (`{"\\":0}`), a later `"\n"`, `"\""` or
// `"\u003c"` key can come back as `\` (https://github.com/nodejs/node/issues/63785). Node 20's
// V8 does not do it. A key written without escapes is compared right, so a text with no
// escaped key goes to JSON.parse as it is; in a text with escaped keys each of them is
// replaced by a placeholder written without escapes, and put back decoded (a string value is
// not affected). Every JSON text from outside bouncer (reviews, API objects, policy results)
// is read through here; lint refuses JSON.parse elsewhere in src/.

const BACKSLASH = 0x5c;
const COLON = 0x3a;

/** JSON.parse(text), with escaped keys read as their decoded text. Throws what JSON.parse throws. */
export function parseJson(text: string): unknown {
  if (!hasEscapedKey(text)) return JSON.parse(text);
  try {
    return parseWithPlaceholders(text);
  } catch (err) {
    // A text that is not JSON: JSON.parse's own error, with positions in the text given.
    JSON.parse(text);
    throw err;
  }
}

/**
 * Whether a key of the text holds an escape. Only strings holding a backslash are looked at:
 * from the first backslash of a string to its closing quote, then whether a colon follows. In
 * a text that is not JSON the answer may be wrong; JSON.parse refuses the text either way.
 */
function hasEscapedKey(text: string): boolean {
  for (let at = text.indexOf('\\'); at >= 0; ) {
    const end = stringEnd(text, at + 1);
    if (end < 0) return false;
    if (text.charCodeAt(skipSpace(text, end)) === COLON) return true;
    at = text.indexOf('\\', end);
  }
  return false;
}

/**
 * The position after the closing quote of a string, searched from `from` (inside the string,
 * not inside an escape): the first quote after an even run of backslashes. -1 when there is none.
 */
function stringEnd(text: string, from: number): number {
  for (let quote = text.indexOf('"', from); quote >= 0; quote = text.indexOf('"', quote + 1)) {
    let run = 0;
    while (text.charCodeAt(quote - 1 - run) === BACKSLASH) run++;
    if (run % 2 === 0) return quote + 1;
  }
  return -1;
}

function skipSpace(text: string, at: number): number {
  for (;;) {
    const c = text.charCodeAt(at);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return at;
    at++;
  }
}

/**
 * Every key, escaped or not, becomes a placeholder of its own, so that JSON.parse merges no
 * two members and the restore below sees each member in source order. The placeholders share
 * a prefix the text does not hold, so none equals a string of the text.
 */
function parseWithPlaceholders(text: string): unknown {
  let prefix = '~k';
  while (text.includes(prefix)) prefix += '~';
  const names: string[] = [];
  const pieces: string[] = [];
  let from = 0;
  for (let open = text.indexOf('"'); open >= 0; ) {
    const end = stringEnd(text, open + 1);
    if (end < 0) break;
    if (text.charCodeAt(skipSpace(text, end)) === COLON) {
      const token = text.slice(open, end);
      names.push(token.includes('\\') ? (JSON.parse(token) as string) : token.slice(1, -1));
      pieces.push(text.slice(from, open), `"${prefix}${names.length - 1}"`);
      from = end;
    }
    open = text.indexOf('"', end);
  }
  pieces.push(text.slice(from));
  const value = JSON.parse(pieces.join('')) as unknown;
  restoreKeys(value, prefix.length, names);
  return value;
}

/**
 * Renames the placeholder keys back, in place, as JSON.parse would have read them: members in
 * source order, and for a name written twice the first one's place and the last one's value.
 * Walks with a work list: JSON can be nested deeper than the call stack allows.
 */
function restoreKeys(root: unknown, prefixLength: number, names: readonly string[]): void {
  const work: unknown[] = [root];
  while (work.length > 0) {
    const value = work.pop();
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      for (const item of value) work.push(item);
      continue;
    }
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object);
    const values = keys.map((key) => object[key]);
    for (const key of keys) delete object[key];
    keys.forEach((key, i) => {
      const name = names[Number(key.slice(prefixLength))] as string;
      Object.defineProperty(object, name, { value: values[i], writable: true, enumerable: true, configurable: true });
      work.push(values[i]);
    });
  }
}
