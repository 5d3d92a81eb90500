// The builtins the engine implements itself, called by the module through the host
// (wasm-host.ts) with exact Rego values. Each one follows Go OPA's topdown implementation
// at the pinned version; builtins-vs-opa.test.ts checks every one against `opa eval`.
import type { RegoValue } from './rego-value.js';
import { sprintfBuiltin } from './sprintf.js';
import { anyPrefixMatch, anySuffixMatch, stringsCount } from './strings-match.js';
import { parseDurationNs, parseRfc3339Ns, timeNowNs } from './time-builtins.js';
import { parseBytes, parseUnits } from './units.js';
import { semverCompare, semverIsValid } from './semver.js';
import { regexReplace } from './regex-replace.js';
import { regexMatcher } from './regex-match.js';

export { BuiltinError } from './builtin-error.js';

export interface BuiltinContext {
  /** The evaluation's wall clock in nanoseconds since the epoch, the same for every call in one evaluation. */
  nowNs(): bigint;
}

/** A builtin: Rego values in, a Rego value or undefined out; throws BuiltinError for OPA's builtin errors. */
export type HostBuiltin = (args: readonly RegoValue[], ctx: BuiltinContext) => RegoValue | undefined;

/** Builtin name → implementation. A fresh object per call: nothing is shared at import time. */
export function hostBuiltins(): Readonly<Record<string, HostBuiltin>> {
  return {
    sprintf: sprintfBuiltin,
    'strings.any_prefix_match': anyPrefixMatch,
    'strings.any_suffix_match': anySuffixMatch,
    'strings.count': stringsCount,
    'time.now_ns': timeNowNs,
    'time.parse_rfc3339_ns': parseRfc3339Ns,
    'time.parse_duration_ns': parseDurationNs,
    'units.parse_bytes': parseBytes,
    'units.parse': parseUnits,
    'semver.compare': semverCompare,
    'semver.is_valid': semverIsValid,
    'regex.replace': regexReplace,
    // Routed from the module's own implementation (host-routed-builtins.ts).
    'regex.match': regexMatcher(),
  };
}
