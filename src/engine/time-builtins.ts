// time.now_ns, time.parse_rfc3339_ns and time.parse_duration_ns as OPA computes them
// (topdown/time.go): Go's time.Parse(time.RFC3339, …) and time.ParseDuration, the
// latter extended with d, w and y units; results are int64 nanoseconds, exact.
import { num, type RegoValue } from './rego-value.js';
import { BuiltinError, stringOperand } from './builtin-error.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const invalid = (): never => {
  throw new BuiltinError('time: invalid duration');
};

/** time.now_ns(): the wall clock, read once per evaluation like Go OPA reads it once per query. */
export const timeNowNs = (_args: readonly RegoValue[], ctx: { nowNs(): bigint }): RegoValue => num(ctx.nowNs());

// Go's time.Parse with layout RFC3339 ("2006-01-02T15:04:05Z07:00"), which falls back to
// its general parser when the strict RFC 3339 one fails: fixed-width fields except the
// hour (one or two digits); fractional seconds of any length after "." or ","; "Z" or
// ±hh:mm with an offset of up to 24 hours and 60 minutes; the day checked against the month.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|([+-])(\d{2}):(\d{2}))$/;

const leap = (y: number): boolean => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
const daysIn = (year: number, month: number): number => (month === 2 ? (leap(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31);

/** Days since 1970-01-01 of a proleptic Gregorian date (exact for any year). */
function daysFromCivil(y: number, m: number, d: number): bigint {
  const yy = BigInt(m <= 2 ? y - 1 : y);
  const era = (yy >= 0n ? yy : yy - 399n) / 400n;
  const yoe = yy - era * 400n;
  const mp = BigInt((m + 9) % 12);
  const doy = (153n * mp + 2n) / 5n + BigInt(d - 1);
  const doe = yoe * 365n + yoe / 4n - yoe / 100n + doy;
  return era * 146097n + doe - 719468n;
}

/** time.parse_rfc3339_ns(s): nanoseconds since the epoch; undefined on a bad or out-of-range time. */
export function parseRfc3339Ns(args: readonly RegoValue[]): RegoValue {
  const m = RFC3339.exec(stringOperand(args[0], 1));
  if (!m) throw new BuiltinError('cannot parse as RFC3339');
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) {
    throw new BuiltinError('time out of range');
  }
  let offset = 0n;
  if (m[8] !== 'Z') {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 24 || om > 60) throw new BuiltinError('time zone offset out of range');
    offset = BigInt((oh * 60 + om) * 60) * (m[9] === '-' ? -1n : 1n);
  }
  const fraction = BigInt(((m[7] ?? '') + '000000000').slice(0, 9));
  const seconds = daysFromCivil(year, month, day) * 86400n + BigInt(hour * 3600 + minute * 60 + second) - offset;
  const ns = seconds * 1_000_000_000n + fraction;
  if (ns < INT64_MIN || ns > INT64_MAX) throw new BuiltinError('time outside of valid range');
  return num(ns);
}

const UNITS: Readonly<Record<string, bigint>> = {
  ns: 1n, us: 1_000n, 'µs': 1_000n, 'μs': 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n,
};
const TWO63 = 2n ** 63n;

/** Go's time.ParseDuration, exactly (overflow checks included). */
function goParseDuration(text: string): bigint {
  let s = text;
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s.startsWith('-');
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') invalid();
  let total = 0n;
  while (s !== '') {
    if (!/^[0-9.]/.test(s)) invalid();
    const int = /^[0-9]*/.exec(s)?.[0] ?? '';
    let v = 0n;
    for (const c of int) {
      if (v > TWO63 / 10n) invalid();
      v = v * 10n + BigInt(c);
      if (v > TWO63) invalid();
    }
    s = s.slice(int.length);
    let f = 0n;
    let scale = 1;
    let post = false;
    if (s.startsWith('.')) {
      s = s.slice(1);
      const frac = /^[0-9]*/.exec(s)?.[0] ?? '';
      let overflow = false;
      for (const c of frac) {
        if (overflow) continue;
        if (f > (TWO63 - 1n) / 10n) {
          overflow = true;
          continue;
        }
        const y = f * 10n + BigInt(c);
        if (y > TWO63) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = frac.length > 0;
      s = s.slice(frac.length);
    }
    if (int.length === 0 && !post) invalid();
    const unitText = /^[^0-9.]*/.exec(s)?.[0] ?? '';
    if (unitText === '') invalid();
    s = s.slice(unitText.length);
    const unit = UNITS[unitText] ?? invalid();
    if (v > TWO63 / unit) invalid();
    v *= unit;
    if (f > 0n) {
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > TWO63) invalid();
    }
    total += v;
    if (total > TWO63) invalid();
  }
  if (neg) return -total;
  if (total > TWO63 - 1n) invalid();
  return total;
}

const EXTENDED = /^([-+]?)((?:[0-9.]+(?:ms|us|µs|ns|[a-z]))+)$/;
const SEGMENT = /([0-9.]+)(ms|us|µs|ns|[a-z])/g;
const HOURS: Readonly<Record<string, number>> = { d: 24, w: 7 * 24, y: 365 * 24 };

/** Go's strconv.FormatFloat(x, 'f', -1, 64): the shortest digits, never an exponent. */
function plainDecimal(x: number): string {
  const text = String(x);
  if (!/e/.test(text)) return text;
  const [mantissa = '', exp = '0'] = text.split('e');
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace(/^-/, '').replace('.', '');
  const point = (mantissa.replace(/^-/, '').indexOf('.') + 1 || mantissa.replace(/^-/, '').length + 1) - 1 + Number(exp);
  const body = point <= 0 ? `0.${'0'.repeat(-point)}${digits}` : point >= digits.length ? digits + '0'.repeat(point - digits.length) : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return (negative ? '-' : '') + body;
}

/** OPA's parseExtendedDuration: d/w/y segments are rewritten to hours, then Go parses the result. */
function parseExtendedDuration(s: string): bigint {
  if (s === '') invalid();
  if (!/[dwy]/.test(s)) return goParseDuration(s);
  const m = EXTENDED.exec(s);
  if (!m) invalid();
  const rewritten = [...(m?.[2] ?? '').matchAll(SEGMENT)].map(([, digits = '', unit = '']) => {
    const hours = HOURS[unit];
    if (hours === undefined) return digits + unit;
    if (!/^([0-9]+\.?[0-9]*|\.[0-9]+)$/.test(digits)) invalid();
    return `${plainDecimal(Number(digits) * hours)}h`;
  });
  return goParseDuration((m?.[1] ?? '') + rewritten.join(''));
}

/** time.parse_duration_ns(s): the duration in nanoseconds; undefined when Go rejects it. */
export function parseDurationNs(args: readonly RegoValue[]): RegoValue {
  return num(parseExtendedDuration(stringOperand(args[0], 1)));
}
