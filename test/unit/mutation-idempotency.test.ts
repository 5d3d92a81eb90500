// Mutation is idempotent: for every mutate fixture of the starter library, applying the
// patch and reviewing the mutated object again yields no patch (the API server may
// reinvoke the webhook, and a user may send the stored object back).
import { readFileSync } from 'node:fs';
import fastJsonPatch from 'fast-json-patch';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { checkReview } from '../../src/admission/decode.js';
import { loadFixtures } from '../../src/authoring/fixtures.js';
import { loadBundle } from '../../src/bundles/bundle.js';
import { createPolicyRegistry } from '../../src/bundles/registry.js';
import { createReviewer, type Reviewer } from '../../src/review/reviewer.js';

const fixtures = loadFixtures('policies').filter((f) => f.endpoint === 'mutate');

describe('mutation idempotency', () => {
  let reviewer: Reviewer;
  beforeAll(async () => {
    const bundle = await loadBundle('starter', readFileSync(inject('bundles').starter as string));
    reviewer = createReviewer({ policies: createPolicyRegistry([bundle]).current });
  });

  const review = (value: Record<string, unknown>) => {
    const raw = new TextEncoder().encode(JSON.stringify(value));
    return reviewer.review('mutate', checkReview(value), raw);
  };

  it('has mutate fixtures to check', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(4);
  });

  it.each(fixtures.map((f) => [f.name, f] as const))('%s: a second pass yields no patch', async (_name, fixture) => {
    const first = await review(fixture.review);
    expect(first.allowed).toBe(true);
    const request = fixture.review.request as Record<string, unknown>;
    const mutated = fastJsonPatch.applyPatch(structuredClone(request.object), structuredClone(first.patch ?? []) as fastJsonPatch.Operation[]).newDocument;
    const second = await review({ ...fixture.review, request: { ...request, object: mutated } });
    expect(second.patch).toBeUndefined();
    expect(second.allowed).toBe(true);
  });
});
