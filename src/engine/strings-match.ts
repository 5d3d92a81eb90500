// strings.any_prefix_match, strings.any_suffix_match and strings.count as OPA computes them
// (topdown/strings.go): each search/base operand is a string, an array or a set of strings.
import { bool, num, type RegoValue } from './rego-value.js';
import { BuiltinError, stringOperand } from './builtin-error.js';

/** The strings of a string, array or set operand; a BuiltinError for anything else. */
function stringsOf(v: RegoValue | undefined, position: number): string[] {
  if (v?.type === 'string') return [v.value];
  if (v?.type === 'array' || v?.type === 'set') return v.items.map((item) => stringOperand(item, position));
  throw new BuiltinError(`operand ${position} must be one of {string, set, array}`);
}

function anyAffixMatch(args: readonly RegoValue[], suffix: boolean): RegoValue {
  const search = stringsOf(args[0], 1);
  const base = stringsOf(args[1], 2);
  const match = suffix ? (s: string, b: string) => s.endsWith(b) : (s: string, b: string) => s.startsWith(b);
  return bool(search.some((s) => base.some((b) => match(s, b))));
}

/** strings.any_prefix_match(search, base): whether any search string starts with any base string. */
export const anyPrefixMatch = (args: readonly RegoValue[]): RegoValue => anyAffixMatch(args, false);

/** strings.any_suffix_match(search, base): whether any search string ends with any base string. */
export const anySuffixMatch = (args: readonly RegoValue[]): RegoValue => anyAffixMatch(args, true);

/** strings.count(s, sub): Go's strings.Count (non-overlapping; an empty sub counts runes + 1). */
export function stringsCount(args: readonly RegoValue[]): RegoValue {
  const s = stringOperand(args[0], 1);
  const sub = stringOperand(args[1], 2);
  if (sub === '') return num([...s].length + 1);
  let count = 0;
  for (let at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length)) count++;
  return num(count);
}
