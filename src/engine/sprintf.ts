// OPA's `sprintf` follows Go's fmt (topdown/strings.go builtinSprintf): a number whose
// text has a fraction or exponent reaches fmt as a float64, an integer as an int64 (or a
// *big.Int beyond int64), a string as a string, and every other value as the text of the
// Rego term (Value.String(): `["a", "b"]`, `{"a"}`, `{"k": 1}`, `set()`, `null`, `true`).
// The SDK's sprintf (sprintf-js) differs on %q, composites and Go's float formatting.
// https://www.openpolicyagent.org/docs/policy-reference/builtins/strings#builtin-strings-sprintf
import { goQuote, regoString, str, type RegoValue } from './rego-value.js';
import { BuiltinError } from './builtin-error.js';
import { goExponent, goFixed } from './float-digits.js';

type Operand =
  | { readonly type: 'string'; readonly text: string }
  | { readonly type: 'int64' | '*big.Int'; readonly value: bigint }
  | { readonly type: 'float64'; readonly value: number };

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function operand(v: RegoValue): Operand {
  if (v.type === 'string') return { type: 'string', text: v.value };
  if (v.type !== 'number') return { type: 'string', text: regoString(v) };
  if (/[.eE]/.test(v.text)) {
    const value = Number(v.text);
    return Number.isFinite(value) ? { type: 'float64', value } : { type: 'string', text: v.text };
  }
  const value = BigInt(v.text);
  return { type: value < INT64_MIN || value > INT64_MAX ? '*big.Int' : 'int64', value };
}

const expSuffix = (e: number): string => `e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;

/**
 * Go's %v / %g of a float64 (strconv 'g'): with no precision the shortest digits that
 * round-trip, in %e form when the exponent is < -4 or ≥ 6 (1e+06); with a precision,
 * that many significant digits, trailing zeros dropped, %e form when the exponent is
 * < -4 or ≥ the precision.
 */
function goFloat(value: number, precision?: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const negative = value < 0 ? '-' : '';
  const e = precision === undefined ? value.toExponential() : goExponent(value, Math.max(precision, 1) - 1);
  const [mantissa = '', exp = '0'] = e.replace(/^-/, '').split('e');
  const digits = mantissa.replace('.', '').replace(/0+$/, '') || '0';
  const exponent = Number(exp);
  const nd = digits.length;
  const dp = exponent + 1;
  let eprec = precision === undefined ? 6 : Math.max(precision, 1);
  if (precision !== undefined && eprec > nd && nd >= dp) eprec = nd;
  if (exponent < -4 || exponent >= eprec) return `${negative}${digits.charAt(0)}${nd > 1 ? `.${digits.slice(1)}` : ''}${expSuffix(exponent)}`;
  if (dp <= 0) return `${negative}0.${'0'.repeat(-dp)}${digits}`;
  if (dp >= nd) return `${negative}${digits}${'0'.repeat(dp - nd)}`;
  return `${negative}${digits.slice(0, dp)}.${digits.slice(dp)}`;
}

/** A verb that does not fit its operand; goSprintf writes Go's `%!d(string=x)` for it. */
const BAD = Symbol('bad verb');

/** Go's message for a bad verb: the operand printed with %v under the verb's flags, width and precision. */
function badVerb(verb: string, op: Operand, inner: string): string {
  // *big.Int reports itself as big.Int (its Format method writes the message).
  return `%!${verb}(${op.type === '*big.Int' ? 'big.Int' : op.type}=${inner})`;
}

/** Go's %c: the rune, or U+FFFD when the value is not a valid code point. */
const runeOf = (value: bigint): string => (value >= 0n && value <= 0x10ffffn && !(value >= 0xd800n && value <= 0xdfffn) ? String.fromCodePoint(Number(value)) : '\ufffd');

const intText = (value: bigint, radix: number): string => `${value < 0n ? '-' : ''}${(value < 0n ? -value : value).toString(radix)}`;

function formatValue(verb: string, op: Operand, precision: number | undefined): string | typeof BAD {
  if (verb === 'T') return op.type;
  if (op.type === 'string') {
    switch (verb) {
      case 's':
      case 'v':
        return precision === undefined ? op.text : [...op.text].slice(0, precision).join('');
      case 'q':
        return goQuote(op.text);
      case 'x':
      case 'X': {
        const hex = Buffer.from(op.text).toString('hex');
        return verb === 'X' ? hex.toUpperCase() : hex;
      }
      default:
        return BAD;
    }
  }
  if (op.type !== 'float64') {
    switch (verb) {
      case 's':
        // *big.Int formats itself and takes %s as %d; an int64 does not.
        return op.type === '*big.Int' ? intText(op.value, 10) : BAD;
      case 'c':
        return op.type === 'int64' ? runeOf(op.value) : BAD;
      case 'q':
        return op.type === 'int64' ? `'${goQuote(runeOf(op.value)).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'` : BAD;
      case 'U':
        return op.type === 'int64' && op.value >= 0n ? `U+${op.value.toString(16).toUpperCase().padStart(4, '0')}` : BAD;
      case 'd':
      case 'v':
        return intText(op.value, 10);
      case 'x':
        return intText(op.value, 16);
      case 'X':
        return intText(op.value, 16).toUpperCase();
      case 'o':
        return intText(op.value, 8);
      case 'b':
        return intText(op.value, 2);
      default:
        return BAD;
    }
  }
  switch (verb) {
    case 'f':
    case 'F':
      return Number.isFinite(op.value) ? goFixed(op.value, precision ?? 6) : goFloat(op.value);
    case 'e':
    case 'E': {
      const text = Number.isFinite(op.value) ? goExponent(op.value, precision ?? 6) : goFloat(op.value);
      return verb === 'E' ? text.toUpperCase() : text;
    }
    case 'g':
      return goFloat(op.value, precision);
    case 'G':
      return goFloat(op.value, precision).toUpperCase();
    case 'v':
      return goFloat(op.value, precision);
    default:
      return BAD;
  }
}

function pad(text: string, flags: string, width: number | undefined, numeric: boolean): string {
  const length = [...text].length;
  if (width === undefined || length >= width) return text;
  const fill = width - length;
  if (flags.includes('-')) return text + ' '.repeat(fill);
  if (!flags.includes('0')) return ' '.repeat(fill) + text;
  const sign = numeric && /^[-+]/.test(text) ? text.charAt(0) : '';
  return sign + '0'.repeat(fill) + text.slice(sign.length);
}

const VERB = /%([-+# 0]*)(?:\[(\d+)\])?(\d+)?(?:\.(\d*))?([a-zA-Z%])|%$/g;

/** Go's fmt.Sprintf(format, args...) with args converted as OPA converts them. */
export function goSprintf(format: string, values: readonly RegoValue[]): string {
  let next = 0;
  // An explicit argument index (%[2]s) moves the position; Go then reports no EXTRA arguments.
  let reordered = false;
  const out = format.replace(VERB, (_whole, flags: string | undefined, index: string | undefined, width: string | undefined, precision: string | undefined, verb: string | undefined) => {
    if (verb === undefined) return '%!(NOVERB)';
    if (verb === '%') return '%';
    if (index !== undefined) {
      reordered = true;
      const n = Number(index);
      if (n < 1 || n > values.length) return `%!${verb}(BADINDEX)`;
      next = n - 1;
    }
    const value = values[next++];
    if (value === undefined) return `%!${verb}(MISSING)`;
    const op = operand(value);
    const prec = precision === undefined ? undefined : Number(precision || '0');
    const w = width === undefined ? undefined : Number(width);
    const formatted = formatValue(verb, op, prec);
    if (formatted === BAD) return badVerb(verb, op, pad(formatValue('v', op, prec) as string, flags ?? '', w, op.type !== 'string'));
    let text = formatted;
    const numeric = op.type !== 'string' && verb !== 'c' && verb !== 'q' && verb !== 'U' && verb !== 'T';
    if (numeric && flags?.includes('#') && (verb === 'x' || verb === 'X')) text = text.replace(/^(-?)/, `$1${verb === 'x' ? '0x' : '0X'}`);
    if (numeric && flags?.includes('#') && verb === 'o' && !text.replace(/^-/, '').startsWith('0')) text = text.replace(/^(-?)/, '$10');
    if (numeric && !text.startsWith('-')) {
      // %+v is Go's "field names" form, not a sign.
      if (flags?.includes('+') && verb !== 'v') text = `+${text}`;
      else if (flags?.includes(' ')) text = ` ${text}`;
    }
    return pad(text, flags ?? '', w, op.type !== 'string');
  });
  if (reordered || next >= values.length) return out;
  const extra = values.slice(next).map((v) => {
    const op = operand(v);
    return `${op.type}=${formatValue('v', op, undefined) as string}`;
  });
  return `${out}%!(EXTRA ${extra.join(', ')})`;
}

/** The builtin: sprintf(format, args) where args is an array; a BuiltinError for other operands. */
export function sprintfBuiltin(args: readonly RegoValue[]): RegoValue {
  const [format, values] = args;
  if (format?.type !== 'string') throw new BuiltinError('operand 1 must be string');
  if (values?.type !== 'array') throw new BuiltinError('operand 2 must be array');
  return str(goSprintf(format.value, values.items));
}
