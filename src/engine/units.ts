// units.parse_bytes and units.parse as OPA computes them (topdown/parse_bytes.go,
// parse_units.go). parse_bytes multiplies in big.Float with 64-bit mantissas and
// truncates to an integer; parse works in exact rationals and prints a non-integer with
// ten decimals. Both are reproduced exactly here with BigInt arithmetic.
import { num, type RegoValue } from './rego-value.js';
import { BuiltinError, stringOperand } from './builtin-error.js';
import { float64Rational, type Rational } from './float-digits.js';

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** A decimal number's exact value (big.Rat.SetString / big.Float.SetString on the texts reaching them). */
function parseDecimal(text: string): Rational | undefined {
  const m = DECIMAL.exec(text);
  if (!m) return undefined;
  const [, sign = '', int = '', frac = '', exp = '0'] = m;
  if (int === '' && frac === '') return undefined;
  if (text.includes('.') && int === '' && frac === '') return undefined;
  const e = Number(exp) - frac.length;
  let n = BigInt(int + frac || '0') * (sign === '-' ? -1n : 1n);
  let d = 1n;
  if (e >= 0) n *= 10n ** BigInt(e);
  else d = 10n ** BigInt(-e);
  return { n, d };
}

const bitLength = (x: bigint): number => (x === 0n ? 0 : x.toString(2).length);

/** x rounded to a binary float with a `prec`-bit mantissa, to nearest, ties to even (big.Float). */
function roundToPrecision(x: Rational, prec: number): Rational {
  if (x.n === 0n) return x;
  const negative = x.n < 0n;
  const n = negative ? -x.n : x.n;
  // Scale so that the integer quotient has exactly prec bits: q = floor(n * 2^s / d).
  let s = prec - (bitLength(n) - bitLength(x.d));
  const scaled = (k: number): bigint => (k >= 0 ? (n << BigInt(k)) / x.d : n / (x.d << BigInt(-k)));
  let q = scaled(s);
  if (bitLength(q) > prec) s -= 1;
  else if (bitLength(q) < prec) s += 1;
  q = scaled(s);
  const num = s >= 0 ? n << BigInt(s) : n;
  const den = s >= 0 ? x.d : x.d << BigInt(-s);
  const remainder = num - q * den;
  if (remainder * 2n > den || (remainder * 2n === den && (q & 1n) === 1n)) q += 1n;
  const value = s >= 0 ? { n: q, d: 1n << BigInt(s) } : { n: q << BigInt(-s), d: 1n };
  return { n: negative ? -value.n : value.n, d: value.d };
}

const BYTE_UNITS: Readonly<Record<string, bigint>> = {
  '': 1n,
  kb: 1000n, k: 1000n, kib: 1n << 10n, ki: 1n << 10n,
  mb: 1000n ** 2n, m: 1000n ** 2n, mib: 1n << 20n, mi: 1n << 20n,
  gb: 1000n ** 3n, g: 1000n ** 3n, gib: 1n << 30n, gi: 1n << 30n,
  tb: 1000n ** 4n, t: 1000n ** 4n, tib: 1n << 40n, ti: 1n << 40n,
  pb: 1000n ** 5n, p: 1000n ** 5n, pib: 1n << 50n, pi: 1n << 50n,
  eb: 1000n ** 6n, e: 1000n ** 6n, eib: 1n << 60n, ei: 1n << 60n,
};

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const MAX_EXPONENT_DIGITS = 6;

/** OPA's extractNumAndUnit: the leading number (digits, '.', an exponent) and the rest. */
function splitNumber(s: string): { number: string; unit: string } {
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (!isDigit(c) && c !== '.' && c !== 'e' && c !== 'E' && c !== '+' && c !== '-') return { number: s.slice(0, i), unit: s.slice(i) };
    if (c === 'e' || c === 'E') {
      const next = s.charAt(i + 1);
      if (i === s.length - 1 || (!isDigit(next) && next !== '+' && next !== '-')) return { number: s.slice(0, i), unit: s.slice(i) };
      if (next === '+' || next === '-') i++;
      let end = i + 1;
      while (isDigit(s.charAt(end))) end++;
      if (end - (i + 1) > MAX_EXPONENT_DIGITS) throw new BuiltinError('exponent too large');
    }
  }
  return { number: s, unit: '' };
}

function numberAndUnit(raw: string): { number: string; unit: string } {
  if (raw.includes(' ')) throw new BuiltinError('spaces not allowed in resource strings');
  const parts = splitNumber(raw);
  if (parts.number === '') throw new BuiltinError('no amount provided');
  return parts;
}

/** units.parse_bytes(s): bytes as an integer ("10Ki" → 10240); undefined on a bad amount or unit. */
export function parseBytes(args: readonly RegoValue[]): RegoValue {
  const { number, unit } = numberAndUnit(stringOperand(args[0], 1).toLowerCase().replaceAll('"', ''));
  const multiplier = BYTE_UNITS[unit];
  if (multiplier === undefined) throw new BuiltinError(`byte unit ${unit} not recognized`);
  const amount = parseDecimal(number);
  if (!amount) throw new BuiltinError('could not parse byte amount to a number');
  const a = roundToPrecision(amount, 64);
  const product = roundToPrecision({ n: a.n * multiplier, d: a.d }, 64);
  return num(product.n / product.d);
}

const SI_UNITS: Readonly<Record<string, Rational | undefined>> = {
  '': { n: 1n, d: 1n },
  k: { n: 1000n, d: 1n }, K: { n: 1000n, d: 1n }, ki: { n: 1n << 10n, d: 1n }, Ki: { n: 1n << 10n, d: 1n },
  M: { n: 1000n ** 2n, d: 1n }, mi: { n: 1n << 20n, d: 1n }, Mi: { n: 1n << 20n, d: 1n },
  g: { n: 1000n ** 3n, d: 1n }, G: { n: 1000n ** 3n, d: 1n }, gi: { n: 1n << 30n, d: 1n }, Gi: { n: 1n << 30n, d: 1n },
  t: { n: 1000n ** 4n, d: 1n }, T: { n: 1000n ** 4n, d: 1n }, ti: { n: 1n << 40n, d: 1n }, Ti: { n: 1n << 40n, d: 1n },
  p: { n: 1000n ** 5n, d: 1n }, P: { n: 1000n ** 5n, d: 1n }, pi: { n: 1n << 50n, d: 1n }, Pi: { n: 1n << 50n, d: 1n },
  e: { n: 1000n ** 6n, d: 1n }, E: { n: 1000n ** 6n, d: 1n }, ei: { n: 1n << 60n, d: 1n }, Ei: { n: 1n << 60n, d: 1n },
};

const gcd = (a: bigint, b: bigint): bigint => {
  let [x, y] = [a < 0n ? -a : a, b];
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
};

/** big.Rat.FloatString(10): ten decimals, the last rounded half away from zero. */
function floatString10(x: Rational): string {
  const negative = x.n < 0n;
  const n = negative ? -x.n : x.n;
  const scale = 10n ** 10n;
  let q = (n * scale) / x.d;
  if ((n * scale) % x.d * 2n >= x.d) q += 1n;
  const text = q.toString().padStart(11, '0');
  return `${negative ? '-' : ''}${text.slice(0, -10)}.${text.slice(-10)}`;
}

/** units.parse(s): the amount in SI or binary units ("10K" → 10000, "500m" → 0.5); undefined on bad input. */
export function parseUnits(args: readonly RegoValue[]): RegoValue {
  const parts = numberAndUnit(stringOperand(args[0], 1).replaceAll('"', ''));
  const unit = parts.unit.length > 1 ? parts.unit.charAt(0) + parts.unit.slice(1).toLowerCase() : parts.unit;
  // OPA multiplies by big.Rat.SetFloat64(0.001) for "m": the float64's exact value, not 1/1000.
  const multiplier = unit === 'm' ? float64Rational(0.001) : SI_UNITS[unit];
  if (multiplier === undefined) throw new BuiltinError(`unit ${unit} not recognized`);
  const amount = parseDecimal(parts.number);
  if (!amount) throw new BuiltinError('could not parse amount to a number');
  const n = amount.n * multiplier.n;
  const d = amount.d * multiplier.d;
  const g = gcd(n, d);
  const value = { n: n / g, d: d / g };
  return num(value.d === 1n ? value.n.toString() : floatString10(value));
}
