import { describe, expect, it } from 'vitest';
import { WINDOW_BUCKETS_MS, emptyCounts, mergeCounts, p99Ms, type RoleCounts } from './canary-window.js';
import { judgeCanary, type PromotionThresholds } from './promotion-decision.js';

const POLICY: PromotionThresholds = { windowMs: 60_000, minReviews: 100, maxDenyRateIncrease: 0.01, maxErrorRateIncrease: 0.01, maxP99Ratio: 2 };

/** Counts of `reviews` reviews, `denied` denied and `errored` errored, all in the bucket of `ms`. */
function counts(reviews: number, denied = 0, errored = 0, ms = 0.5): RoleCounts {
  const buckets = emptyCounts().buckets.slice();
  const i = WINDOW_BUCKETS_MS.findIndex((b) => ms <= b);
  buckets[i < 0 ? WINDOW_BUCKETS_MS.length : i] = reviews;
  return { reviews, denied, errored, buckets };
}

const judge = (canary: RoleCounts, active: RoleCounts, elapsedMs: number, refusedBy: string[] = []) => judgeCanary(POLICY, 1_000_000, 1_000_000 + elapsedMs, { canary, active, refusedBy });

describe('judgeCanary', () => {
  it.each([
    ['too few canary reviews: wait, even with every one denied and the window over', counts(99, 99), counts(1000), 120_000, 'wait', /99 of 100/],
    ['enough reviews, within thresholds, window not over: wait', counts(200, 2), counts(1000, 10), 30_000, 'wait', /30 s of the window left/],
    ['within thresholds for the whole window: promote', counts(200, 2), counts(1000, 10), 60_000, 'promote', /200 canary reviews/],
    ['deny rate up by more than allowed: roll back at once, inside the window', counts(100, 30), counts(1000, 10), 5_000, 'rollback', /deny rate 30.00% .* against 1.00% active/],
    ['deny rate up exactly by the allowance: not a breach', counts(100, 2), counts(100, 1), 60_000, 'promote', /promote|within/],
    ['error rate up: roll back', counts(100, 0, 5), counts(100), 1_000, 'rollback', /error rate 5.00%/],
    ['p99 beyond the ratio and the floor: roll back', counts(100, 0, 0, 100), counts(100, 0, 0, 5), 1_000, 'rollback', /p99 evaluation time 100 ms against 5 ms/],
    ['p99 beyond the ratio but under the floor: noise, not a breach', counts(100, 0, 0, 1), counts(100, 0, 0, 0.1), 60_000, 'promote', /./],
    ['p99 beyond the ratio with fewer than 100 active reviews: the slowest review, not judged', counts(100, 0, 0, 100), counts(99, 0, 0, 5), 60_000, 'promote', /./],
    ['no active reviews: rates compared with 0', counts(100, 0), emptyCounts(), 60_000, 'promote', /./],
    ['no active reviews and a denying canary: roll back', counts(100, 5), emptyCounts(), 1_000, 'rollback', /deny rate 5.00%/],
  ])('%s', (_name, canary, active, elapsed, verdict, reason) => {
    const v = judge(canary, active, elapsed);
    expect(v.verdict).toBe(verdict);
    expect(v.reason).toMatch(reason);
  });

  it('a candidate refused by a replica is rolled back before anything else', () => {
    expect(judge(emptyCounts(), emptyCounts(), 0, ['replica-2', 'replica-1'])).toEqual({ verdict: 'rollback', reason: 'the candidate did not load on replica-1, replica-2' });
  });

  it('p99 of merged counts is the bucket bound holding the 99th percentile', () => {
    const merged = mergeCounts(counts(98, 0, 0, 0.5), counts(2, 0, 0, 100));
    expect(merged.reviews).toBe(100);
    expect(p99Ms(merged)).toBe(100);
    expect(p99Ms(counts(1000, 0, 0, 0.5))).toBe(0.5);
    expect(p99Ms(counts(10, 0, 0, 99_999))).toBe(Number.POSITIVE_INFINITY);
    expect(p99Ms(emptyCounts())).toBeUndefined();
  });
});
