import { describe, expect, it } from 'vitest';
import { projectObject } from './inventory-projection.js';

const CM = { group: '', version: 'v1', kind: 'ConfigMap' };
const DEPLOY = { group: 'apps', version: 'v1', kind: 'Deployment' };
const parse = (json: Uint8Array) => JSON.parse(new TextDecoder().decode(json)) as Record<string, unknown>;

describe('projectObject', () => {
  const deployment = {
    metadata: {
      name: 'web',
      namespace: 'apps',
      resourceVersion: '42',
      labels: { app: 'web' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"copy"}', owner: 'alice' },
      managedFields: [{ manager: 'kubectl', fieldsV1: {} }],
    },
    spec: { replicas: 2 },
    status: { readyReplicas: 1 },
  };

  it('drops managedFields, the last-applied annotation and status; sets apiVersion and kind', () => {
    const p = projectObject(deployment, DEPLOY, false);
    expect(p).toMatchObject({ namespace: 'apps', name: 'web', resourceVersion: '42' });
    expect(parse(p!.json)).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'apps', resourceVersion: '42', labels: { app: 'web' }, annotations: { owner: 'alice' } },
      spec: { replicas: 2 },
    });
    // The received object is not changed.
    expect(deployment.metadata.managedFields).toHaveLength(1);
    expect(Object.keys(deployment.metadata.annotations)).toHaveLength(2);
  });

  it('keeps status when the requirement asks for it', () => {
    expect(parse(projectObject(deployment, DEPLOY, true)!.json).status).toEqual({ readyReplicas: 1 });
  });

  it('drops annotations left empty, and keeps a cluster-scoped object with namespace ""', () => {
    const p = projectObject({ metadata: { name: 'n', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } }, data: { a: '1' } }, CM, false);
    expect(p?.namespace).toBe('');
    expect(parse(p!.json)).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'n' }, data: { a: '1' } });
  });

  it.each([
    ['not an object', 'text'],
    ['an array', [1]],
    ['no metadata', { spec: {} }],
    ['no name', { metadata: { namespace: 'a' } }],
    ['an empty name', { metadata: { name: '' } }],
    ['null', null],
  ])('refuses %s', (_case, object) => {
    expect(projectObject(object, CM, false)).toBeUndefined();
  });
});
