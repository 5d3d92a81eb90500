// OPA's `sprintf` follows Go's fmt. The SDK implements it with sprintf-js, which lacks
// %q and prints composite values differently, so a policy ported from OPA that uses
// `sprintf("%q", [name])` would raise a runtime error on every request. This follows
// what OPA does: numbers reach Go's fmt as int64 or float64, every other value as the
// text of the Rego term (so booleans, null, arrays and objects are strings to fmt).
// https://www.openpolicyagent.org/docs/policy-reference/builtins/strings#builtin-strings-sprintf

type Operand = { readonly type: 'string'; readonly text: string } | { readonly type: 'int64' | 'float64'; readonly value: number };

/** A value printed as OPA prints terms: strings quoted inside composites, keys sorted, ", " separators. */
function termText(value: unknown, nested: boolean): string {
  if (typeof value === 'string') return nested ? JSON.stringify(value) : value;
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map((v) => termText(v, true)).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${termText(v, true)}`).join(', ')}}`;
  }
  if (typeof value === 'number') return goFloat(value);
  return String(value);
}

function operand(value: unknown): Operand {
  if (typeof value === 'number') return { type: Number.isInteger(value) ? 'int64' : 'float64', value };
  return { type: 'string', text: termText(value, false) };
}

/** Go's %e: mantissa with `precision` digits, exponent with a sign and at least two digits. */
function goExp(value: number, precision: number): string {
  const [mantissa, exponent = '0'] = value.toExponential(precision).split('e');
  const sign = exponent.startsWith('-') ? '-' : '+';
  return `${mantissa}e${sign}${exponent.replace(/^[-+]/, '').padStart(2, '0')}`;
}

/** Go's %v / %g for a float64: shortest representation, exponent form for large or tiny values. */
function goFloat(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf';
  const exponent = value === 0 ? 0 : Math.floor(Math.log10(Math.abs(value)));
  if (exponent < -4 || exponent >= 21) return goExp(value, Math.max(0, String(value).replace(/^-|\.|e.*$/g, '').replace(/^0+/, '').length - 1));
  return String(value);
}

function bad(verb: string, op: Operand): string {
  return `%!${verb}(${op.type}=${op.type === 'string' ? op.text : op.type === 'int64' ? op.value.toFixed(0) : goFloat(op.value)})`;
}

function format(verb: string, op: Operand, precision: number | undefined): string {
  if (op.type === 'string') {
    switch (verb) {
      case 's':
      case 'v':
        return op.text;
      case 'q':
        return JSON.stringify(op.text);
      case 'x':
      case 'X': {
        const hex = Buffer.from(op.text).toString('hex');
        return verb === 'X' ? hex.toUpperCase() : hex;
      }
      case 'T':
        return 'string';
      default:
        return bad(verb, op);
    }
  }
  if (verb === 'T') return op.type;
  if (op.type === 'int64') {
    switch (verb) {
      case 'd':
      case 'v':
        return op.value.toFixed(0);
      case 'x':
      case 'X': {
        const hex = `${op.value < 0 ? '-' : ''}${Math.abs(op.value).toString(16)}`;
        return verb === 'X' ? hex.toUpperCase() : hex;
      }
      default:
        return bad(verb, op);
    }
  }
  switch (verb) {
    case 'f':
    case 'F':
      return op.value.toFixed(precision ?? 6);
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
  if (width === undefined || text.length >= width) return text;
  const fill = width - text.length;
  if (flags.includes('-')) return text + ' '.repeat(fill);
  if (!flags.includes('0')) return ' '.repeat(fill) + text;
  const sign = numeric && /^[-+]/.test(text) ? text.charAt(0) : '';
  return sign + '0'.repeat(fill) + text.slice(sign.length);
}

const VERB = /%([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])/g;

export function goSprintf(formatText: unknown, args: unknown): string {
  if (typeof formatText !== 'string') throw new Error('sprintf: format must be a string');
  const values = Array.isArray(args) ? args : [];
  let next = 0;
  const out = formatText.replace(VERB, (_m, flags: string, width: string | undefined, precision: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (next >= values.length) return `%!${verb}(MISSING)`;
    const op = operand(values[next++]);
    const text = format(verb, op, precision === undefined ? undefined : Number(precision));
    return pad(text, flags, width === undefined ? undefined : Number(width), op.type !== 'string');
  });
  if (next >= values.length) return out;
  const extra = values.slice(next).map((v) => {
    const op = operand(v);
    return `${op.type}=${format('v', op, undefined)}`;
  });
  return `${out}%!(EXTRA ${extra.join(', ')})`;
}
