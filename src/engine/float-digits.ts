// Exact decimal rendering of float64 values, as Go's strconv does for %f and %e with a
// precision: the binary value's exact decimal expansion rounded half to even. JavaScript's
// toFixed/toExponential round exact ties up instead (2.25 → "2.3", Go "2.2").

export interface Rational {
  readonly n: bigint;
  readonly d: bigint;
}

/** The exact value of a finite float64 as a fraction n/d (d a power of two). */
export function float64Rational(x: number): Rational {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const negative = bits >> 63n === 1n;
  const exponent = Number((bits >> 52n) & 0x7ffn);
  const mantissa = (bits & ((1n << 52n) - 1n)) | (exponent === 0 ? 0n : 1n << 52n);
  const shift = (exponent === 0 ? 1 : exponent) - 1075;
  const n = negative ? -mantissa : mantissa;
  return shift >= 0 ? { n: n << BigInt(shift), d: 1n } : { n, d: 1n << BigInt(-shift) };
}

/** n/d rounded to an integer, ties to even (n ≥ 0, d > 0). */
function roundHalfEven(n: bigint, d: bigint): bigint {
  const q = n / d;
  const twice = (n % d) * 2n;
  return twice > d || (twice === d && (q & 1n) === 1n) ? q + 1n : q;
}

const sign = (x: number): string => (x < 0 || Object.is(x, -0) ? '-' : '');

/** Go's strconv.FormatFloat(x, 'f', precision, 64) for a finite x. */
export function goFixed(x: number, precision: number): string {
  const { n, d } = float64Rational(Math.abs(x));
  const digits = roundHalfEven(n * 10n ** BigInt(precision), d).toString().padStart(precision + 1, '0');
  const int = digits.slice(0, digits.length - precision);
  return `${sign(x)}${int}${precision > 0 ? `.${digits.slice(-precision)}` : ''}`;
}

/** Go's strconv.FormatFloat(x, 'e', precision, 64) for a finite x: d.ddde±XX. */
export function goExponent(x: number, precision: number): string {
  const { n, d } = float64Rational(Math.abs(x));
  if (n === 0n) return `${sign(x)}0${precision > 0 ? `.${'0'.repeat(precision)}` : ''}e+00`;
  let e = Math.floor(Math.log10(Math.abs(x)));
  const scaled = (k: number): bigint => (k - precision <= 0 ? roundHalfEven(n * 10n ** BigInt(precision - k), d) : roundHalfEven(n, d * 10n ** BigInt(k - precision)));
  let q = scaled(e);
  const limit = 10n ** BigInt(precision + 1);
  if (q >= limit) q = scaled(++e);
  else if (q < limit / 10n) q = scaled(--e);
  if (q >= limit) q = scaled(++e);
  const text = q.toString();
  const mantissa = precision > 0 ? `${text.charAt(0)}.${text.slice(1)}` : text;
  return `${sign(x)}${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}
