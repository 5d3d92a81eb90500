import { describe, expect, it } from 'vitest';
import type { PolicyOutcome } from './decision.js';
import { createDecisionCache } from './decision-cache.js';

const outcome = (action: PolicyOutcome['action'], policy = 'p'): PolicyOutcome => ({
  policy,
  bundle: 'b',
  enforcement: 'deny',
  failure: 'fail-closed',
  action,
  violations: [],
  warnings: [],
  ...(action === 'error' ? { error: { code: 'POLICY_EVAL_FAILED', class: 'timeout', message: 'past its budget' } } : {}),
});

describe('decision cache', () => {
  it('returns what was stored, and counts hits and misses', () => {
    const lookups: boolean[] = [];
    const cache = createDecisionCache({ maxEntries: 10, ttlMs: 1000, onLookup: (hit) => lookups.push(hit) });
    expect(cache.get('a')).toBeUndefined();
    cache.set('a', [outcome('deny')]);
    expect(cache.get('a')).toEqual([outcome('deny')]);
    expect(lookups).toEqual([false, true]);
  });

  it('never stores outcomes with an engine error: a timeout says nothing about the content', () => {
    const cache = createDecisionCache({ maxEntries: 10, ttlMs: 1000 });
    cache.set('a', [outcome('pass'), outcome('error', 'q')]);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size()).toBe(0);
  });

  it('expires entries after their time to live', () => {
    let t = 0;
    const cache = createDecisionCache({ maxEntries: 10, ttlMs: 100, now: () => t });
    cache.set('a', [outcome('pass')]);
    t = 99;
    expect(cache.get('a')).toBeDefined();
    t = 100;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size()).toBe(0);
  });

  it('evicts the least recently used entry past its bound', () => {
    const cache = createDecisionCache({ maxEntries: 2, ttlMs: 1000 });
    cache.set('a', [outcome('pass')]);
    cache.set('b', [outcome('pass')]);
    cache.get('a');
    cache.set('c', [outcome('pass')]);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
    expect(cache.size()).toBe(2);
  });
});
