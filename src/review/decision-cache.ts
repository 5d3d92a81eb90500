// A cache of policy outcomes keyed by a review's content and the policy set that judged
// it. Off by default (`--decision-cache-size`): it pays only when the API server sends the
// same content again — retries, re-applies of unchanged objects, controllers resending —
// and costs a hash of every review when it does not.
//
// The key is the digest of the endpoint, the policy set's content digest (never its
// revision names: a bundle rebuilt under the same revision is another set) and the review's bytes
// without the value of request.uid: everything a policy can read, so two reviews share an
// entry only when every policy must decide them alike — unless a policy reads the clock
// (time.now_ns), which is what the entries' time to live bounds. Outcomes with an engine
// error (a timeout, an overload, a trap) are never stored: they say nothing about the
// content.
import type { PolicyOutcome } from './decision.js';

export interface DecisionCacheOptions {
  readonly maxEntries: number;
  readonly ttlMs: number;
  readonly now?: () => number;
  /** Called once per lookup. */
  readonly onLookup?: (hit: boolean) => void;
}

export interface DecisionCache {
  get(key: string): readonly PolicyOutcome[] | undefined;
  set(key: string, outcomes: readonly PolicyOutcome[]): void;
  size(): number;
}

export function cacheable(outcomes: readonly PolicyOutcome[]): boolean {
  return outcomes.every((o) => o.action !== 'error');
}

/** Least-recently-used, bounded in entries, each entry expiring after ttlMs. */
export function createDecisionCache(options: DecisionCacheOptions): DecisionCache {
  const now = options.now ?? (() => performance.now());
  const entries = new Map<string, { outcomes: readonly PolicyOutcome[]; expires: number }>();
  return {
    get(key) {
      const entry = entries.get(key);
      const hit = entry !== undefined && entry.expires > now();
      options.onLookup?.(hit);
      if (!entry) return undefined;
      entries.delete(key);
      if (!hit) return undefined;
      entries.set(key, entry);
      return entry.outcomes;
    },
    set(key, outcomes) {
      if (!cacheable(outcomes)) return;
      entries.delete(key);
      entries.set(key, { outcomes, expires: now() + options.ttlMs });
      while (entries.size > options.maxEntries) entries.delete(entries.keys().next().value as string);
    },
    size: () => entries.size,
  };
}
