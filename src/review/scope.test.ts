import { describe, expect, it } from 'vitest';
import type { AdmissionRequest, Operation } from '../admission/types.js';
import { parsePolicyMetadata, type PolicyScope } from '../bundles/policy-metadata.js';
import { inScope } from './scope.js';

/** A scope exactly as a bundle manifest would declare it (defaults applied by parsePolicyMetadata). */
function scope(raw: Record<string, unknown> = {}): PolicyScope {
  return parsePolicyMetadata({ id: 'p', package: 'policies.p', entrypoints: { validate: 'policies/p/validate' }, scope: raw }).scope;
}

interface Req {
  kind?: string;
  group?: string;
  operation?: Operation;
  subResource?: string;
  namespace?: string;
}

function request({ kind = 'Pod', group = '', operation = 'CREATE', subResource, namespace = 'default' }: Req = {}): AdmissionRequest {
  return {
    uid: 'u',
    kind: { group, version: 'v1', kind },
    resource: { group, version: 'v1', resource: `${kind.toLowerCase()}s` },
    operation,
    userInfo: {},
    ...(subResource === undefined ? {} : { subResource }),
    ...(namespace === '' ? {} : { namespace }),
  };
}

type Case = { name: string; scope: Record<string, unknown>; req: Req; expected: boolean };

describe('inScope: kinds', () => {
  it.each<Case>([
    { name: 'default scope matches any kind', scope: {}, req: { kind: 'Pod' }, expected: true },
    { name: 'default scope matches a grouped kind', scope: {}, req: { kind: 'Deployment', group: 'apps' }, expected: true },
    { name: '"*" matches any group and kind', scope: { kinds: ['*'] }, req: { kind: 'Widget', group: 'example.com' }, expected: true },
    { name: 'core kind matches the core group', scope: { kinds: ['Pod'] }, req: { kind: 'Pod' }, expected: true },
    { name: 'core kind does not match another group', scope: { kinds: ['Pod'] }, req: { kind: 'Pod', group: 'example.com' }, expected: false },
    { name: 'core kind does not match another kind', scope: { kinds: ['Pod'] }, req: { kind: 'Service' }, expected: false },
    { name: 'kind matching is case-sensitive', scope: { kinds: ['pod'] }, req: { kind: 'Pod' }, expected: false },
    { name: 'group/Kind matches', scope: { kinds: ['apps/Deployment'] }, req: { kind: 'Deployment', group: 'apps' }, expected: true },
    { name: 'group/Kind needs the group', scope: { kinds: ['apps/Deployment'] }, req: { kind: 'Deployment', group: 'extensions' }, expected: false },
    { name: 'group/Kind does not match core', scope: { kinds: ['apps/Deployment'] }, req: { kind: 'Deployment' }, expected: false },
    { name: 'group/* matches any kind of the group', scope: { kinds: ['apps/*'] }, req: { kind: 'StatefulSet', group: 'apps' }, expected: true },
    { name: 'group/* does not match other groups', scope: { kinds: ['apps/*'] }, req: { kind: 'Pod' }, expected: false },
    { name: '*/Kind matches the kind in any group', scope: { kinds: ['*/Deployment'] }, req: { kind: 'Deployment', group: 'extensions' }, expected: true },
    { name: '*/Kind matches the kind in the core group', scope: { kinds: ['*/Deployment'] }, req: { kind: 'Deployment' }, expected: true },
    { name: '*/Kind does not match another kind', scope: { kinds: ['*/Deployment'] }, req: { kind: 'DaemonSet', group: 'apps' }, expected: false },
    { name: 'any of several kinds matches', scope: { kinds: ['Pod', 'apps/Deployment'] }, req: { kind: 'Deployment', group: 'apps' }, expected: true },
    { name: 'an empty kind list matches nothing', scope: { kinds: [] }, req: { kind: 'Pod' }, expected: false },
  ])('$name', ({ scope: raw, req, expected }) => {
    expect(inScope(scope(raw), request(req))).toBe(expected);
  });
});

describe('inScope: operations', () => {
  it.each<Case>([
    { name: 'default includes CREATE', scope: {}, req: { operation: 'CREATE' }, expected: true },
    { name: 'default includes UPDATE', scope: {}, req: { operation: 'UPDATE' }, expected: true },
    { name: 'default excludes DELETE', scope: {}, req: { operation: 'DELETE' }, expected: false },
    { name: 'default excludes CONNECT', scope: {}, req: { operation: 'CONNECT' }, expected: false },
    { name: '"*" includes DELETE', scope: { operations: ['*'] }, req: { operation: 'DELETE' }, expected: true },
    { name: '"*" includes CONNECT', scope: { operations: ['*'] }, req: { operation: 'CONNECT' }, expected: true },
    { name: 'DELETE only includes DELETE', scope: { operations: ['DELETE'] }, req: { operation: 'DELETE' }, expected: true },
    { name: 'DELETE only excludes CREATE', scope: { operations: ['DELETE'] }, req: { operation: 'CREATE' }, expected: false },
    { name: 'an empty list excludes everything', scope: { operations: [] }, req: { operation: 'CREATE' }, expected: false },
  ])('$name', ({ scope: raw, req, expected }) => {
    expect(inScope(scope(raw), request(req))).toBe(expected);
  });
});

describe('inScope: subresources', () => {
  it.each<Case>([
    { name: 'default matches the main resource', scope: {}, req: {}, expected: true },
    { name: 'default treats an empty subResource as the main resource', scope: {}, req: { subResource: '' }, expected: true },
    { name: 'default excludes ephemeralcontainers', scope: {}, req: { subResource: 'ephemeralcontainers' }, expected: false },
    { name: 'default excludes status', scope: {}, req: { subResource: 'status', operation: 'UPDATE' }, expected: false },
    { name: 'ephemeralcontainers only matches it', scope: { subresources: ['ephemeralcontainers'] }, req: { subResource: 'ephemeralcontainers', operation: 'UPDATE' }, expected: true },
    { name: 'ephemeralcontainers only excludes the main resource', scope: { subresources: ['ephemeralcontainers'] }, req: {}, expected: false },
    { name: 'ephemeralcontainers only excludes status', scope: { subresources: ['ephemeralcontainers'] }, req: { subResource: 'status' }, expected: false },
    { name: 'main and ephemeralcontainers: main', scope: { subresources: ['', 'ephemeralcontainers'] }, req: {}, expected: true },
    { name: 'main and ephemeralcontainers: subresource', scope: { subresources: ['', 'ephemeralcontainers'] }, req: { subResource: 'ephemeralcontainers' }, expected: true },
    { name: '"*" matches the main resource', scope: { subresources: ['*'] }, req: {}, expected: true },
    { name: '"*" matches any subresource', scope: { subresources: ['*'] }, req: { subResource: 'status', operation: 'UPDATE' }, expected: true },
    { name: '"*" does not widen the operations', scope: { subresources: ['*'] }, req: { subResource: 'exec', operation: 'CONNECT' }, expected: false },
    { name: '"*" with CONNECT in scope matches exec', scope: { subresources: ['*'], operations: ['CONNECT'] }, req: { subResource: 'exec', operation: 'CONNECT' }, expected: true },
  ])('$name', ({ scope: raw, req, expected }) => {
    expect(inScope(scope(raw), request(req))).toBe(expected);
  });
});

describe('inScope: namespaces', () => {
  it.each<Case>([
    { name: 'no selector matches any namespace', scope: {}, req: { namespace: 'team-b' }, expected: true },
    { name: 'no selector matches cluster-scoped requests', scope: {}, req: { kind: 'Namespace', namespace: '' }, expected: true },
    { name: 'include matches a listed namespace', scope: { namespaces: { include: ['team-a', 'team-b'] } }, req: { namespace: 'team-b' }, expected: true },
    { name: 'include excludes other namespaces', scope: { namespaces: { include: ['team-a'] } }, req: { namespace: 'team-b' }, expected: false },
    { name: 'include excludes cluster-scoped requests', scope: { namespaces: { include: ['team-a'] } }, req: { kind: 'ClusterRole', namespace: '' }, expected: false },
    { name: 'exclude rejects a listed namespace', scope: { namespaces: { exclude: ['kube-system'] } }, req: { namespace: 'kube-system' }, expected: false },
    { name: 'exclude keeps other namespaces', scope: { namespaces: { exclude: ['kube-system'] } }, req: { namespace: 'default' }, expected: true },
    { name: 'exclude keeps cluster-scoped requests', scope: { namespaces: { exclude: ['kube-system'] } }, req: { kind: 'Namespace', namespace: '' }, expected: true },
    { name: 'exclude wins over include', scope: { namespaces: { include: ['team-a'], exclude: ['team-a'] } }, req: { namespace: 'team-a' }, expected: false },
    { name: 'an empty include list matches nothing', scope: { namespaces: { include: [] } }, req: { namespace: 'default' }, expected: false },
  ])('$name', ({ scope: raw, req, expected }) => {
    expect(inScope(scope(raw), request(req))).toBe(expected);
  });
});

describe('inScope: all conditions together', () => {
  const full = { kinds: ['Pod'], operations: ['UPDATE'], subresources: ['ephemeralcontainers'], namespaces: { exclude: ['kube-system'] } };
  it.each<{ name: string; req: Req; expected: boolean }>([
    { name: 'every condition met', req: { operation: 'UPDATE', subResource: 'ephemeralcontainers', namespace: 'apps' }, expected: true },
    { name: 'wrong kind', req: { kind: 'Service', operation: 'UPDATE', subResource: 'ephemeralcontainers' }, expected: false },
    { name: 'wrong operation', req: { operation: 'CREATE', subResource: 'ephemeralcontainers' }, expected: false },
    { name: 'wrong subresource', req: { operation: 'UPDATE' }, expected: false },
    { name: 'excluded namespace', req: { operation: 'UPDATE', subResource: 'ephemeralcontainers', namespace: 'kube-system' }, expected: false },
  ])('$name', ({ req, expected }) => {
    expect(inScope(scope(full), request(req))).toBe(expected);
  });
});

/** A request as the API server sends it for a subresource: `kind` is what is sent, `resource` the parent. */
function subresourceRequest(resource: string, group: string, subResource: string, kind: [string, string, string], operation: Operation): AdmissionRequest {
  return {
    uid: 'u',
    kind: { group: kind[0], version: kind[1], kind: kind[2] },
    resource: { group, version: 'v1', resource },
    subResource,
    operation,
    userInfo: {},
    namespace: 'default',
  };
}

describe('inScope: resolved kinds match the request resource, whatever kind the request carries', () => {
  const pods = { kind: 'Pod', resource: 'pods' };
  it.each<{ name: string; scope: Record<string, unknown>; req: AdmissionRequest; expected: boolean }>([
    { name: 'Pod + exec is called for a PodExecOptions request', scope: { kinds: [pods], subresources: ['exec'], operations: ['CONNECT'] }, req: subresourceRequest('pods', '', 'exec', ['', 'v1', 'PodExecOptions'], 'CONNECT'), expected: true },
    { name: 'Pod + attach is called for PodAttachOptions', scope: { kinds: [pods], subresources: ['attach'], operations: ['CONNECT'] }, req: subresourceRequest('pods', '', 'attach', ['', 'v1', 'PodAttachOptions'], 'CONNECT'), expected: true },
    { name: 'Pod + portforward is called for PodPortForwardOptions', scope: { kinds: [pods], subresources: ['portforward'], operations: ['CONNECT'] }, req: subresourceRequest('pods', '', 'portforward', ['', 'v1', 'PodPortForwardOptions'], 'CONNECT'), expected: true },
    { name: 'Pod + eviction is called for policy/v1 Eviction', scope: { kinds: [pods], subresources: ['eviction'] }, req: subresourceRequest('pods', '', 'eviction', ['policy', 'v1', 'Eviction'], 'CREATE'), expected: true },
    { name: 'Pod + binding is called for Binding', scope: { kinds: [pods], subresources: ['binding'] }, req: subresourceRequest('pods', '', 'binding', ['', 'v1', 'Binding'], 'CREATE'), expected: true },
    { name: 'apps/Deployment + scale is called for autoscaling/v1 Scale', scope: { kinds: [{ kind: 'apps/Deployment', resource: 'deployments' }], subresources: ['scale'] }, req: subresourceRequest('deployments', 'apps', 'scale', ['autoscaling', 'v1', 'Scale'], 'UPDATE'), expected: true },
    { name: 'ServiceAccount + token is called for authentication.k8s.io TokenRequest', scope: { kinds: [{ kind: 'ServiceAccount', resource: 'serviceaccounts' }], subresources: ['token'] }, req: subresourceRequest('serviceaccounts', '', 'token', ['authentication.k8s.io', 'v1', 'TokenRequest'], 'CREATE'), expected: true },
    { name: 'apps/* + scale is called for the Scale of a Deployment', scope: { kinds: ['apps/*'], subresources: ['scale'] }, req: subresourceRequest('deployments', 'apps', 'scale', ['autoscaling', 'v1', 'Scale'], 'UPDATE'), expected: true },
    { name: 'the scale of a ReplicaSet is not the scale of a Deployment', scope: { kinds: [{ kind: 'apps/Deployment', resource: 'deployments' }], subresources: ['scale'] }, req: subresourceRequest('replicasets', 'apps', 'scale', ['autoscaling', 'v1', 'Scale'], 'UPDATE'), expected: false },
    { name: 'a Pod policy is not called for another resource whose object is a Pod-named kind', scope: { kinds: [pods], subresources: ['eviction'] }, req: subresourceRequest('evictions', '', 'eviction', ['policy', 'v1', 'Eviction'], 'CREATE'), expected: false },
    { name: 'the resource group counts: pods of another group do not match', scope: { kinds: [pods], subresources: ['eviction'] }, req: subresourceRequest('pods', 'example.com', 'eviction', ['policy', 'v1', 'Eviction'], 'CREATE'), expected: false },
    { name: 'a custom kind with its resource matches its status', scope: { kinds: [{ kind: 'example.com/Cactus', resource: 'cacti' }], subresources: ['status'], operations: ['UPDATE'] }, req: subresourceRequest('cacti', 'example.com', 'status', ['example.com', 'v1', 'Cactus'], 'UPDATE'), expected: true },
  ])('$name', ({ scope: raw, req, expected }) => {
    expect(inScope(scope(raw), req)).toBe(expected);
  });
});
