// The registry holds the active policy set and replaces it with one reference swap:
// a new set is built completely (bundles already loaded and checked) before it is
// published, so a request sees either the old set or the new one, never a mix.
import type { LoadedBundle } from './bundle.js';
import { createPolicySet, type PolicySet } from './policy-set.js';

export interface PolicyRegistry {
  /** The active set, or undefined before the first activation. Read once per request. */
  current(): PolicySet | undefined;
  /** Publishes a set in which `bundle` replaces the bundle of the same name. */
  activate(bundle: LoadedBundle): PolicySet;
  /** Publishes a set without the named bundle (an explicit removal). */
  remove(name: string): PolicySet | undefined;
  /** Called after every publish with the new set. */
  onChange(listener: (set: PolicySet) => void): void;
}

/**
 * The one place the active policy set lives. `activate` and `remove` build the next set
 * aside and publish it with a single assignment; listeners run after the swap, never
 * before, so none can observe a half-published set. Bundles are checked by their loader
 * before they reach here: the registry never refuses one.
 */
export function createPolicyRegistry(initial: readonly LoadedBundle[] = []): PolicyRegistry {
  let active: PolicySet | undefined = initial.length > 0 ? createPolicySet(initial) : undefined;
  const listeners: ((set: PolicySet) => void)[] = [];

  const publish = (bundles: Iterable<LoadedBundle>): PolicySet => {
    const next = createPolicySet(bundles);
    active = next;
    for (const listener of listeners) listener(next);
    return next;
  };

  return {
    // A set without bundles (every bundle removed) is no policy set: reviews fail closed.
    current: () => (active && active.bundles.length > 0 ? active : undefined),
    activate(bundle) {
      const others = (active?.bundles ?? []).filter((b) => b.name !== bundle.name);
      return publish([...others, bundle]);
    },
    remove(name) {
      if (!active?.bundles.some((b) => b.name === name)) return active;
      return publish(active.bundles.filter((b) => b.name !== name));
    },
    onChange(listener) {
      listeners.push(listener);
    },
  };
}
