// The review of a case, as gator builds it (pkg/target unstructuredToAdmissionRequest and
// runner.go validateAndReviewAdmissionReviewRequest), with Go's JSON encoding of
// admissionv1.AdmissionRequest (omitempty fields dropped, RawExtensions null when unset).
import { describe, expect, it } from 'vitest';
import { isBouncerError } from '../errors/errors.js';
import { caseReview, isAdmissionReview, reviewFromObject } from './case-review.js';

const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' }, spec: {} };
const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' } };

describe('a plain object', () => {
  it('becomes the request gator reviews: kind from apiVersion, name, namespace, no operation', () => {
    expect(caseReview(pod)).toEqual({
      uid: '',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: '', resource: '' },
      name: 'p',
      namespace: 'ns',
      operation: '',
      userInfo: {},
      object: pod,
      oldObject: null,
      options: null,
    });
  });

  it('a cluster-scoped object has no namespace field; a group comes from apiVersion', () => {
    const review = caseReview(deployment);
    expect(review['kind']).toEqual({ group: 'apps', version: 'v1', kind: 'Deployment' });
    expect('namespace' in review).toBe(false);
  });

  it('a malformed apiVersion leaves the whole kind empty (unstructured.GroupVersionKind)', () => {
    expect(caseReview({ apiVersion: 'a/b/c', kind: 'X', metadata: { name: 'x' } })['kind']).toEqual({ group: '', version: '', kind: '' });
  });

  it('with operation DELETE, the object is both object and oldObject (setObjectOnDelete)', () => {
    const review = reviewFromObject(pod, { operation: 'DELETE' });
    expect(review['operation']).toBe('DELETE');
    expect(review['object']).toEqual(pod);
    expect(review['oldObject']).toEqual(pod);
  });
});

const ar = (request: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request, ...extra });

describe('an AdmissionReview', () => {
  it('is recognised by kind and group, any version', () => {
    expect(isAdmissionReview(ar({}))).toBe(true);
    expect(isAdmissionReview({ ...ar({}), apiVersion: 'admission.k8s.io/v1beta1' })).toBe(true);
    expect(isAdmissionReview({ ...ar({}), apiVersion: 'example.com/v1' })).toBe(false);
  });

  it("gives its request, with Go's defaults and omissions", () => {
    const review = caseReview(
      ar({
        uid: 'u1',
        kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
        requestKind: { kind: 'Deployment' },
        operation: 'UPDATE',
        userInfo: { username: 'alice', groups: [], extra: { k: ['v'] } },
        object: deployment,
        oldObject: deployment,
        dryRun: false,
      }),
    );
    expect(review).toEqual({
      uid: 'u1',
      kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      resource: { group: '', version: '', resource: '' },
      requestKind: { group: '', version: '', kind: 'Deployment' },
      operation: 'UPDATE',
      userInfo: { username: 'alice', extra: { k: ['v'] } },
      object: deployment,
      oldObject: deployment,
      dryRun: false,
      options: null,
    });
  });

  it('on DELETE the oldObject is the object', () => {
    const review = caseReview(ar({ operation: 'DELETE', oldObject: pod }));
    expect(review['object']).toEqual(pod);
    expect(review['oldObject']).toEqual(pod);
  });

  it.each([
    ['an unknown request field', ar({ foo: 1, object: pod }), 'not a valid AdmissionReview object: unable to convert to an AdmissionReview object, error: strict decoding error: unknown field "request.foo"'],
    ['an unknown top-level field', ar({ object: pod }, { spec: {} }), 'not a valid AdmissionReview object: unable to convert to an AdmissionReview object, error: strict decoding error: unknown field "spec"'],
    ['a uid that is not a string', ar({ uid: 5, object: pod }), 'not a valid AdmissionReview object: unable to convert to an AdmissionReview object, error: field "request.uid" must be a string'],
    ['no request', ar(undefined), 'missing an AdmissionRequest object: request did not actually pass in an AdmissionRequest'],
    ['neither object nor oldObject', ar({ operation: 'CREATE' }), 'no object or oldObject found to review: AdmissionRequest does not contain an "object" or "oldObject" to review'],
    ['an object without kind', ar({ object: { b: 1, a: 2 } }), `object or oldObject cannot be unmarshalled: Object 'Kind' is missing in '{"a":2,"b":1}'`],
    [
      'DELETE without oldObject',
      ar({ operation: 'DELETE', object: pod }),
      'admission.k8s.gatekeeper.sh: target.HandleReview failed for target "admission.k8s.gatekeeper.sh": oldObject cannot be nil for DELETE operations\n',
    ],
  ])('%s fails the case with gator\'s message', (_name, document, message) => {
    let err: unknown;
    try {
      caseReview(document);
    } catch (e) {
      err = e;
    }
    expect(isBouncerError(err, 'SUITE_INVALID')).toBe(true);
    expect((err as Error).message).toBe(message);
  });
});
