// PLACEHOLDER until the match helper's match.ts lands (it replaces this file).
import type { ConstraintMatch, MatchResult, MatchSubject, NamespaceLookup } from './types.js';

export function matchConstraint(match: ConstraintMatch, subject: MatchSubject, _namespaces: NamespaceLookup): MatchResult {
  const kinds = match.kinds;
  if (!kinds || kinds.length === 0) return { matched: true };
  return {
    matched: kinds.some(
      (k) => (k.apiGroups.includes('*') || k.apiGroups.includes(subject.kind.group)) && (k.kinds.includes('*') || k.kinds.includes(subject.kind.kind)),
    ),
  };
}
