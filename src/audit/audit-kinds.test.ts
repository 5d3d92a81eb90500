// Which kinds an audit lists, from selectors and served resources: explicit kinds (by kind or
// by plural), group and full wildcards, kinds not served, and the bound.
import { describe, expect, it } from 'vitest';
import { auditKinds } from './audit-kinds.js';
import type { ApiResource } from './cluster-access.js';

const r = (group: string, resource: string, kind: string): ApiResource => ({ group, version: 'v1', resource, kind, namespaced: true });
const SERVED = [r('', 'pods', 'Pod'), r('', 'configmaps', 'ConfigMap'), r('apps', 'deployments', 'Deployment'), r('apps', 'replicasets', 'ReplicaSet'), r('example.com', 'cacti', 'Cactus')];
const names = (rs: readonly ApiResource[]) => rs.map((x) => `${x.group}/${x.resource}`);

describe('audit kinds', () => {
  it.each([
    ['a core kind', [{ group: '', kind: 'Pod' }], ['/pods']],
    ['a custom kind by its plural', [{ group: 'example.com', kind: 'Cactus', resource: 'cacti' }], ['example.com/cacti']],
    ['a group wildcard', [{ group: 'apps', kind: '*' }], ['apps/deployments', 'apps/replicasets']],
    ['a kind in any group', [{ group: '*', kind: 'Deployment' }], ['apps/deployments']],
    ['everything, each once and ordered', [{ group: '*', kind: '*' }, { group: '', kind: 'Pod' }], ['/configmaps', '/pods', 'apps/deployments', 'apps/replicasets', 'example.com/cacti']],
  ])('%s', (_name, selectors, expected) => {
    expect(names(auditKinds(selectors, SERVED, 100).resources)).toEqual(expected);
  });

  it('names explicit kinds the cluster does not serve, and cuts at the bound', () => {
    const kinds = auditKinds([{ group: 'nope.io', kind: 'Thing' }, { group: '', kind: 'Secret' }, { group: '*', kind: '*' }], SERVED, 2);
    expect(kinds.unserved).toEqual(['Secret', 'nope.io/Thing']);
    expect(names(kinds.resources)).toEqual(['/configmaps', '/pods']);
    expect(names(kinds.overBound)).toEqual(['apps/deployments', 'apps/replicasets', 'example.com/cacti']);
  });
});
