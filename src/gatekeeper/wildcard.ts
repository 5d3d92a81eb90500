// Gatekeeper's wildcard (pkg/wildcard/wildcard.go): a string with an optional `*` at its
// front and/or end. `kube-*` is a prefix, `*-system` a suffix, `*system*` a substring; a
// string without an asterisk matches only itself. Used by spec.match.name, namespaces and
// excludedNamespaces. The CRD allows only `^\*?[-:a-z0-9]*\*?$` (checked by parse-match.ts).

/** Wildcard.Matches: an exact match, or the glob the asterisks make. */
export function wildcardMatches(pattern: string, candidate: string): boolean {
  const front = pattern.startsWith('*');
  const end = pattern.endsWith('*');
  // As Go's TrimPrefix then TrimSuffix: "*" is both a prefix and a suffix glob of "".
  if (front && end) return candidate.includes(trimEnd(pattern.slice(1)));
  if (front) return candidate.endsWith(pattern.slice(1));
  if (end) return candidate.startsWith(trimEnd(pattern));
  return pattern === candidate;
}

/**
 * Wildcard.MatchesGenerateName: only a glob whose fixed part can be the start of a generated
 * name matches metadata.generateName — `pod-*` and `*pod*` do; an exact name and a suffix glob
 * (`*-pod`) never do, since the API server appends the random suffix.
 */
export function wildcardMatchesGenerateName(pattern: string, generateName: string): boolean {
  const front = pattern.startsWith('*');
  const end = pattern.endsWith('*');
  if (front && end) return generateName.includes(trimEnd(pattern.slice(1)));
  if (end) return generateName.startsWith(trimEnd(pattern));
  return false;
}

function trimEnd(s: string): string {
  return s.endsWith('*') ? s.slice(0, -1) : s;
}
