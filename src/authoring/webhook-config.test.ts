import { describe, expect, it } from 'vitest';
import { parsePolicyMetadata, type PolicyMetadata } from '../bundles/policy-metadata.js';
import { thrown } from '../../test/support/thrown.js';
import { mergeTables, type ResourceTable } from './resource-table.js';
import { BUILTIN_RESOURCES } from './builtin-resources.js';
import { rulesFor, webhookConfigurations, type Rule } from './webhook-config.js';

type Json = Record<string, unknown>;

function policy(scope: Json, entrypoints: Json = { validate: 'bouncer/entry/p/validate' }, id = 'p'): PolicyMetadata {
  return parsePolicyMetadata({ id, package: `policies.${id.replace(/-/g, '_')}`, entrypoints, scope });
}

const rule = (apiGroups: string[], resources: string[], operations: Rule['operations'] = ['CREATE', 'UPDATE']): Rule => ({ apiGroups, apiVersions: ['*'], operations, resources, scope: '*' });

describe('rulesFor: resources come from the table, never from the kind', () => {
  it.each<{ name: string; scope: Json; rules: Rule[] }>([
    { name: 'a core kind', scope: { kinds: ['Pod'] }, rules: [rule([''], ['pods'])] },
    { name: 'Endpoints is its own plural', scope: { kinds: ['Endpoints'] }, rules: [rule([''], ['endpoints'])] },
    { name: 'Ingress → ingresses', scope: { kinds: ['networking.k8s.io/Ingress'] }, rules: [rule(['networking.k8s.io'], ['ingresses'])] },
    { name: 'NetworkPolicy → networkpolicies', scope: { kinds: ['networking.k8s.io/NetworkPolicy'] }, rules: [rule(['networking.k8s.io'], ['networkpolicies'])] },
    { name: 'PriorityClass → priorityclasses', scope: { kinds: ['scheduling.k8s.io/PriorityClass'] }, rules: [rule(['scheduling.k8s.io'], ['priorityclasses'])] },
    { name: 'a custom kind with its resource', scope: { kinds: [{ kind: 'bouncer.example.com/Cactus', resource: 'cacti' }] }, rules: [rule(['bouncer.example.com'], ['cacti'])] },
    { name: 'kinds of one group share a rule', scope: { kinds: ['apps/Deployment', 'apps/StatefulSet'] }, rules: [rule(['apps'], ['deployments', 'statefulsets'])] },
    { name: 'kinds of two groups get a rule each', scope: { kinds: ['Pod', 'apps/Deployment'] }, rules: [rule([''], ['pods']), rule(['apps'], ['deployments'])] },
    { name: 'every kind', scope: { kinds: ['*'] }, rules: [rule(['*'], ['*'])] },
    { name: 'every kind of a group', scope: { kinds: ['apps/*'] }, rules: [rule(['apps'], ['*'])] },
    { name: 'a kind in any group', scope: { kinds: ['*/Deployment'] }, rules: [rule(['*'], ['deployments'])] },
  ])('$name', ({ scope, rules }) => {
    expect(rulesFor([policy(scope)], 'validate')).toEqual(rules);
  });
});

describe('rulesFor: subresources', () => {
  it.each<{ name: string; scope: Json; rules: Rule[] }>([
    { name: 'pods/exec is CONNECT', scope: { kinds: ['Pod'], subresources: ['exec'], operations: ['CONNECT'] }, rules: [rule([''], ['pods/exec'], ['CONNECT'])] },
    { name: 'pods/eviction', scope: { kinds: ['Pod'], subresources: ['eviction'], operations: ['CREATE'] }, rules: [rule([''], ['pods/eviction'], ['CREATE'])] },
    { name: 'deployments/scale', scope: { kinds: ['apps/Deployment'], subresources: ['scale'], operations: ['UPDATE'] }, rules: [rule(['apps'], ['deployments/scale'], ['UPDATE'])] },
    { name: 'serviceaccounts/token', scope: { kinds: ['ServiceAccount'], subresources: ['token'], operations: ['CREATE'] }, rules: [rule([''], ['serviceaccounts/token'], ['CREATE'])] },
    {
      name: 'a subresource only where it exists (ephemeralcontainers on pods, not deployments)',
      scope: { kinds: ['Pod', 'apps/Deployment'], subresources: ['', 'ephemeralcontainers'] },
      rules: [rule([''], ['pods', 'pods/ephemeralcontainers']), rule(['apps'], ['deployments'])],
    },
    { name: 'status of several kinds', scope: { kinds: ['apps/Deployment', 'apps/StatefulSet'], subresources: ['status'], operations: ['UPDATE'] }, rules: [rule(['apps'], ['deployments/status', 'statefulsets/status'], ['UPDATE'])] },
    { name: 'every subresource of a kind', scope: { kinds: ['Pod'], subresources: ['*'], operations: ['*'] }, rules: [rule([''], ['pods/*'], ['CONNECT', 'CREATE', 'DELETE', 'UPDATE'])] },
    { name: 'a subresource of every kind', scope: { kinds: ['*'], subresources: ['scale'], operations: ['UPDATE'] }, rules: [rule(['*'], ['*/scale'], ['UPDATE'])] },
    { name: 'a custom kind gets every scoped subresource', scope: { kinds: [{ kind: 'bouncer.example.com/Cactus', resource: 'cacti' }], subresources: ['', 'status'] }, rules: [rule(['bouncer.example.com'], ['cacti', 'cacti/status'])] },
  ])('$name', ({ scope, rules }) => {
    expect(rulesFor([policy(scope)], 'validate')).toEqual(rules);
  });
});

describe('rulesFor: endpoints and policies', () => {
  const validating = policy({ kinds: ['Pod'], operations: ['CREATE', 'DELETE'] }, { validate: 'v' }, 'a');
  const mutating = policy({ kinds: ['apps/Deployment'], operations: ['CREATE', 'DELETE'] }, { mutate: 'm' }, 'b');

  it('only policies with an entrypoint for the endpoint count', () => {
    expect(rulesFor([validating, mutating], 'validate')).toEqual([rule([''], ['pods'], ['CREATE', 'DELETE'])]);
  });

  it('mutating rules keep only CREATE and UPDATE', () => {
    expect(rulesFor([validating, mutating], 'mutate')).toEqual([rule(['apps'], ['deployments'], ['CREATE'])]);
  });

  it('policies with different operations get separate rules', () => {
    const other = policy({ kinds: ['ConfigMap'] }, { validate: 'v' }, 'c');
    expect(rulesFor([validating, other], 'validate')).toEqual([rule([''], ['pods'], ['CREATE', 'DELETE']), rule([''], ['configmaps'])]);
  });
});

describe('rulesFor: refuses what would render a rule that never matches', () => {
  it.each<{ name: string; scope: Json; says: string }>([
    { name: 'a kind in the wrong case', scope: { kinds: ['pod'] }, says: 'did you mean Pod?' },
    { name: 'a plural as a kind', scope: { kinds: ['Pods'] }, says: 'did you mean Pod?' },
    { name: 'a missing group', scope: { kinds: ['Deployment'] }, says: 'did you mean apps/Deployment?' },
    { name: 'a custom kind without its resource', scope: { kinds: ['bouncer.example.com/Cactus'] }, says: 'or render with --cluster' },
  ])('$name', ({ scope, says }) => {
    const err = thrown(() => rulesFor([policy(scope)], 'validate'));
    expect(err.code).toBe('POLICY_SOURCE_INVALID');
    expect(err.message).toContain(says);
  });

  it('a cluster table resolves a custom kind to the plural the cluster serves', () => {
    const cluster: ResourceTable = mergeTables(BUILTIN_RESOURCES, {
      source: 'the cluster',
      resources: [
        {
          group: 'bouncer.example.com', versions: ['v1'], kind: 'Cactus', resource: 'cacti', namespaced: true, operations: ['CREATE', 'UPDATE', 'DELETE'],
          subresources: [{ name: 'status', group: 'bouncer.example.com', version: 'v1', kind: 'Cactus', operations: ['UPDATE'] }],
        },
      ],
    });
    expect(rulesFor([policy({ kinds: ['bouncer.example.com/Cactus'], subresources: ['', 'status'], operations: ['UPDATE'] })], 'validate', cluster)).toEqual([
      rule(['bouncer.example.com'], ['cacti', 'cacti/status'], ['UPDATE']),
    ]);
    // The cluster says which subresources it has: one it lacks is an error, not a dead rule.
    expect(thrown(() => rulesFor([policy({ kinds: ['bouncer.example.com/Cactus'], subresources: ['scale'], operations: ['UPDATE'] })], 'validate', cluster)).message).toContain(
      'none of the scoped kinds (bouncer.example.com/Cactus) has it',
    );
  });
});

describe('webhookConfigurations', () => {
  const options = { name: 'bouncer', clientConfig: (e: string) => ({ url: `https://127.0.0.1:8443/${e}` }), excludedNamespaces: ['kube-system'] };

  it('renders one webhook per endpoint with the good-practice defaults', () => {
    const configs = webhookConfigurations([policy({ kinds: ['Pod'] }, { validate: 'v', mutate: 'm' })], options);
    const validate = configs.validating.webhooks[0] as Json;
    expect(validate).toMatchObject({
      name: 'validate.bouncer.dev', admissionReviewVersions: ['v1'], sideEffects: 'None', timeoutSeconds: 5, matchPolicy: 'Equivalent', failurePolicy: 'Fail',
      clientConfig: { url: 'https://127.0.0.1:8443/validate' },
      namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] }] },
      rules: [rule([''], ['pods'])],
    });
    expect(configs.mutating.webhooks[0]).toMatchObject({ name: 'mutate.bouncer.dev', failurePolicy: 'Ignore', reinvocationPolicy: 'IfNeeded' });
  });

  it('no policy for an endpoint: a configuration without webhooks', () => {
    expect(webhookConfigurations([policy({ kinds: ['Pod'] })], options).mutating.webhooks).toEqual([]);
  });

  it('no exclusions: an empty selector (the API server refuses NotIn without values)', () => {
    expect((webhookConfigurations([policy({})], { ...options, excludedNamespaces: [] }).validating.webhooks[0] as Json).namespaceSelector).toEqual({});
  });

  it('included namespaces: an In selector', () => {
    expect((webhookConfigurations([policy({})], { ...options, includedNamespaces: ['a'] }).validating.webhooks[0] as Json).namespaceSelector).toEqual({
      matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['a'] }],
    });
  });
});
