// The few Go fmt renderings gator's output uses, reproduced byte for byte:
// %q of a string (strconv.Quote), %v of a []string, and verify.Duration's "%.3fs".

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
const NAMED: Readonly<Record<string, string>> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\', '"': '\\"' };
const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/** strconv.Quote: printable runes as they are, the rest escaped as Go escapes them. */
export function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const named = NAMED[ch];
    const cp = ch.codePointAt(0) ?? 0;
    if (named) out += named;
    else if (PRINTABLE.test(ch)) out += ch;
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd';
    else if (cp < 0x10000) out += `\\u${hex(cp, 4)}`;
    else out += `\\U${hex(cp, 8)}`;
  }
  return `${out}"`;
}

/** fmt's %v of a []string: "[a b c]" ("[]" when empty). */
export function goStringSlice(items: readonly string[]): string {
  return `[${items.join(' ')}]`;
}

/**
 * verify.Duration.String(): fmt.Sprintf("%.3fs", d.Seconds()). Go rounds the float64 exactly
 * (a tie goes to the even digit); JS toFixed also rounds exactly but sends ties up, which
 * differs only when the value is exactly halfway, i.e. a multiple of 1/16 s that is odd.
 */
export function goSeconds(nanoseconds: number): string {
  const ns = Math.max(0, Math.round(nanoseconds));
  const seconds = Math.trunc(ns / 1e9) + (ns % 1e9) / 1e9;
  const sixteenths = seconds * 16;
  if (Number.isInteger(sixteenths) && sixteenths % 2 === 1) {
    // seconds*1000 = sixteenths*62.5, exactly halfway between two integers: round half to even.
    const lower = Math.floor(sixteenths * 62.5);
    const millis = lower % 2 === 0 ? lower : lower + 1;
    return `${(millis / 1000).toFixed(3)}s`;
  }
  return `${seconds.toFixed(3)}s`;
}
