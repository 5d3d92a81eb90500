// A review of a policy reading replicated objects whose kind is not usable: the policy is not
// evaluated, it fails with the kind's code and its failure mode decides (fail-closed: denied),
// and a constraint of a template reading it fails under its action; once the kind is synced
// the same review is evaluated. Real bundle (test/fixtures/policy-sets/inventory-unique-ingress,
// built by the pinned OPA in the global setup).
import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { decodeReview } from '../../src/admission/decode.js';
import { loadBundle } from '../../src/bundles/bundle.js';
import { createPolicySet } from '../../src/bundles/policy-set.js';
import type { KindHealth } from '../../src/inventory/types.js';
import { createDecisionCache } from '../../src/review/decision-cache.js';
import { createReviewer } from '../../src/review/reviewer.js';

const review = new TextEncoder().encode(
  JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'u1',
      kind: { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress' },
      resource: { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses' },
      operation: 'CREATE',
      namespace: 'a',
      name: 'web',
      userInfo: { username: 'alice' },
      object: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web', namespace: 'a' }, spec: { rules: [{ host: 'x.example.com' }] } },
    },
  }),
);

describe('policies reading replicated objects', () => {
  it('are not evaluated while their kind is not synced: they fail with its code, and their failure mode decides', async () => {
    const bundle = await loadBundle('inv', readFileSync(inject('bundles')['inventory-unique-ingress'] as string));
    const set = createPolicySet([bundle]);
    let health: KindHealth = { state: 'error', code: 'INVENTORY_KIND_FORBIDDEN', reason: 'list ingresses.networking.k8s.io is forbidden' };
    let generation = 0;
    const reviewer = createReviewer({ policies: () => set, inventory: { health: () => health, generation: () => generation } });

    const blocked = await reviewer.review('validate', decodeReview(review), review);
    expect(blocked.allowed).toBe(false);
    const byPolicy = Object.fromEntries(blocked.outcomes.map((o) => [o.policy, o]));
    expect(byPolicy['unique-ingress-host']).toMatchObject({
      action: 'error',
      error: { code: 'INVENTORY_KIND_FORBIDDEN', class: 'inventory', message: 'replicated networking.k8s.io/v1/Ingress is error: list ingresses.networking.k8s.io is forbidden' },
    });
    expect(byPolicy['BouncerUniqueIngressHost/ingress-hosts-unique']).toMatchObject({ action: 'deny', error: { code: 'INVENTORY_KIND_FORBIDDEN', class: 'inventory' } });

    health = { state: 'synced' };
    generation++;
    const evaluated = await reviewer.review('validate', decodeReview(review), review);
    expect(evaluated.allowed).toBe(true);
    expect(evaluated.outcomes.map((o) => o.action)).toEqual(['pass', 'pass']);
  });

  it('are not answered from the decision cache once the replicated objects changed', async () => {
    const bundle = await loadBundle('inv', readFileSync(inject('bundles')['inventory-unique-ingress'] as string));
    const set = createPolicySet([bundle]);
    let generation = 0;
    const reviewer = createReviewer({
      policies: () => set,
      cache: createDecisionCache({ maxEntries: 10, ttlMs: 60_000 }),
      inventory: { health: () => ({ state: 'synced' }), generation: () => generation },
    });
    const parsed = decodeReview(review);
    expect((await reviewer.review('validate', parsed, review)).cached).toBeUndefined();
    expect((await reviewer.review('validate', parsed, review)).cached).toBe(true);
    generation++;
    expect((await reviewer.review('validate', parsed, review)).cached).toBeUndefined();
  });
});
