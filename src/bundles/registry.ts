// The registry holds the active policy set and replaces it with one reference swap:
// a new set is built completely (bundles already loaded and checked) before it is
// published, so a request sees either the old set or the new one, never a mix. During a
// rollout the same swap publishes the candidate revisions beside it (rollout-snapshot.ts).
import type { LoadedBundle } from './bundle.js';
import { createPolicySet, type PolicySet } from './policy-set.js';
import { createRolloutSnapshot, type CandidateSpec, type RolloutSnapshot } from './rollout-snapshot.js';

export interface PolicyRegistry {
  /** The active set, or undefined before the first activation. Read once per request. */
  current(): PolicySet | undefined;
  /** The active set and the candidates beside it, as one snapshot. Read once per request. */
  snapshot(): RolloutSnapshot;
  /** Publishes a set in which `bundle` replaces the bundle of the same name. */
  activate(bundle: LoadedBundle): PolicySet;
  /** Publishes a set without the named bundle (an explicit removal); its candidate goes too. */
  remove(name: string): PolicySet | undefined;
  /** Publishes the active set with `candidate` beside it, replacing the bundle's previous candidate. */
  stage(candidate: CandidateSpec): void;
  /** Publishes the active set without the named bundle's candidate. */
  unstage(name: string): void;
  /** Called after every publish with the new active set and every bundle in use (active and candidates). */
  onChange(listener: (set: PolicySet, inUse: readonly LoadedBundle[]) => void): void;
}

/**
 * The one place the active policy set lives. `activate`, `remove`, `stage` and `unstage`
 * build the next snapshot aside and publish it with a single assignment; listeners run
 * after the swap, never before, so none can observe a half-published set. Bundles are
 * checked by their loader before they reach here: the registry never refuses one.
 */
export function createPolicyRegistry(initial: readonly LoadedBundle[] = []): PolicyRegistry {
  const listeners: ((set: PolicySet, inUse: readonly LoadedBundle[]) => void)[] = [];
  let candidates = new Map<string, CandidateSpec>();
  let snapshot: RolloutSnapshot = createRolloutSnapshot(initial.length > 0 ? createPolicySet(initial) : undefined, []);

  const publish = (active: PolicySet | undefined, next: Map<string, CandidateSpec>): void => {
    candidates = next;
    snapshot = createRolloutSnapshot(active, next.values());
    if (!active) return;
    const inUse = [...active.bundles, ...[...next.values()].map((c) => c.bundle)];
    for (const listener of listeners) listener(active, inUse);
  };
  const activeSet = () => snapshot.active;

  return {
    // A set without bundles (every bundle removed) is no policy set: reviews fail closed.
    current: () => {
      const active = activeSet();
      return active && active.bundles.length > 0 ? active : undefined;
    },
    snapshot: () => snapshot,
    activate(bundle) {
      const others = (activeSet()?.bundles ?? []).filter((b) => b.name !== bundle.name);
      const next = createPolicySet([...others, bundle]);
      publish(next, candidates);
      return next;
    },
    remove(name) {
      const active = activeSet();
      if (!active?.bundles.some((b) => b.name === name)) return active;
      const next = createPolicySet(active.bundles.filter((b) => b.name !== name));
      const kept = new Map(candidates);
      kept.delete(name);
      publish(next, kept);
      return next;
    },
    stage(candidate) {
      const next = new Map(candidates);
      next.set(candidate.bundle.name, candidate);
      publish(activeSet(), next);
    },
    unstage(name) {
      if (!candidates.has(name)) return;
      const next = new Map(candidates);
      next.delete(name);
      publish(activeSet(), next);
    },
    onChange(listener) {
      listeners.push(listener);
    },
  };
}
