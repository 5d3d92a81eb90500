import { describe, expect, it } from 'vitest';
import { asServed, constraint, template } from '../../test/support/gatekeeper-objects.js';
import { cleanGatekeeperObject } from './import-clean.js';

describe('cleanGatekeeperObject', () => {
  it.each([
    ['a ConstraintTemplate', template()],
    ['a Constraint', constraint('must-have-owner', ['owner'])],
  ])('gives %s back as written, from what the API server answers', (_name, written) => {
    expect(cleanGatekeeperObject(asServed(written))).toEqual(written);
  });

  it('keeps the top-level order apiVersion, kind, metadata, spec and the order read inside', () => {
    const served = asServed(constraint('c', ['b', 'a']));
    const spec = served.spec as Record<string, unknown>;
    served.spec = { parameters: spec.parameters, match: spec.match, enforcementAction: 'warn' };
    const clean = cleanGatekeeperObject({ status: served.status, spec: served.spec, metadata: served.metadata, kind: served.kind, apiVersion: served.apiVersion });
    expect(Object.keys(clean)).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(Object.keys(clean.spec as object)).toEqual(['parameters', 'match', 'enforcementAction']);
    expect(Object.keys(clean.metadata as object)).toEqual(['name', 'labels']);
  });

  it('leaves out labels and annotations that end up empty, and a namespace and generateName', () => {
    const object = { apiVersion: 'constraints.gatekeeper.sh/v1beta1', kind: 'K', metadata: { name: 'n', namespace: 'default', generateName: 'n-', labels: {}, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } } };
    expect(cleanGatekeeperObject(object)).toEqual({ apiVersion: 'constraints.gatekeeper.sh/v1beta1', kind: 'K', metadata: { name: 'n' } });
  });

  it('keeps server defaults that are spec (enforcementAction: deny), and other tools\' annotations', () => {
    const served = asServed(constraint('c', ['x']));
    (served.spec as Record<string, unknown>).enforcementAction = 'deny';
    (served.metadata as { annotations: Record<string, string> }).annotations['meta.helm.sh/release-name'] = 'policies';
    const clean = cleanGatekeeperObject(served);
    expect((clean.spec as Record<string, unknown>).enforcementAction).toBe('deny');
    expect((clean.metadata as Record<string, unknown>).annotations).toEqual({ 'meta.helm.sh/release-name': 'policies' });
  });

  it('returns a copy: changing it leaves the input as it was', () => {
    const served = asServed(template());
    const before = structuredClone(served);
    const clean = cleanGatekeeperObject(served);
    (clean.spec as { targets: { rego: string }[] }).targets.forEach((t) => (t.rego = 'changed'));
    expect(served).toEqual(before);
  });
});
