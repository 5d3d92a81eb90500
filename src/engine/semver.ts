// semver.is_valid and semver.compare as OPA computes them (internal/semver/semver.go):
// an optional leading "v", MAJOR.MINOR.PATCH without leading zeros, optional pre-release
// and build metadata; comparison ignores metadata and orders pre-releases per SemVer 2.0.
import { bool, num, type RegoValue } from './rego-value.js';
import { BuiltinError, stringOperand } from './builtin-error.js';

interface Version {
  readonly major: bigint;
  readonly minor: bigint;
  readonly patch: bigint;
  readonly pre: string;
}

const IDENTIFIERS = /^[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*$/;
const INT64_MAX = 2n ** 63n - 1n;
const DECIMALS = /^[0-9]+$/;

function cut(s: string, sep: string): [string, string, boolean] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, '', false] : [s.slice(0, i), s.slice(i + 1), true];
}

function numeric(s: string): bigint | undefined {
  if (!DECIMALS.test(s) || (s.length > 1 && s.startsWith('0'))) return undefined;
  const n = BigInt(s);
  return n > INT64_MAX ? undefined : n;
}

/** The version, or undefined when Go OPA's semver.Parse rejects it. */
export function parseSemver(text: string): Version | undefined {
  let rest = text.startsWith('v') ? text.slice(1) : text;
  const [core, metadata, hasMetadata] = cut(rest, '+');
  if (hasMetadata && !IDENTIFIERS.test(metadata)) return undefined;
  const [version, pre, hasPre] = cut(core, '-');
  if (hasPre && (!IDENTIFIERS.test(pre) || pre.split('.').some((id) => id.length > 1 && id.startsWith('0') && DECIMALS.test(id)))) return undefined;
  rest = version;
  if (rest.split('.').length !== 3) return undefined;
  const [major, minor, patch] = rest.split('.').map(numeric);
  if (major === undefined || minor === undefined || patch === undefined) return undefined;
  return { major, minor, patch, pre };
}

/** Go's strconv.Atoi on an all-decimal identifier: clamped to int64 when out of range. */
const atoi = (s: string): bigint => {
  const n = BigInt(s);
  return n > INT64_MAX ? INT64_MAX : n;
};

const sign = (a: bigint | string, b: bigint | string): number => (a > b ? 1 : a < b ? -1 : 0);

function comparePre(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return 1;
  if (b === '') return -1;
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; ; i++) {
    const p = x[i];
    const q = y[i];
    if (p === undefined) return q === undefined ? 0 : -1;
    if (q === undefined) return 1;
    const pInt = DECIMALS.test(p);
    const qInt = DECIMALS.test(q);
    if (pInt !== qInt) return pInt ? -1 : 1;
    const c = pInt ? sign(atoi(p), atoi(q)) : sign(Buffer.from(p).toString('latin1'), Buffer.from(q).toString('latin1'));
    if (c !== 0) return c;
  }
}

export function compareSemver(a: Version, b: Version): number {
  return sign(a.major, b.major) || sign(a.minor, b.minor) || sign(a.patch, b.patch) || comparePre(a.pre, b.pre);
}

/** semver.is_valid(x): false for anything that is not a valid version string (never an error). */
export function semverIsValid(args: readonly RegoValue[]): RegoValue {
  const v = args[0];
  return bool(v?.type === 'string' && parseSemver(v.value) !== undefined);
}

/** semver.compare(a, b): -1, 0 or 1; a BuiltinError when either is not a valid version. */
export function semverCompare(args: readonly RegoValue[]): RegoValue {
  const a = parseSemver(stringOperand(args[0], 1));
  if (!a) throw new BuiltinError('operand 1: not a valid SemVer');
  const b = parseSemver(stringOperand(args[1], 2));
  if (!b) throw new BuiltinError('operand 2: not a valid SemVer');
  return num(compareSemver(a, b));
}
