// Discovery for the audit and the list pages, over a fake GET: preferred versions first, each
// group/resource once, only listable main resources, failed group versions reported not thrown;
// pages follow continue tokens and a resumed list starts at the given token.
import { describe, expect, it } from 'vitest';
import { BouncerError } from '../errors/errors.js';
import { listPath, objectPages } from './object-pages.js';
import { discoverServedResources } from './resource-discovery.js';

const DOCS: Record<string, unknown> = {
  '/api': { versions: ['v1'] },
  '/apis': {
    groups: [
      { name: 'apps', versions: [{ version: 'v1' }], preferredVersion: { version: 'v1' } },
      { name: 'example.com', versions: [{ version: 'v1' }, { version: 'v2' }], preferredVersion: { version: 'v2' } },
      { name: 'metrics.k8s.io', versions: [{ version: 'v1beta1' }] },
    ],
  },
  '/api/v1': {
    resources: [
      { name: 'pods', kind: 'Pod', namespaced: true, verbs: ['create', 'list', 'watch'] },
      { name: 'pods/status', kind: 'Pod', namespaced: true, verbs: ['get', 'patch'] },
      { name: 'bindings', kind: 'Binding', namespaced: true, verbs: ['create'] },
      { name: 'namespaces', kind: 'Namespace', namespaced: false, verbs: ['list'] },
    ],
  },
  '/apis/apps/v1': { resources: [{ name: 'deployments', kind: 'Deployment', namespaced: true, verbs: ['list'] }] },
  '/apis/example.com/v2': { resources: [{ name: 'widgets', kind: 'Widget', namespaced: true, verbs: ['list'] }] },
  '/apis/example.com/v1': {
    resources: [
      { name: 'widgets', kind: 'Widget', namespaced: true, verbs: ['list'] },
      { name: 'gadgets', kind: 'Gadget', namespaced: false, verbs: ['list'] },
    ],
  },
};

const get = async (path: string) => {
  if (path === '/apis/metrics.k8s.io/v1beta1') throw new BouncerError('CLUSTER_FAILED', 'HTTP 503: service unavailable', { details: { httpStatus: 503 } });
  if (!(path in DOCS)) throw new Error(`unexpected GET ${path}`);
  return DOCS[path];
};

describe('discovery for the audit', () => {
  it('takes each listable main resource once, at its group preferred version, and reports unreadable group versions', async () => {
    const { resources, failures } = await discoverServedResources(get).resources();
    expect(resources).toEqual([
      { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true },
      { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false },
      { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true },
      { group: 'example.com', version: 'v2', resource: 'widgets', kind: 'Widget', namespaced: true },
      { group: 'example.com', version: 'v1', resource: 'gadgets', kind: 'Gadget', namespaced: false },
    ]);
    expect(failures).toEqual([{ groupVersion: 'metrics.k8s.io/v1beta1', message: 'HTTP 503: service unavailable' }]);
  });
});

describe('object pages', () => {
  it('follows continue tokens one request per page, and resumes from a given token', async () => {
    const asked: string[] = [];
    const pages = objectPages(async (path) => {
      asked.push(path);
      const token = new URL(path, 'http://x').searchParams.get('continue');
      return token === null ? { items: [1, 2], metadata: { continue: 'a', resourceVersion: '9' } } : token === 'a' ? { items: [3], metadata: { continue: '' } } : { items: [] };
    });
    const seen: unknown[] = [];
    for await (const page of pages.pages({ group: '', version: 'v1', resource: 'configmaps' }, 2)) seen.push(...page.items);
    expect(seen).toEqual([1, 2, 3]);
    expect(asked).toEqual(['/api/v1/configmaps?limit=2', '/api/v1/configmaps?limit=2&continue=a']);
    for await (const page of pages.pages({ group: '', version: 'v1', resource: 'configmaps' }, 2, { continue: 'a' })) expect(page.items).toEqual([3]);
    expect(pages.requests()).toBe(3);
    expect(listPath({ group: 'apps', version: 'v1', resource: 'deployments' }, 500, 'x y')).toBe('/apis/apps/v1/deployments?limit=500&continue=x+y');
  });
});
