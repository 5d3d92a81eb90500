// OPA's `sprintf` follows Go's fmt (topdown/strings.go builtinSprintf): a number whose
// text has a fraction or exponent reaches fmt as a float64, an integer as an int64 (or a
// *big.Int beyond int64), a string as a string, and every other value as the text of the
// Rego term (Value.String(): `["a", "b"]`, `{"a"}`, `{"k": 1}`, `set()`, `null`, `true`).
// The SDK's sprintf (sprintf-js) differs on %q, composites and Go's float formatting.
// https://www.openpolicyagent.org/docs/policy-reference/builtins/strings#builtin-strings-sprintf
import { goQuote, regoString, str, type RegoValue } from './rego-value.js';
import { BuiltinError } from './builtin-error.js';

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

/** Go's %e mantissa/exponent form: `precision` digits after the point, exponent signed with two or more digits. */
function goExp(value: number, precision: number | undefined): string {
  const [mantissa = '', exponent = '0'] = (precision === undefined ? value.toExponential() : value.toExponential(precision)).split('e');
  const sign = exponent.startsWith('-') ? '-' : '+';
  return `${mantissa}e${sign}${exponent.replace(/^[-+]/, '').padStart(2, '0')}`;
}

const SHORTEST_EXPONENT_LIMIT = 21;

/** Go's %v / %g of a float64: shortest digits, %e form when the exponent is < -4 or ≥ the limit. */
function goFloat(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const exponent = Number(value.toExponential().split('e')[1]);
  if (exponent < -4 || exponent >= SHORTEST_EXPONENT_LIMIT) return goExp(value, undefined);
  return String(value);
}

function bad(verb: string, op: Operand): string {
  return `%!${verb}(${op.type}=${formatValue('v', op, undefined)})`;
}

const intText = (value: bigint, radix: number): string => `${value < 0n ? '-' : ''}${(value < 0n ? -value : value).toString(radix)}`;

function formatValue(verb: string, op: Operand, precision: number | undefined): string {
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
        return bad(verb, op);
    }
  }
  if (op.type !== 'float64') {
    switch (verb) {
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
        return bad(verb, op);
    }
  }
  switch (verb) {
    case 'f':
    case 'F':
      return Number.isFinite(op.value) ? op.value.toFixed(precision ?? 6) : goFloat(op.value);
    case 'e':
    case 'E': {
      const text = goExp(op.value, precision ?? 6);
      return verb === 'E' ? text.toUpperCase() : text;
    }
    case 'g':
    case 'G':
    case 'v':
      return goFloat(op.value);
    default:
      return bad(verb, op);
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

const VERB = /%([-+# 0]*)(\d+)?(?:\.(\d*))?([a-zA-Z%])|%$/g;

/** Go's fmt.Sprintf(format, args...) with args converted as OPA converts them. */
export function goSprintf(format: string, values: readonly RegoValue[]): string {
  let next = 0;
  const out = format.replace(VERB, (whole, flags: string | undefined, width: string | undefined, precision: string | undefined, verb: string | undefined) => {
    if (verb === undefined) return '%!(NOVERB)';
    if (verb === '%') return '%';
    const value = values[next++];
    if (value === undefined) return `%!${verb}(MISSING)`;
    const op = operand(value);
    let text = formatValue(verb, op, precision === undefined ? undefined : Number(precision || '0'));
    if (op.type !== 'string' && flags?.includes('+') && !text.startsWith('-') && !text.startsWith('%')) text = `+${text}`;
    return whole.startsWith('%!') ? text : pad(text, flags ?? '', width === undefined ? undefined : Number(width), op.type !== 'string');
  });
  if (next >= values.length) return out;
  const extra = values.slice(next).map((v) => {
    const op = operand(v);
    return `${op.type}=${formatValue('v', op, undefined)}`;
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
