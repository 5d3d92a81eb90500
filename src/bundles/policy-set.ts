// A policy set: the complete, immutable collection of bundles a review is evaluated
// against. Requests read the registry's current set once and keep that snapshot.
import { createHash } from 'node:crypto';
import type { LoadedBundle } from './bundle.js';

export interface PolicySet {
  /** Bundles ordered by name. */
  readonly bundles: readonly LoadedBundle[];
  /** "name@revision" of every bundle, comma-separated; names the set in decisions and audit annotations. */
  readonly revision: string;
  /**
   * sha256 over every bundle's name and content digest: the set's identity by content. Two
   * sets with the same revision names but other bytes (a bundle rebuilt under the same
   * revision) have different digests, so what is keyed by it (the decision cache) never
   * serves one set's outcomes for the other.
   */
  readonly digest: string;
  readonly activatedAt: Date;
}

export function createPolicySet(bundles: Iterable<LoadedBundle>, activatedAt = new Date()): PolicySet {
  const sorted = [...bundles].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return Object.freeze({
    bundles: Object.freeze(sorted),
    revision: sorted.map((b) => `${b.name}@${b.revision}`).join(','),
    digest: createHash('sha256')
      .update(sorted.map((b) => `${b.name}\u0000${b.digest}`).join('\u0000'))
      .digest('hex'),
    activatedAt,
  });
}
