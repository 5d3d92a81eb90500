// OPA's `sprintf` follows Go's fmt. The SDK implements it with sprintf-js, which lacks
// %q and prints composite values differently, so a policy ported from OPA that uses
// `sprintf("%q", [name])` would raise a runtime error on every request. This is a
// Go-compatible implementation of the verbs Rego policies use.
// https://www.openpolicyagent.org/docs/policy-reference/builtins/strings#builtin-strings-sprintf

/** A value formatted as OPA prints terms: strings quoted inside composites, ", " separators. */
function regoText(value: unknown, nested: boolean): string {
  if (typeof value === 'string') return nested ? JSON.stringify(value) : value;
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map((v) => regoText(v, true)).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${JSON.stringify(k)}: ${regoText(v, true)}`)
      .join(', ')}}`;
  }
  return String(value);
}

function integer(value: unknown): string {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value).toString();
  return `%!d(${regoText(value, false)})`;
}

function float(value: unknown, precision: number | undefined): string {
  if (typeof value !== 'number') return `%!f(${regoText(value, false)})`;
  return value.toFixed(precision ?? 6);
}

const VERB = /%([-+# 0]*)(\d+)?(?:\.(\d+))?([vsqdfeEgxXtTb%])/g;

export function goSprintf(format: unknown, args: unknown): string {
  if (typeof format !== 'string') throw new Error('sprintf: format must be a string');
  const values = Array.isArray(args) ? args : [];
  let next = 0;
  const out = format.replace(VERB, (_m, flags: string, width: string | undefined, precision: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (next >= values.length) return `%!${verb}(MISSING)`;
    const value = values[next++];
    let text: string;
    switch (verb) {
      case 'v':
      case 's':
        text = regoText(value, false);
        break;
      case 'q':
        text = typeof value === 'string' ? JSON.stringify(value) : `%!q(${regoText(value, false)})`;
        break;
      case 'd':
        text = integer(value);
        break;
      case 'f':
      case 'e':
      case 'E':
      case 'g':
        text = float(value, precision === undefined ? undefined : Number(precision));
        break;
      case 'x':
      case 'X':
        text = typeof value === 'number' ? Math.trunc(value).toString(16) : Buffer.from(String(value)).toString('hex');
        if (verb === 'X') text = text.toUpperCase();
        break;
      case 't':
        text = typeof value === 'boolean' ? String(value) : `%!t(${regoText(value, false)})`;
        break;
      case 'T':
        text = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
        break;
      default:
        text = regoText(value, false);
    }
    const pad = width === undefined ? 0 : Number(width) - text.length;
    if (pad <= 0) return text;
    return flags.includes('-') ? text + ' '.repeat(pad) : (flags.includes('0') && /^[dfx]$/.test(verb) ? '0' : ' ').repeat(pad) + text;
  });
  return next < values.length ? `${out}%!(EXTRA ${values.slice(next).map((v) => regoText(v, false)).join(', ')})` : out;
}
