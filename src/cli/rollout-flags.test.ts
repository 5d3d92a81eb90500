import { describe, expect, it } from 'vitest';
import { DEFAULT_PROMOTION_POLICY } from '../cluster/rollout-objects.js';
import { candidateRequest } from './rollout-flags.js';

describe('push rollout flags', () => {
  it('no flag: an ordinary push', () => expect(candidateRequest({})).toBeUndefined());
  it('--shadow', () => expect(candidateRequest({ shadow: true })).toEqual({ mode: 'shadow' }));
  it('--canary with both parts and a policy', () => {
    expect(
      candidateRequest({ canary: ['namespaces=env=canary,tier in (a,b)', 'percent=25'], 'canary-window': '30s', 'canary-min-reviews': '20', 'canary-max-deny-rate-increase': '0.1', 'canary-max-p99-ratio': '1.5' }),
    ).toEqual({
      mode: 'canary',
      slice: { namespaces: 'env=canary,tier in (a,b)', percent: 25 },
      policy: { ...DEFAULT_PROMOTION_POLICY, windowMs: 30_000, minReviews: 20, maxDenyRateIncrease: 0.1, maxP99Ratio: 1.5 },
    });
  });
  it.each([
    [{ shadow: true, canary: ['percent=5'] }, /exclude each other/],
    [{ 'canary-window': '1m' }, /--canary-window needs --canary/],
    [{ canary: ['percent=0'] }, /percent= must be one number/],
    [{ canary: ['percent=5', 'percent=6'] }, /percent= must be one number/],
    [{ canary: ['zone=a'] }, /takes namespaces=<label selector> or percent=<N>/],
    [{ canary: ['namespaces=tier in (a'] }, /canary namespace selector/],
    [{ canary: ['percent=5'], 'canary-window': 'soon' }, /--canary-window must be a duration/],
    [{ canary: ['percent=5'], 'canary-min-reviews': '0' }, /--canary-min-reviews must be a positive integer/],
    [{ canary: ['percent=5'], 'canary-max-error-rate-increase': '2' }, /must be a fraction in \[0, 1\]/],
    [{ canary: ['percent=5'], 'canary-max-p99-ratio': '0.5' }, /must be a ratio >= 1/],
  ])('refuses %j', (values, message) => {
    expect(() => candidateRequest(values)).toThrow(message);
  });
});
