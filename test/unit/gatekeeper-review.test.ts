// Gatekeeper constraints on the webhook's path (constraint-plan → evaluate-policies →
// decide), with a real OPA-built bundle (test/fixtures/policy-sets/gatekeeper-semantics): what
// a template's Rego is given (read back from a violation's details), each enforcement action,
// scoped actions for another enforcement point, namespaceSelector with known and unknown
// Namespaces, DELETE, a Namespace request, the runtime-error rule, the decision cache keyed
// by what was matched, and a bundle whose template fails its self-check.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { decodeReview } from '../../src/admission/decode.js';
import { loadBundle } from '../../src/bundles/bundle.js';
import { createPolicyRegistry } from '../../src/bundles/registry.js';
import type { NamespaceInfo } from '../../src/gatekeeper/types.js';
import { createDecisionCache } from '../../src/review/decision-cache.js';
import type { Decision } from '../../src/review/decision.js';
import { createReviewer, type Reviewer } from '../../src/review/reviewer.js';
import { configMapRequest, editBundle, reviewBytes } from '../support/bundle-files.js';

const NAMESPACES: Record<string, NamespaceInfo> = {
  'team-a': { name: 'team-a', labels: { 'kubernetes.io/metadata.name': 'team-a' } },
  'team-s': { name: 'team-s', labels: { selected: 'yes' } },
  'warned-1': { name: 'warned-1', labels: {} },
  'dry-1': { name: 'dry-1', labels: {} },
};

describe('Gatekeeper constraints in the reviewer', () => {
  let reviewer: Reviewer;
  let bytes: Uint8Array;
  const lookups: boolean[] = [];
  beforeAll(async () => {
    bytes = readFileSync(inject('bundles')['gatekeeper-semantics'] as string);
    const bundle = await loadBundle('gk', bytes);
    const cache = createDecisionCache({ maxEntries: 100, ttlMs: 60_000, onLookup: (hit) => lookups.push(hit) });
    reviewer = createReviewer({ policies: createPolicyRegistry([bundle]).current, namespaces: (n) => NAMESPACES[n], cache });
  });
  const review = (request: Record<string, unknown>): Promise<Decision> => {
    const raw = reviewBytes(request);
    return reviewer.review('validate', decodeReview(raw), raw);
  };
  const inNamespace = (namespace: string, labels: Record<string, string>, extra: Record<string, unknown> = {}) =>
    configMapRequest(labels, { namespace, object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace, labels } }, ...extra });
  const details = (d: Decision, id: string) => d.outcomes.find((o) => o.policy === id)?.violations[0]?.details as { review: Record<string, unknown>; parameters: unknown };

  it('gives the template input.review (the request with its namespaceObject) and input.parameters', async () => {
    const d = await review(inNamespace('team-a', { report: 'yes' }));
    expect(d.allowed).toBe(false);
    const seen = details(d, 'SeenReview/denier');
    expect(seen.parameters).toEqual({ tag: 'deny' });
    expect(seen.review).toMatchObject({ uid: 'uid-1', operation: 'CREATE', namespace: 'team-a', userInfo: { username: 'alice' }, kind: { kind: 'ConfigMap' } });
    expect(seen.review.namespaceObject).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: { 'kubernetes.io/metadata.name': 'team-a' } } });
    expect(d.message).toBe('[denier] deny saw CREATE cm in team-a, namespaceObject {"apiVersion": "v1", "kind": "Namespace", "metadata": {"labels": {"kubernetes.io/metadata.name": "team-a"}, "name": "team-a"}}');
    expect(d.auditAnnotations['denied-by']).toBe('SeenReview/denier');
    // The scoped constraint acts only at audit.gatekeeper.sh: never evaluated here.
    expect(d.outcomes.map((o) => o.policy)).not.toContain('SeenReview/audit-only');
  });

  it('warns under warn and records dryrun in the audit annotations, next to deny lines', async () => {
    const warned = await review(inNamespace('warned-1', { report: 'yes' }));
    expect(warned.message?.split('\n')).toEqual([expect.stringMatching(/^\[denier\] deny saw CREATE cm in warned-1/)]);
    expect(warned.warnings).toEqual([expect.stringMatching(/^\[warner\] warn saw CREATE cm in warned-1/)]);
    const dry = await review(inNamespace('dry-1', { report: 'yes' }));
    expect(dry.auditAnnotations['dryrun-violations']).toBe('SeenReview/dry');
    expect(dry.auditAnnotations['dryrun-messages']).toMatch(/^\[dry\] dry saw CREATE cm in dry-1/);
  });

  it('matches namespaceSelector on the Namespace labels, and fails closed for a Namespace it does not know', async () => {
    const selected = await review(inNamespace('team-s', { report: 'yes' }));
    expect(selected.message?.split('\n').map((l) => l.slice(0, l.indexOf(']') + 1))).toEqual(['[denier]', '[selected]']);
    const unknown = await review(inNamespace('nowhere', {}));
    expect(unknown.allowed).toBe(false);
    expect(unknown.message).toContain('[denier] unable to match constraints: namespace "nowhere" is not known to bouncer yet');
  });

  it('asks the API server for a Namespace the cache misses, and matches on its answer', async () => {
    const asked: string[] = [];
    const bundle = await loadBundle('gk', bytes);
    const reading = createReviewer({
      policies: createPolicyRegistry([bundle]).current,
      namespaces: (n) => NAMESPACES[n],
      readNamespace: async (name) => {
        asked.push(name);
        return name === 'just-created' ? { name, labels: { selected: 'yes' } } : undefined;
      },
    });
    const decideIn = (namespace: string) => {
      const raw = reviewBytes(inNamespace(namespace, { report: 'yes' }));
      return reading.review('validate', decodeReview(raw), raw);
    };
    const found = await decideIn('just-created');
    expect(found.message?.split('\n').map((l) => l.slice(0, l.indexOf(']') + 1))).toEqual(['[denier]', '[selected]']);
    expect(found.message).toContain('namespaceObject {"apiVersion": "v1", "kind": "Namespace", "metadata": {"labels": {"selected": "yes"}, "name": "just-created"}}');
    const absent = await decideIn('never-created');
    expect(absent.message).toContain('unable to match constraints: namespace "never-created" is not known to bouncer yet');
    // A Namespace the cache holds is not read.
    await decideIn('team-a');
    expect(asked).toEqual(['just-created', 'never-created']);
  });

  it('gives the old object as the object on DELETE', async () => {
    const old = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'gone', namespace: 'team-a', labels: { report: 'yes' } } };
    const d = await review(configMapRequest({}, { operation: 'DELETE', name: 'gone', object: null, oldObject: old }));
    expect(d.message).toMatch(/^\[denier\] deny saw DELETE gone in team-a/);
    expect(details(d, 'SeenReview/denier').review.object).toEqual(old);
  });

  it('reviews a Namespace with no namespace of its own (as Gatekeeper), without needing it to exist', async () => {
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'brand-new', labels: { report: 'yes' } } };
    const d = await review({
      uid: 'uid-ns',
      kind: { group: '', version: 'v1', kind: 'Namespace' },
      resource: { group: '', version: 'v1', resource: 'namespaces' },
      operation: 'CREATE',
      namespace: 'brand-new',
      name: 'brand-new',
      userInfo: { username: 'alice' },
      object: ns,
    });
    expect(d.message).toBe('[denier] deny saw CREATE brand-new in -, namespaceObject {}');
  });

  it('turns a template runtime error into one violation per matched constraint under its action', async () => {
    const d = await review(inNamespace('warned-1', { explode: 'yes' }));
    expect(d.allowed).toBe(false);
    expect(d.message).toMatch(/^\[denier\] template seenreview failed to evaluate \(runtime\): .*conflict/);
    expect(d.warnings).toEqual([expect.stringMatching(/^\[warner\] template seenreview failed to evaluate/)]);
    expect(d.outcomes.find((o) => o.policy === 'SeenReview/denier')).toMatchObject({ action: 'deny', error: { class: 'runtime' } });
  });

  it('keys the decision cache on what was matched: the same review in another namespace is evaluated again', async () => {
    lookups.length = 0;
    await review(inNamespace('team-a', { report: 'yes', cache: 'probe' }));
    const again = await review(inNamespace('team-a', { report: 'yes', cache: 'probe' }));
    expect(again.cached).toBe(true);
    expect(lookups).toEqual([false, true]);
  });

  it('refuses a bundle naming a template entrypoint its module lacks', async () => {
    const broken = await editBundle(inject('bundles')['gatekeeper-semantics'] as string, (files) => {
      const manifest = JSON.parse(new TextDecoder().decode(files.get('/.manifest'))) as { metadata: { bouncer: { gatekeeper: { templates: { entrypoint: string }[] } } } };
      manifest.metadata.bouncer.gatekeeper.templates[0]!.entrypoint = 'bouncer/gatekeeper/elsewhere/validate';
      files.set('/.manifest', new TextEncoder().encode(JSON.stringify(manifest)));
    });
    await expect(loadBundle('broken', broken)).rejects.toMatchObject({ code: 'BUNDLE_MANIFEST_INVALID' });
  });

  it('refuses a bundle whose template fails on the self-check probe', async () => {
    const failing = readFileSync(inject('bundles')['gatekeeper-self-check-fails'] as string);
    await expect(loadBundle('failing', failing)).rejects.toMatchObject({ code: 'BUNDLE_SELF_CHECK_FAILED', message: expect.stringContaining('template alwaysfails fails on the probe review') });
  });
});
