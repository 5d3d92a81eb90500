// What a replica evaluates during a rollout: the active policy set and, per bundle, at most
// one candidate revision beside it, published together as one immutable snapshot (see
// registry.ts), so a review that reads the snapshot once sees one consistent pair.
import type { LoadedBundle } from './bundle.js';
import type { SliceMatcher, SliceSpec } from './canary-slice.js';
import { createPolicySet, type PolicySet } from './policy-set.js';

export type CandidateMode = 'shadow' | 'canary';

/** A candidate as the reconciler stages it. */
export interface CandidateSpec {
  readonly bundle: LoadedBundle;
  readonly mode: CandidateMode;
  /** The candidate's revision sequence on the pointer. */
  readonly sequence: number;
  readonly startedAt: number;
  /** Canary only: which requests it decides. */
  readonly slice?: SliceMatcher;
  readonly sliceSpec?: SliceSpec;
}

export interface StagedCandidate extends CandidateSpec {
  /** The active set with this bundle replaced by the candidate: what a canary enforces. */
  readonly set: PolicySet;
  /** The candidate bundle alone: what a shadow evaluates beside the active outcomes of the other bundles. */
  readonly alone: PolicySet;
}

export interface RolloutSnapshot {
  readonly active: PolicySet | undefined;
  /** Ordered by bundle name. */
  readonly candidates: readonly StagedCandidate[];
  /** The active set with every named canary's bundle replaced (memoized per combination). */
  canarySet(bundles: readonly StagedCandidate[]): PolicySet;
}

export function createRolloutSnapshot(active: PolicySet | undefined, specs: Iterable<CandidateSpec>): RolloutSnapshot {
  const activeBundles = active?.bundles ?? [];
  const replace = (swapped: readonly LoadedBundle[]): PolicySet => {
    const names = new Set(swapped.map((b) => b.name));
    return createPolicySet([...activeBundles.filter((b) => !names.has(b.name)), ...swapped]);
  };
  const candidates = Object.freeze(
    [...specs]
      .sort((a, b) => (a.bundle.name < b.bundle.name ? -1 : a.bundle.name > b.bundle.name ? 1 : 0))
      .map((spec): StagedCandidate => Object.freeze({ ...spec, set: replace([spec.bundle]), alone: createPolicySet([spec.bundle]) })),
  );
  const combined = new Map<string, PolicySet>();
  return Object.freeze({
    active,
    candidates,
    canarySet(chosen: readonly StagedCandidate[]): PolicySet {
      if (chosen.length === 1) return (chosen[0] as StagedCandidate).set;
      const key = chosen.map((c) => c.bundle.name).join('\u0000');
      let set = combined.get(key);
      if (!set) {
        set = replace(chosen.map((c) => c.bundle));
        combined.set(key, set);
      }
      return set;
    },
  });
}
