// A policy set: the complete, immutable collection of bundles a review is evaluated
// against. Requests read the registry's current set once and keep that snapshot.
import type { LoadedBundle } from './bundle.js';

export interface PolicySet {
  /** Bundles ordered by name. */
  readonly bundles: readonly LoadedBundle[];
  /** "name@revision" of every bundle, comma-separated; names the set in decisions and audit annotations. */
  readonly revision: string;
  readonly activatedAt: Date;
}

export function createPolicySet(bundles: Iterable<LoadedBundle>, activatedAt = new Date()): PolicySet {
  const sorted = [...bundles].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return Object.freeze({
    bundles: Object.freeze(sorted),
    revision: sorted.map((b) => `${b.name}@${b.revision}`).join(','),
    activatedAt,
  });
}
