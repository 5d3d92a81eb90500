// The decision cache through the reviewer, with real compiled policies: a hit needs the
// same content (whatever the uid), the same endpoint and the same policy-set revision.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { decodeReview } from '../../src/admission/decode.js';
import type { PolicyRegistry } from '../../src/bundles/registry.js';
import { createDecisionCache, type DecisionCache } from '../../src/review/decision-cache.js';
import { createReviewer, type Reviewer } from '../../src/review/reviewer.js';
import { loadBundle } from '../../src/bundles/bundle.js';
import { createPolicyRegistry } from '../../src/bundles/registry.js';
import { configMapRequest, editBundle, reviewBytes } from '../support/bundle-files.js';
import { registryOf } from '../support/reviewing.js';

describe('decision cache in the reviewer', () => {
  let registry: PolicyRegistry;
  let cache: DecisionCache;
  let reviewer: Reviewer;
  const lookups: boolean[] = [];
  beforeAll(async () => {
    registry = await registryOf({ basic: inject('bundles').basic as string });
    cache = createDecisionCache({ maxEntries: 100, ttlMs: 60_000, onLookup: (hit) => lookups.push(hit) });
    reviewer = createReviewer({ policies: registry.current, cache });
  });
  const review = (request: Record<string, unknown>, endpoint: 'validate' | 'mutate' = 'validate') => {
    const bytes = reviewBytes(request);
    return reviewer.review(endpoint, decodeReview(bytes), bytes);
  };

  it('answers the same content under another uid from the cache, with the same decision, marked cached', async () => {
    lookups.length = 0;
    const first = await review(configMapRequest({ deny: 'true' }, { uid: 'uid-a' }));
    const second = await review(configMapRequest({ deny: 'true' }, { uid: 'uid-b' }));
    expect(lookups).toEqual([false, true]);
    expect(first.allowed).toBe(false);
    expect(second).toMatchObject({ allowed: false, message: first.message, cached: true, request: { uid: 'uid-b' } });
    expect(second.outcomes).toEqual(first.outcomes);
    expect(first.cached).toBeUndefined();
  });

  it.each([
    ['another label', configMapRequest({ deny: 'true', other: 'x' }, { uid: 'uid-c' }), 'validate'],
    ['another user', configMapRequest({ deny: 'true' }, { uid: 'uid-d', userInfo: { username: 'bob' } }), 'validate'],
    ['a dry run', configMapRequest({ deny: 'true' }, { uid: 'uid-e', dryRun: true }), 'validate'],
    ['the other endpoint', configMapRequest({ deny: 'true' }, { uid: 'uid-f' }), 'mutate'],
  ] as const)('misses on %s', async (_name, request, endpoint) => {
    await review(configMapRequest({ deny: 'true' }, { uid: 'uid-warm' }));
    lookups.length = 0;
    const decision = await review(request, endpoint);
    expect(lookups).toEqual([false]);
    expect(decision.cached).toBeUndefined();
  });

  it('misses once another policy-set revision is active', async () => {
    const reviewerOn = (r: PolicyRegistry) => createReviewer({ policies: r.current, cache });
    const bytes = reviewBytes(configMapRequest({ warn: 'true' }));
    await reviewerOn(registry).review('validate', decodeReview(bytes), bytes);
    const swapped = await registryOf({ basic: inject('bundles').basic as string, colors: inject('bundles').colors as string });
    lookups.length = 0;
    const decision = await reviewerOn(swapped).review('validate', decodeReview(bytes), bytes);
    expect(swapped.current()?.revision).not.toBe(registry.current()?.revision);
    expect(lookups).toEqual([false]);
    expect(decision.cached).toBeUndefined();
  });

  it('serves the outcomes of the bundle content active now, not of another bundle rebuilt under the same revision name', async () => {
    // Two builds of the colors bundle with the same manifest revision: one denies blue, the other red.
    const colors = inject('bundles').colors as string;
    const denying = async (color: string) =>
      loadBundle('colors', await editBundle(colors, (f) => f.set('/data.json', Buffer.from(JSON.stringify({ policies: { color_gate: { denied: [color] } } })))));
    const [blue, red] = await Promise.all([denying('blue'), denying('red')]);
    expect(blue.revision).toBe(red.revision);
    const registry = createPolicyRegistry([blue]);
    const reviewer = createReviewer({ policies: registry.current, cache });
    const bytes = reviewBytes({ ...configMapRequest({ color: 'blue' }), uid: 'uid-colors' });
    const first = await reviewer.review('validate', decodeReview(bytes), bytes);
    registry.activate(red);
    expect(registry.current()?.revision).toBe(`colors@${blue.revision}`);
    const second = await reviewer.review('validate', decodeReview(bytes), bytes);
    expect(first.allowed).toBe(false);
    expect(second).toMatchObject({ allowed: true });
    expect(second.cached).toBeUndefined();
  });
});
