import { describe, expect, it } from 'vitest';
import type { AdmissionRequest, Operation } from '../admission/types.js';
import { parsePolicyMetadata, type PolicyMetadata } from '../bundles/policy-metadata.js';
import { inScope } from '../review/scope.js';
import { thrown } from '../../test/support/thrown.js';
import { BUILTIN_RESOURCES } from './builtin-resources.js';
import { resolveScope, type ResolveOptions } from './resolve-scope.js';

function meta(scope: Record<string, unknown>): PolicyMetadata {
  return parsePolicyMetadata({ id: 'p', package: 'policies.p', entrypoints: { validate: 'bouncer/entry/p/validate' }, scope });
}

const keep: ResolveOptions = { unresolved: 'keep' };
const resolve = (scope: Record<string, unknown>, options = keep) => resolveScope(meta(scope), BUILTIN_RESOURCES, options);
const failure = (scope: Record<string, unknown>, options = keep) => thrown(() => resolve(scope, options));

describe('resolveScope: kinds get the resource the API server names them by', () => {
  it.each([
    { written: 'Pod', group: '', resource: 'pods' },
    { written: 'Endpoints', group: '', resource: 'endpoints' },
    { written: 'apps/Deployment', group: 'apps', resource: 'deployments' },
    { written: 'networking.k8s.io/Ingress', group: 'networking.k8s.io', resource: 'ingresses' },
    { written: 'networking.k8s.io/NetworkPolicy', group: 'networking.k8s.io', resource: 'networkpolicies' },
    { written: 'scheduling.k8s.io/PriorityClass', group: 'scheduling.k8s.io', resource: 'priorityclasses' },
    { written: '*/Deployment', group: '*', resource: 'deployments' },
  ])('$written → $resource', ({ written, group, resource }) => {
    expect(resolve({ kinds: [written] }).scope.kinds).toEqual([{ group, kind: written.split('/').pop(), resource }]);
  });

  it('keeps wildcards as they are', () => {
    expect(resolve({ kinds: ['*', 'apps/*'] }).scope.kinds).toEqual([
      { group: '*', kind: '*' },
      { group: 'apps', kind: '*' },
    ]);
  });

  it('takes the resource of a custom kind from the scope', () => {
    expect(resolve({ kinds: [{ kind: 'stable.example.com/CronTab', resource: 'crontabs' }] }).scope.kinds).toEqual([{ group: 'stable.example.com', kind: 'CronTab', resource: 'crontabs' }]);
  });

  it('keeps a custom kind without a resource for bouncer build (matched on the request kind)', () => {
    expect(resolve({ kinds: ['stable.example.com/CronTab'] }).scope.kinds).toEqual([{ group: 'stable.example.com', kind: 'CronTab' }]);
  });

  it('is idempotent: a resolved scope resolves to itself', () => {
    const once = resolve({ kinds: ['Pod', 'apps/Deployment'], subresources: ['', 'status'] });
    expect(resolveScope(once, BUILTIN_RESOURCES, keep)).toEqual(once);
  });
});

describe('resolveScope: a kind no request can match is a build error that says what to write', () => {
  it.each([
    { name: 'wrong case', kinds: ['pod'], says: 'did you mean Pod?' },
    { name: 'wrong case in a group', kinds: ['apps/deployment'], says: 'did you mean apps/Deployment?' },
    { name: 'a plural written as a kind', kinds: ['Pods'], says: 'did you mean Pod?' },
    { name: 'a resource written as a kind', kinds: ['apps/deployments'], says: 'did you mean apps/Deployment?' },
    { name: 'a missing group', kinds: ['Deployment'], says: 'did you mean apps/Deployment?' },
    { name: 'a missing group (networking)', kinds: ['Ingress'], says: 'did you mean networking.k8s.io/Ingress?' },
    { name: 'the wrong group', kinds: ['batch/Deployment'], says: 'did you mean apps/Deployment?' },
    { name: 'a misspelt built-in group', kinds: ['app/Deployment'], says: 'did you mean apps/Deployment?' },
    { name: 'an unknown kind in a built-in group', kinds: ['apps/Widget'], says: 'serves no kind Widget in group apps' },
    { name: 'an unknown core kind', kinds: ['Widget'], says: 'a custom resource is written {kind: example.com/Widget, resource: <plural>}' },
    { name: 'a wrong resource for a built-in kind', kinds: [{ kind: 'Endpoints', resource: 'endpointses' }], says: 'its resource is endpoints' },
    { name: 'a built-in resource under another kind', kinds: [{ kind: 'Pods', resource: 'pods' }], says: 'pods is the resource of Pod' },
  ])('$name: $kinds', ({ kinds, says }) => {
    const err = failure({ kinds });
    expect(err.code).toBe('POLICY_SOURCE_INVALID');
    expect(err.message).toContain(says);
  });

  it('a custom kind without its resource, when rules must be rendered without a cluster', () => {
    expect(failure({ kinds: ['stable.example.com/CronTab'] }, { unresolved: 'error' }).message).toMatch(
      /give it in the scope as \{kind: stable.example.com\/CronTab, resource: <plural>\}.*or render with --cluster/,
    );
  });

  it('a custom kind without its resource on a subresource whose requests carry another kind', () => {
    expect(failure({ kinds: ['stable.example.com/CronTab'], subresources: ['scale'] }).message).toContain('give it as {kind: stable.example.com/CronTab, resource: <plural>}');
    expect(resolve({ kinds: ['stable.example.com/CronTab'], subresources: ['', 'status'] }).scope.kinds).toHaveLength(1);
  });
});

describe('resolveScope: subresources and operations that no request reaches are build errors', () => {
  it.each([
    { name: 'a subresource none of the kinds has', scope: { kinds: ['apps/Deployment'], subresources: ['eviction'] }, says: 'it exists on Pod' },
    { name: 'exec without CONNECT', scope: { kinds: ['Pod'], subresources: ['exec'] }, says: 'pods/exec is reached only by CONNECT, and scope.operations is [CREATE, UPDATE]: add CONNECT' },
    { name: 'eviction with UPDATE only', scope: { kinds: ['Pod'], subresources: ['eviction'], operations: ['UPDATE'] }, says: 'add CREATE' },
    { name: 'scale with CREATE only', scope: { kinds: ['apps/Deployment'], subresources: ['scale'], operations: ['CREATE'] }, says: 'add UPDATE' },
    { name: 'the main resource with CONNECT only', scope: { kinds: ['Pod'], operations: ['CONNECT'] }, says: 'pods is reached only by CREATE, UPDATE, DELETE' },
    { name: 'a read-only subresource', scope: { kinds: ['Pod'], subresources: ['log'], operations: ['*'] }, says: 'pods/log can only be read' },
    { name: 'a kind the API server never sends to webhooks', scope: { kinds: ['admissionregistration.k8s.io/ValidatingWebhookConfiguration'] }, says: 'never sends requests for ValidatingWebhookConfiguration objects' },
    { name: 'namespaces.include on cluster-scoped kinds only', scope: { kinds: ['scheduling.k8s.io/PriorityClass'], namespaces: { include: ['team-a'] } }, says: 'is cluster-scoped, so no request for it has a namespace' },
    { name: 'another one', scope: { kinds: ['admissionregistration.k8s.io/MutatingAdmissionPolicyBinding'] }, says: 'never sends' },
  ])('$name', ({ scope, says }) => {
    expect(failure(scope).message).toContain(says);
  });

  it('namespaces.include is fine with a namespaced kind among them, and on Namespaces', () => {
    expect(() => resolve({ kinds: ['Pod', 'scheduling.k8s.io/PriorityClass'], namespaces: { include: ['team-a'] } })).not.toThrow();
    expect(() => resolve({ kinds: ['Namespace'], namespaces: { include: ['team-a'] } })).not.toThrow();
  });

  it('a subresource some of the kinds have is fine (the rules name it only where it exists)', () => {
    expect(() => resolve({ kinds: ['Pod', 'apps/Deployment'], subresources: ['', 'ephemeralcontainers'] })).not.toThrow();
  });
});

/** A request the way the API server sends it for `resource/subresource`, carrying `kind`. */
function request(group: string, resource: string, subResource: string, kind: string, kindGroup: string, operation: Operation): AdmissionRequest {
  return {
    uid: 'u',
    kind: { group: kindGroup, version: 'v1', kind },
    resource: { group, version: 'v1', resource },
    ...(subResource ? { subResource } : {}),
    operation,
    userInfo: {},
    namespace: 'default',
  };
}

describe('a scope resolved at build time is called for the subresource requests its rules send', () => {
  it.each([
    { written: 'Pod', sub: 'exec', op: 'CONNECT', req: request('', 'pods', 'exec', 'PodExecOptions', '', 'CONNECT') },
    { written: 'Pod', sub: 'attach', op: 'CONNECT', req: request('', 'pods', 'attach', 'PodAttachOptions', '', 'CONNECT') },
    { written: 'Pod', sub: 'portforward', op: 'CONNECT', req: request('', 'pods', 'portforward', 'PodPortForwardOptions', '', 'CONNECT') },
    { written: 'Pod', sub: 'eviction', op: 'CREATE', req: request('', 'pods', 'eviction', 'Eviction', 'policy', 'CREATE') },
    { written: 'Pod', sub: 'binding', op: 'CREATE', req: request('', 'pods', 'binding', 'Binding', '', 'CREATE') },
    { written: 'apps/Deployment', sub: 'scale', op: 'UPDATE', req: request('apps', 'deployments', 'scale', 'Scale', 'autoscaling', 'UPDATE') },
    { written: 'ServiceAccount', sub: 'token', op: 'CREATE', req: request('', 'serviceaccounts', 'token', 'TokenRequest', 'authentication.k8s.io', 'CREATE') },
    { written: 'Pod', sub: 'ephemeralcontainers', op: 'UPDATE', req: request('', 'pods', 'ephemeralcontainers', 'Pod', '', 'UPDATE') },
    { written: 'Pod', sub: 'status', op: 'UPDATE', req: request('', 'pods', 'status', 'Pod', '', 'UPDATE') },
    { written: 'Endpoints', sub: '', op: 'CREATE', req: request('', 'endpoints', '', 'Endpoints', '', 'CREATE') },
  ])('$written + "$sub" ($op)', ({ written, sub, op, req }) => {
    const scope = resolve({ kinds: [written], subresources: [sub], operations: [op] }).scope;
    expect(inScope(scope, req)).toBe(true);
    expect(inScope(scope, { ...req, resource: { ...req.resource, resource: 'configmaps' } })).toBe(false);
  });
});
