// regex.match(pattern, value) as Go OPA computes it (topdown/regex.go): whether Go's regexp
// (RE2 syntax) finds the pattern anywhere in the value; an invalid pattern or a non-string
// operand is a builtin error (undefined). Patterns are compiled with re2js, a port of RE2
// that reads Go's syntax, and kept across evaluations (see host-routed-builtins.ts for why
// the module's own regex.match is routed here).
import { RE2JS } from 're2js';
import type { RegoValue } from './rego-value.js';
import { bool } from './rego-value.js';
import { BuiltinError, stringOperand } from './builtin-error.js';

/**
 * Compiled patterns kept per policy instance; the oldest is dropped past this many. Go OPA
 * keeps 100 (regexpCacheMaxSize); a template with a regex parameter and 100 constraints
 * already needs that many for one review, so this keeps more.
 */
const MAX_PATTERNS = 1000;

/** A regex.match implementation with its own cache of compiled patterns. */
export function regexMatcher(): (args: readonly RegoValue[]) => RegoValue {
  const compiled = new Map<string, RE2JS | null>();
  const compile = (pattern: string): RE2JS | null => {
    let re = compiled.get(pattern);
    if (re !== undefined) return re;
    try {
      re = RE2JS.compile(pattern);
    } catch {
      re = null;
    }
    if (compiled.size >= MAX_PATTERNS) compiled.delete(compiled.keys().next().value as string);
    compiled.set(pattern, re);
    return re;
  };
  return (args) => {
    const pattern = stringOperand(args[0], 1);
    const value = stringOperand(args[1], 2);
    const re = compile(pattern);
    if (re === null) throw new BuiltinError(`error parsing regexp: ${pattern}`);
    return bool(re.test(value));
  };
}
