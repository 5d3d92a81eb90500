// The requires-sync-data annotation, read as gator reads it and checked strictly.
import { describe, expect, it } from 'vitest';
import { thrown } from '../../test/support/thrown.js';
import { gatorGvk, readSyncRequirements, SYNC_ANNOTATION } from './sync-requirements.js';

const read = (text: unknown) => readSyncRequirements({ [SYNC_ANNOTATION]: text }, 't.yaml: ConstraintTemplate t');

describe('readSyncRequirements', () => {
  it('is [] without the annotation', () => {
    expect(readSyncRequirements(undefined, 'x')).toEqual([]);
    expect(readSyncRequirements({ other: '1' }, 'x')).toEqual([]);
  });

  it('reads the gatekeeper-library form (quoted, multi-line) and expands each clause group × version × kind, in order', () => {
    const text = '"[\n  [\n    {"groups": ["extensions"], "versions": ["v1beta1"], "kinds": ["Ingress"]},\n    {"groups": ["networking.k8s.io"], "versions": ["v1beta1", "v1"], "kinds": ["Ingress"]}\n  ],\n  [{"groups": [""], "versions": ["v1"], "kinds": ["Service", "Endpoints"]}]\n]"\n';
    const reqs = read(text);
    expect(reqs.map((r) => r.alternatives.map(gatorGvk))).toEqual([
      ['extensions/v1beta1:Ingress', 'networking.k8s.io/v1beta1:Ingress', 'networking.k8s.io/v1:Ingress'],
      ['/v1:Service', '/v1:Endpoints'],
    ]);
  });

  it('keeps an alternative listed by two clauses once', () => {
    const reqs = read('[[{"groups": ["apps"], "versions": ["v1"], "kinds": ["Deployment"]}, {"groups": ["apps"], "versions": ["v1"], "kinds": ["Deployment", "StatefulSet"]}]]');
    expect(reqs[0]?.alternatives.map(gatorGvk)).toEqual(['apps/v1:Deployment', 'apps/v1:StatefulSet']);
  });

  it.each([
    ['not a string', 7, /must be a string holding JSON/],
    ['not JSON', '[[{"groups": [}]]', /is not JSON/],
    ['not a list', '{"groups": []}', /must be a list of requirements/],
    ['an empty requirement', '[[]]', /requirement 0: .*at least one clause/],
    ['a clause that is not an object', '[["apps/v1"]]', /requirement 0 clause 0: a clause is an object/],
    ['an unknown field', '[[{"groups": [""], "versions": ["v1"], "kinds": ["Pod"], "names": ["x"]}]]', /unknown field "names"/],
    ['a missing list', '[[{"groups": [""], "versions": ["v1"]}]]', /kinds must be a non-empty list/],
    ['an empty list', '[[{"groups": [], "versions": ["v1"], "kinds": ["Pod"]}]]', /groups must be a non-empty list/],
    ['an empty kind', '[[{"groups": [""], "versions": ["v1"], "kinds": [""]}]]', /kinds must not contain ""/],
  ])('refuses %s, naming the template and the annotation', (_, text, message) => {
    const err = thrown(() => read(text));
    expect(err.code).toBe('POLICY_SOURCE_INVALID');
    expect(err.message).toMatch(/^t\.yaml: ConstraintTemplate t: annotation metadata\.gatekeeper\.sh\/requires-sync-data/);
    expect(err.message).toMatch(message);
  });
});
