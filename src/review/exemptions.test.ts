// Policy exceptions applied to outcomes: the match (each field, AND across fields), the clock
// (in force strictly before expiresAt), bundle scoping, and — through the reviewer with the
// real OPA-built basic bundle — the decision it makes, the decision cache never serving an
// exempted outcome after expiry, and the audit's reviewer agreeing with admission's.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { decodeReview } from '../admission/decode.js';
import type { AdmissionRequest } from '../admission/types.js';
import { loadBundle, type LoadedBundle } from '../bundles/bundle.js';
import { parsePolicyException, serializePolicyException, type PolicyException } from '../bundles/policy-exception.js';
import { createPolicySet, type PolicySet } from '../bundles/policy-set.js';
import type { NamespaceInfo } from '../gatekeeper/types.js';
import { configMapRequest, editBundle, reviewBytes } from '../../test/support/bundle-files.js';
import { createDecisionCache } from './decision-cache.js';
import type { PolicyOutcome } from './decision.js';
import { exceptionMatches, exceptionsInForce, exemptions } from './exemptions.js';
import { toDecisionEvent } from './decision-event.js';
import { createReviewer } from './reviewer.js';

const EXPIRES = '2027-01-31T00:00:00Z';
const T = Date.parse(EXPIRES);

function exception(match: Record<string, unknown>, name = 'legacy', policies = ['deny-label']): PolicyException {
  const raw = { apiVersion: 'bouncer.dev/v1alpha1', kind: 'PolicyException', metadata: { name }, spec: { policies, match, reason: 'migration', ticket: 'OPS-1', expiresAt: EXPIRES } };
  return parsePolicyException(raw, { where: 'test', code: 'EXCEPTION_INVALID', known: new Set(policies) });
}

function request(overrides: Record<string, unknown> = {}): AdmissionRequest {
  return decodeReview(reviewBytes({ ...configMapRequest({ app: 'web' }), ...overrides })).request;
}

const namespaces = (known: Record<string, Record<string, string>>) => (name: string): NamespaceInfo | undefined => (known[name] ? { name, labels: known[name] } : undefined);
const none = namespaces({});

describe('exceptionMatches', () => {
  const ns = { object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'legacy-a', labels: { tier: 'legacy' } } } };
  const nsRequest = { kind: { group: '', version: 'v1', kind: 'Namespace' }, resource: { group: '', version: 'v1', resource: 'namespaces' }, namespace: 'legacy-a', name: 'legacy-a', ...ns };
  const clusterRole = { kind: { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole' }, resource: { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles' }, namespace: undefined, name: 'x', object: { metadata: { name: 'x' } } };
  it.each([
    ['a namespace', { namespaces: ['team-a'] }, {}, true],
    ['a namespace glob', { namespaces: ['team-*'] }, {}, true],
    ['another namespace', { namespaces: ['team-b'] }, {}, false],
    ['a cluster-scoped object is in no namespace', { namespaces: ['*-a', 'x'] }, clusterRole, false],
    ['a Namespace by its own name', { namespaces: ['legacy-*'] }, nsRequest, true],
    ['a name glob', { namespaces: ['team-a'], names: ['c*'] }, {}, true],
    ['another name', { namespaces: ['team-a'], names: ['other'] }, {}, false],
    ['a generateName', { names: ['web-*'] }, { name: undefined, object: { metadata: { generateName: 'web-', namespace: 'team-a' } } }, true],
    ['a kind', { namespaces: ['team-a'], kinds: ['ConfigMap'] }, {}, true],
    ['another kind', { namespaces: ['team-a'], kinds: ['apps/Deployment'] }, {}, false],
    ['an objectSelector', { namespaces: ['team-a'], objectSelector: { matchLabels: { app: 'web' } } }, {}, true],
    ['an objectSelector missing', { namespaces: ['team-a'], objectSelector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] } }, {}, false],
    ['the old object on DELETE', { namespaces: ['team-a'], objectSelector: { matchLabels: { gone: 'yes' } } }, { operation: 'DELETE', object: null, oldObject: { metadata: { name: 'cm', namespace: 'team-a', labels: { gone: 'yes' } } } }, true],
    ['the new object on UPDATE (not the old one)', { namespaces: ['team-a'], objectSelector: { matchLabels: { old: 'yes' } } }, { operation: 'UPDATE', oldObject: { metadata: { name: 'cm', namespace: 'team-a', labels: { old: 'yes' } } } }, false],
    ['a user', { subjects: { users: ['alice'] } }, {}, true],
    ['a user glob', { subjects: { users: ['ali*'] } }, {}, true],
    ['another user', { subjects: { users: ['bob'] } }, {}, false],
    ['a group', { subjects: { groups: ['ops'] } }, { userInfo: { username: 'carol', groups: ['dev', 'ops'] } }, true],
    ['a service account', { subjects: { serviceAccounts: ['ci/deployer'] } }, { userInfo: { username: 'system:serviceaccount:ci:deployer' } }, true],
    ['another service account', { subjects: { serviceAccounts: ['ci/deployer'] } }, { userInfo: { username: 'system:serviceaccount:ci:other' } }, false],
    ['no requester (the audit) for a subjects match', { subjects: { users: ['*'] } }, { userInfo: {} }, false],
    ['every field together', { namespaces: ['team-a'], names: ['cm'], kinds: ['ConfigMap'], subjects: { users: ['alice'] } }, {}, true],
    ['every field but one', { namespaces: ['team-a'], names: ['cm'], kinds: ['ConfigMap'], subjects: { users: ['bob'] } }, {}, false],
  ])('%s', (_name, match, overrides, expected) => {
    expect(exceptionMatches(exception(match), request(overrides), none)).toBe(expected);
  });

  it('a namespaceSelector reads the Namespace; an unknown Namespace matches nothing', () => {
    const e = exception({ namespaceSelector: { matchLabels: { tier: 'legacy' } } });
    expect(exceptionMatches(e, request(), namespaces({ 'team-a': { tier: 'legacy' } }))).toBe(true);
    expect(exceptionMatches(e, request(), namespaces({ 'team-a': { tier: 'prod' } }))).toBe(false);
    expect(exceptionMatches(e, request(), none)).toBe(false);
  });
});

/** A set of stand-in bundles: exemptions reads only their names and manifests' exceptions. */
function setOf(bundles: Record<string, PolicyException[]>): PolicySet {
  return createPolicySet(Object.entries(bundles).map(([name, exceptions]) => ({ name, digest: name, manifest: { exceptions } }) as unknown as LoadedBundle));
}

function outcome(action: PolicyOutcome['action'], policy = 'deny-label', bundle = 'a'): PolicyOutcome {
  return { policy, bundle, enforcement: 'deny', failure: 'fail-closed', action, violations: action === 'pass' ? [] : [{ msg: 'no' }], warnings: [], ...(action === 'mutate' ? { patch: [{ op: 'add', path: '/x', value: 1 }] } : {}) };
}

describe('exemptions', () => {
  const set = setOf({ a: [exception({ namespaces: ['team-a'] })], b: [] });
  it('overrides deny, warn, dryrun, mutate and error outcomes while in force, and keeps what they were', () => {
    for (const action of ['deny', 'warn', 'dryrun', 'mutate', 'error'] as const) {
      const [o] = exemptions(set, request(), [outcome(action)], { at: T - 1, namespaces: none });
      expect(o).toMatchObject({ action: 'exempt', violations: [{ msg: 'no' }], exemption: { exception: 'legacy', ticket: 'OPS-1', expiresAt: EXPIRES, action } });
      expect(o?.patch).toBeUndefined();
    }
  });

  it('stops applying at expiresAt exactly', () => {
    const outcomes = [outcome('deny')];
    expect(exemptions(set, request(), outcomes, { at: T - 1, namespaces: none })[0]?.action).toBe('exempt');
    expect(exemptions(set, request(), outcomes, { at: T, namespaces: none })).toBe(outcomes);
    expect(exceptionsInForce(set, T - 1)).toBe('a/legacy');
    expect(exceptionsInForce(set, T)).toBe('');
  });

  it('leaves passes, other policies and other bundles alone', () => {
    const outcomes = [outcome('pass'), outcome('deny', 'other'), outcome('deny', 'deny-label', 'b')];
    expect(exemptions(set, request(), outcomes, { at: 0, namespaces: none })).toBe(outcomes);
  });

  it('reports the first exception by name when two apply', () => {
    const two = setOf({ a: [exception({ namespaces: ['team-a'] }, 'a-first'), exception({ namespaces: ['team-*'] }, 'b-second')].sort((x, y) => (x.name < y.name ? -1 : 1)) });
    expect(exemptions(two, request(), [outcome('deny')], { at: 0, namespaces: none })[0]?.exemption?.exception).toBe('a-first');
  });
});

describe('exemptions through the reviewer (real WASM, basic bundle)', () => {
  let set: PolicySet;
  beforeAll(async () => {
    const e = exception({ namespaces: ['team-a'], names: ['cm'] }, 'legacy-cm');
    const bytes = await editBundle(inject('bundles').basic as string, (files) => {
      const manifest = JSON.parse(new TextDecoder().decode(files.get('/.manifest')));
      manifest.metadata.bouncer.exceptions = [serializePolicyException(e)];
      files.set('/.manifest', new TextEncoder().encode(JSON.stringify(manifest)));
    });
    set = createPolicySet([await loadBundle('basic', bytes)]);
  });
  const denied = () => reviewBytes(configMapRequest({ deny: 'true' }));

  it('admits while in force with the annotation and a warning, denies after expiry, and the cache never serves the exemption late', async () => {
    let clock = T - 1000;
    const cache = createDecisionCache({ maxEntries: 100, ttlMs: 60_000 });
    const reviewer = createReviewer({ policies: () => set, cache, clock: () => clock });
    const bytes = denied();
    const before = await reviewer.review('validate', decodeReview(bytes), bytes);
    expect(before.allowed).toBe(true);
    expect(before.auditAnnotations['exempted-by']).toBe('deny-label:legacy-cm');
    expect(before.auditAnnotations['denied-by']).toBeUndefined();
    expect(before.warnings.join('\n')).toMatch(/\[deny-label\] exempted by policy exception legacy-cm \(OPS-1\) until 2027-01-31T00:00:00Z; would have been deny: ConfigMap "cm" carries the deny label/);
    const event = toDecisionEvent(before);
    expect(event.policies.find((p) => p.policy === 'deny-label')).toMatchObject({ action: 'exempt', exempted_by: 'legacy-cm', exemption: { ticket: 'OPS-1', expires_at: EXPIRES, would_be: 'deny' } });
    const again = await reviewer.review('validate', decodeReview(bytes), bytes);
    expect(again).toMatchObject({ cached: true, allowed: true });
    clock = T;
    const after = await reviewer.review('validate', decodeReview(bytes), bytes);
    expect(after).toMatchObject({ cached: true, allowed: false, code: 403 });
    expect(after.auditAnnotations['denied-by']).toBe('deny-label');
    expect(after.auditAnnotations['exempted-by']).toBeUndefined();
  });

  it('does not exempt another object of the same policy', async () => {
    const reviewer = createReviewer({ policies: () => set, clock: () => T - 1000 });
    const bytes = reviewBytes(configMapRequest({ deny: 'true' }, { name: 'other', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other', namespace: 'team-a', labels: { deny: 'true' } } } }));
    expect((await reviewer.review('validate', decodeReview(bytes), bytes)).allowed).toBe(false);
  });

  it('exempts a shed review the same way (its fail-closed overload errors)', () => {
    const reviewer = createReviewer({ policies: () => set, clock: () => T - 1000 });
    const decision = reviewer.shed('validate', decodeReview(denied()));
    expect(decision.outcomes.find((o) => o.policy === 'deny-label')?.action).toBe('exempt');
    expect(decision.outcomes.find((o) => o.policy === 'broken-closed')?.action).toBe('error');
  });
});

describe('exempting a Gatekeeper constraint (real WASM, gatekeeper bundle)', () => {
  it('names the constraint as decisions do; the other constraints of the template still deny', async () => {
    const e = exception({ namespaces: ['team-a'] }, 'owner-later', ['ConfigMapLabels/team-a-owner']);
    const bytes = await editBundle(inject('bundles').gatekeeper as string, (files) => {
      const manifest = JSON.parse(new TextDecoder().decode(files.get('/.manifest')));
      manifest.metadata.bouncer.exceptions = [serializePolicyException(e)];
      files.set('/.manifest', new TextEncoder().encode(JSON.stringify(manifest)));
    });
    const set = createPolicySet([await loadBundle('gk', bytes)]);
    const lookup = namespaces({ 'team-a': { tier: 'a' } });
    const review = reviewBytes(configMapRequest({}));
    const at = (clock: number) => createReviewer({ policies: () => set, namespaces: lookup, clock: () => clock }).review('validate', decodeReview(review), review);
    const before = await at(T - 1);
    expect(before.outcomes.find((o) => o.policy === 'ConfigMapLabels/team-a-owner')).toMatchObject({ action: 'exempt', exemption: { exception: 'owner-later', action: 'deny' } });
    expect(before.auditAnnotations['exempted-by']).toBe('ConfigMapLabels/team-a-owner:owner-later');
    expect(before.warnings.some((w) => w.startsWith('[team-a-owner] exempted by policy exception owner-later'))).toBe(true);
    expect(before.auditAnnotations['denied-by'] ?? '').not.toContain('ConfigMapLabels/team-a-owner');
    const after = await at(T);
    expect(after.auditAnnotations['denied-by']).toContain('ConfigMapLabels/team-a-owner');
    expect(after.message).toContain('[team-a-owner]');
  });
});
