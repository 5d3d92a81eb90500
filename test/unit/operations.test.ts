// Every operation is evaluated as its policies say — including the paths peers have
// skipped (objects being deleted, DELETE with only an oldObject, dry runs, equivalent
// group/versions) — through the real compiled policies.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { checkReview } from '../../src/admission/decode.js';
import { createReviewer, type Reviewer } from '../../src/review/reviewer.js';
import { configMapRequest, podRequest } from '../support/bundle-files.js';
import { registryOf } from '../support/reviewing.js';

describe('operations', () => {
  let reviewer: Reviewer;
  beforeAll(async () => {
    const registry = await registryOf({ starter: inject('bundles').starter as string, basic: inject('bundles').basic as string });
    reviewer = createReviewer({ policies: registry.current });
  });
  const review = (request: Record<string, unknown>, endpoint: 'validate' | 'mutate' = 'validate') => {
    const value = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request };
    return reviewer.review(endpoint, checkReview(value), new TextEncoder().encode(JSON.stringify(value)));
  };
  const privilegedPod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'team' },
    spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', securityContext: { privileged: true } }] },
  };
  const privilegedPodRequest = (extra: Record<string, unknown>) => podRequest(privilegedPod, extra);

  it('evaluates an UPDATE of an object that is being deleted (deletionTimestamp set)', async () => {
    const deleting = { ...privilegedPod, metadata: { ...privilegedPod.metadata, deletionTimestamp: '2026-11-28T00:00:00Z', finalizers: ['x'] } };
    const decision = await review(privilegedPodRequest({ operation: 'UPDATE', object: deleting, oldObject: deleting }));
    expect(decision.allowed).toBe(false);
    expect(decision.message).toContain('[disallow-privileged]');
  });

  it('evaluates DELETE against the oldObject (object is null)', async () => {
    const protectedCm = configMapRequest({ protected: 'true' });
    const decision = await review({ ...protectedCm, operation: 'DELETE', object: null, oldObject: (protectedCm as { object: unknown }).object });
    expect(decision.allowed).toBe(false);
    expect(decision.message).toContain('deleting a protected ConfigMap');
  });

  it('decides a dry-run request exactly as the real one', async () => {
    const real = await review(privilegedPodRequest({ dryRun: false }));
    const dry = await review(privilegedPodRequest({ dryRun: true }));
    expect(dry.allowed).toBe(real.allowed);
    expect(dry.message).toBe(real.message);
    expect(dry.request.dryRun).toBe(true);
  });

  it('decides the same resource reached through another version the same way (matchPolicy Equivalent sends the converted kind)', async () => {
    const viaOther = await review(privilegedPodRequest({ requestKind: { group: '', version: 'v1beta1', kind: 'Pod' } }));
    expect(viaOther.allowed).toBe(false);
    expect(viaOther.message).toContain('[disallow-privileged]');
  });

  it('admits a kind no policy knows, without evaluating anything', async () => {
    const decision = await review({
      uid: 'u',
      kind: { group: 'example.com', version: 'v1', kind: 'Widget' },
      resource: { group: 'example.com', version: 'v1', resource: 'widgets' },
      operation: 'CREATE',
      userInfo: {},
      object: { metadata: { name: 'w' }, spec: { privileged: true } },
    });
    expect(decision.allowed).toBe(true);
    expect(decision.outcomes).toEqual([]);
  });

  it('answers CONNECT (exec options object) and returns no patch from /mutate', async () => {
    const decision = await review(
      {
        uid: 'u',
        kind: { group: '', version: 'v1', kind: 'PodExecOptions' },
        resource: { group: '', version: 'v1', resource: 'pods' },
        subResource: 'exec',
        operation: 'CONNECT',
        namespace: 'team',
        name: 'p',
        userInfo: {},
        object: { kind: 'PodExecOptions', command: ['sh'], stdin: true, tty: true },
      },
      'mutate',
    );
    expect(decision.allowed).toBe(true);
    expect(decision.patch).toBeUndefined();
  });

  it('evaluates the ephemeralcontainers subresource that kubectl debug uses', async () => {
    const debugged = { ...privilegedPod, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }], ephemeralContainers: [{ name: 'dbg', image: 'registry.k8s.io/pause:3.10', securityContext: { privileged: true } }] } };
    const decision = await review(privilegedPodRequest({ operation: 'UPDATE', subResource: 'ephemeralcontainers', object: debugged, oldObject: debugged }));
    expect(decision.allowed).toBe(false);
    expect(decision.message).toContain('ephemeral container "dbg" is privileged');
  });
});
