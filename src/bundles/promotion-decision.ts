// The promotion controller's verdict on a running canary, as a pure function of the
// promotion policy, the window's start, the time now and the window counts of every replica
// added up (canary-window.ts):
//
// 1. A candidate some replica refused to load is rolled back: it cannot be enforced everywhere.
// 2. Nothing is judged before the canary has decided `minReviews` reviews (across replicas).
// 3. From then on, any breach rolls back at once, before the window ends:
//    - the canary's deny rate exceeds the active revision's by more than maxDenyRateIncrease;
//    - its error rate (reviews in which a policy failed to evaluate) likewise, by maxErrorRateIncrease;
//    - its p99 evaluation time exceeds maxP99Ratio × the active revision's p99 and P99_FLOOR_MS
//      (p99s are bucket bounds; below the floor a difference is noise, not a regression),
//      judged only once both have P99_MIN_REVIEWS reviews: with fewer, the 99th percentile
//      is the slowest review, and one cold first evaluation would roll a good canary back.
//    An active revision with no reviews in the window counts as rates 0 and no p99.
// 4. Without a breach, the canary is promoted once the window (windowMs) has elapsed.
import { p99Ms, type RoleCounts } from './canary-window.js';

export interface PromotionThresholds {
  readonly windowMs: number;
  readonly minReviews: number;
  readonly maxDenyRateIncrease: number;
  readonly maxErrorRateIncrease: number;
  readonly maxP99Ratio: number;
}

export interface CanaryEvidence {
  readonly active: RoleCounts;
  readonly canary: RoleCounts;
  /** Replicas that refused to load the candidate. */
  readonly refusedBy: readonly string[];
}

export type Verdict = { readonly verdict: 'wait' | 'promote' | 'rollback'; readonly reason: string };

export const P99_FLOOR_MS = 2.5;
export const P99_MIN_REVIEWS = 100;

const rate = (n: number, of: number) => (of === 0 ? 0 : n / of);
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export function judgeCanary(policy: PromotionThresholds, startedAt: number, now: number, e: CanaryEvidence): Verdict {
  if (e.refusedBy.length > 0) return { verdict: 'rollback', reason: `the candidate did not load on ${[...e.refusedBy].sort().join(', ')}` };
  const { active, canary } = e;
  if (canary.reviews < policy.minReviews) return { verdict: 'wait', reason: `${canary.reviews} of ${policy.minReviews} canary reviews` };
  const deny = { canary: rate(canary.denied, canary.reviews), active: rate(active.denied, active.reviews) };
  if (deny.canary - deny.active > policy.maxDenyRateIncrease) {
    return { verdict: 'rollback', reason: `deny rate ${pct(deny.canary)} over ${canary.reviews} canary reviews against ${pct(deny.active)} active exceeds the allowed increase of ${pct(policy.maxDenyRateIncrease)}` };
  }
  const errors = { canary: rate(canary.errored, canary.reviews), active: rate(active.errored, active.reviews) };
  if (errors.canary - errors.active > policy.maxErrorRateIncrease) {
    return { verdict: 'rollback', reason: `error rate ${pct(errors.canary)} against ${pct(errors.active)} active exceeds the allowed increase of ${pct(policy.maxErrorRateIncrease)}` };
  }
  const p99 = { canary: p99Ms(canary), active: p99Ms(active) };
  const judged = canary.reviews >= P99_MIN_REVIEWS && active.reviews >= P99_MIN_REVIEWS;
  if (judged && p99.canary !== undefined && p99.active !== undefined && p99.canary > Math.max(p99.active * policy.maxP99Ratio, P99_FLOOR_MS)) {
    return { verdict: 'rollback', reason: `p99 evaluation time ${p99.canary} ms against ${p99.active} ms active exceeds ${policy.maxP99Ratio}x` };
  }
  const elapsed = now - startedAt;
  if (elapsed < policy.windowMs) return { verdict: 'wait', reason: `within thresholds; ${Math.ceil((policy.windowMs - elapsed) / 1000)} s of the window left` };
  return {
    verdict: 'promote',
    reason: `within thresholds for the whole window: ${canary.reviews} canary reviews, deny rate ${pct(deny.canary)} (active ${pct(deny.active)}), error rate ${pct(errors.canary)} (active ${pct(errors.active)})`,
  };
}
