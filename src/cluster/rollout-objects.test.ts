import type { V1ConfigMap } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { pointerData, readPointer } from './bundle-objects.js';
import { DEFAULT_PROMOTION_POLICY, HISTORY_LIMIT, readRolloutFields, rolloutData, withoutCandidates, withStep } from './rollout-objects.js';

const SHA = 'a'.repeat(64);
const pointerCm = (data: Record<string, string>): V1ConfigMap => ({
  metadata: { name: 'bouncer-bundle-colors', labels: { 'bouncer.dev/bundle': 'colors', 'bouncer.dev/role': 'pointer' } },
  data: { sequence: '3', revision: 'v3', sha256: SHA, publishedAt: '1000', action: 'push', ...data },
});
const canary = { sequence: 4, revision: 'v4', sha256: 'b'.repeat(64), startedAt: 2000, slice: { namespaces: 'env=canary' }, policy: { windowMs: 5000, minReviews: 10, maxDenyRateIncrease: 0.05, maxErrorRateIncrease: 0, maxP99Ratio: 3 } };

describe('pointer rollout fields', () => {
  it('a pointer written before rollouts existed reads as it did, without rollout fields', () => {
    const p = readPointer(pointerCm({}));
    expect(p).toEqual({ bundle: 'colors', sequence: 3, revision: 'v3', digest: SHA, publishedAt: 1000, action: 'push' });
  });

  it('reads a canary with its slice and policy, and writes it back to the same data', () => {
    const p = readPointer(pointerCm({ canary: JSON.stringify(canary) }));
    expect(p?.canary).toEqual({ sequence: 4, revision: 'v4', digest: 'b'.repeat(64), startedAt: 2000, slice: { namespaces: 'env=canary' }, policy: canary.policy });
    expect(p?.shadow).toBeUndefined();
    const data = { ...pointerData(p!), ...rolloutData(p!) };
    expect(data.shadow).toBeNull();
    expect(readPointer(pointerCm(Object.fromEntries(Object.entries(data).filter(([, v]) => v !== null)) as Record<string, string>))?.canary).toEqual(p?.canary);
  });

  it('fills a canary policy written without some thresholds from the defaults', () => {
    const f = readRolloutFields({ canary: JSON.stringify({ ...canary, policy: { windowMs: 1000 } }) });
    expect(f.canary?.policy).toEqual({ ...DEFAULT_PROMOTION_POLICY, windowMs: 1000 });
  });

  it.each([
    ['not JSON', { shadow: '{' }, /shadow: /],
    ['no digest', { shadow: JSON.stringify({ sequence: 2, revision: 'v2', startedAt: 1 }) }, /needs a revision and a sha256/],
    ['a slice without parts', { canary: JSON.stringify({ ...canary, slice: {} }) }, /needs namespaces, percent or both/],
    ['a percent out of range', { canary: JSON.stringify({ ...canary, slice: { percent: 150 } }) }, /percent must be a number in \(0, 100\]/],
    ['a rate above 1', { canary: JSON.stringify({ ...canary, policy: { maxDenyRateIncrease: 2 } }) }, /maxDenyRateIncrease/],
    ['both candidates', { canary: JSON.stringify(canary), shadow: JSON.stringify({ sequence: 5, revision: 'v5', sha256: SHA, startedAt: 1 }) }, /at most one candidate/],
  ])('a damaged rollout field (%s) is ignored and named; the active revision still reads', (_name, data, problem) => {
    const p = readPointer(pointerCm(data));
    expect(p).toMatchObject({ sequence: 3, revision: 'v3' });
    expect(p?.shadow).toBeUndefined();
    expect(p?.canary).toBeUndefined();
    expect(p?.rolloutInvalid).toMatch(problem);
  });

  it("reads an action an older bouncer would not write, and an unknown one as push", () => {
    expect(readPointer(pointerCm({ action: 'promote' }))?.action).toBe('promote');
    expect(readPointer(pointerCm({ action: 'teleport' }))?.action).toBe('push');
  });

  it(`keeps the last ${HISTORY_LIMIT} steps`, () => {
    let h = withStep(undefined, { at: 0, action: 'push', sequence: 1, revision: 'v1', by: 'cli' });
    for (let i = 2; i <= HISTORY_LIMIT + 5; i++) h = withStep(h, { at: i, action: 'push', sequence: i, revision: `v${i}`, by: 'cli' });
    expect(h).toHaveLength(HISTORY_LIMIT);
    expect(h[0]?.sequence).toBe(6);
    expect(readRolloutFields({ history: JSON.stringify(h) }).history).toEqual(h);
  });

  it('a pointer without its candidates keeps the active revision and the history, and drops an unreadable rollout note', () => {
    const shadow = { sequence: 3, revision: 'v3', digest: 'd3', startedAt: 1 };
    const pointer = { bundle: 'b', sequence: 2, revision: 'v2', history: [], shadow, rolloutInvalid: 'canary: not JSON' };
    expect(withoutCandidates(pointer)).toEqual({ bundle: 'b', sequence: 2, revision: 'v2', history: [] });
    expect(pointer.shadow).toBe(shadow);
  });
});
