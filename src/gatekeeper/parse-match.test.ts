import { describe, expect, it } from 'vitest';
import { thrown } from '../../test/support/thrown.js';
import { parseConstraintMatch } from './parse-match.js';

const WHERE = 'constraints/pods.yaml K8sRequiredLabels/must-have-owner';
const parse = (raw: unknown) => parseConstraintMatch(raw, WHERE);
const failure = (raw: unknown) => {
  const err = thrown(() => parse(raw));
  expect(err.code).toBe('POLICY_SOURCE_INVALID');
  return err.message;
};

describe('parseConstraintMatch: what it accepts', () => {
  it('reads an absent or null spec.match as matching everything', () => {
    expect(parse(undefined)).toEqual({});
    expect(parse(null)).toEqual({});
    expect(parse({})).toEqual({});
  });

  it('reads every field', () => {
    const raw = {
      kinds: [{ apiGroups: ['', 'apps'], kinds: ['Pod', 'Deployment'] }, { kinds: ['Service'] }, {}],
      scope: 'Namespaced',
      namespaces: ['prod', 'team-*'],
      excludedNamespaces: ['kube-*', '*-system'],
      labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'web', empty: '' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }, { key: 'legacy', operator: 'DoesNotExist' }] },
      namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }, { key: 'team', operator: 'Exists', values: [] }] },
      name: 'web-*',
      source: 'Original',
    };
    expect(parse(raw)).toEqual({
      kinds: [
        { apiGroups: ['', 'apps'], kinds: ['Pod', 'Deployment'] },
        { apiGroups: [], kinds: ['Service'] },
        { apiGroups: [], kinds: [] },
      ],
      scope: 'Namespaced',
      namespaces: ['prod', 'team-*'],
      excludedNamespaces: ['kube-*', '*-system'],
      labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'web', empty: '' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }, { key: 'legacy', operator: 'DoesNotExist' }] },
      namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }, { key: 'team', operator: 'Exists' }] },
      name: 'web-*',
      source: 'Original',
    });
  });

  it('reads blank and null fields as absent (their defaults: scope *, source All, any name)', () => {
    expect(parse({ scope: '', source: '', name: '', labelSelector: null, kinds: null, namespaces: null })).toEqual({});
  });

  it('keeps an empty selector (it matches everything), apart from an absent one', () => {
    expect(parse({ labelSelector: {} })).toEqual({ labelSelector: {} });
  });

  it.each(['*', 'Cluster', 'Namespaced'])('accepts scope %s', (scope) => {
    expect(parse({ scope })).toEqual({ scope });
  });

  it.each(['system:*', '*', 'a', '*-x*'])('accepts the wildcard %s', (name) => {
    expect(parse({ name }).name).toBe(name);
  });
});

describe('parseConstraintMatch: errors name the file, the constraint and the field', () => {
  it.each([
    { name: 'spec.match not an object', raw: ['Pod'], want: 'spec.match: must be an object, not a list' },
    { name: 'an unknown field (the API server would prune it and widen the match)', raw: { labelselector: {} }, want: 'spec.match.labelselector: unknown field' },
    // Gatekeeper matches an unknown scope as * (match.go scopeMatch): refused here.
    { name: 'an unknown scope', raw: { scope: 'cluster' }, want: 'spec.match.scope: unknown value "cluster" (one of *, Cluster, Namespaced)' },
    { name: 'an unknown source', raw: { source: 'Mutated' }, want: 'spec.match.source: unknown value "Mutated" (one of All, Original, Generated)' },
    { name: 'kinds not a list', raw: { kinds: { kinds: ['Pod'] } }, want: 'spec.match.kinds: must be a list, not an object' },
    { name: 'a kind not a string', raw: { kinds: [{ kinds: [7] }] }, want: 'spec.match.kinds[0].kinds[0]: must be a string, not number 7' },
    { name: 'an unknown field of a kinds entry', raw: { kinds: [{ apiGroup: ['apps'] }] }, want: 'spec.match.kinds[0].apiGroup: unknown field' },
    { name: 'a namespace with a * inside', raw: { namespaces: ['kube*system'] }, want: 'spec.match.namespaces[0]: "kube*system" is not a name with an optional *' },
    { name: 'an uppercase excluded namespace', raw: { excludedNamespaces: ['ok', 'Prod'] }, want: 'spec.match.excludedNamespaces[1]: "Prod" is not a name' },
    { name: 'a name with a dot', raw: { name: 'web.example' }, want: 'spec.match.name: "web.example" is not a name' },
    { name: 'a selector not an object', raw: { labelSelector: 'app=web' }, want: 'spec.match.labelSelector: must be an object, not string "app=web"' },
    { name: 'an unknown selector field', raw: { namespaceSelector: { matchLabel: { a: 'b' } } }, want: 'spec.match.namespaceSelector.matchLabel: unknown field' },
    { name: 'matchLabels with a non-string value', raw: { labelSelector: { matchLabels: { replicas: 3 } } }, want: 'spec.match.labelSelector.matchLabels.replicas: must be a string, not number 3' },
    { name: 'matchLabels with an invalid key', raw: { labelSelector: { matchLabels: { 'a/b/c': 'x' } } }, want: 'spec.match.labelSelector.matchLabels: "a/b/c": a label key is a name with an optional DNS subdomain prefix' },
    { name: 'matchLabels with an invalid value', raw: { labelSelector: { matchLabels: { a: 'has space' } } }, want: 'spec.match.labelSelector.matchLabels.a: "has space": a label value must be empty or consist of' },
    { name: 'matchExpressions not a list', raw: { labelSelector: { matchExpressions: { key: 'a' } } }, want: 'spec.match.labelSelector.matchExpressions: must be a list, not an object' },
    { name: 'an unknown operator', raw: { labelSelector: { matchExpressions: [{ key: 'a', operator: 'Equals', values: ['x'] }] } }, want: 'spec.match.labelSelector.matchExpressions[0].operator: "Equals" is not a valid selector operator (one of In, NotIn, Exists, DoesNotExist)' },
    { name: 'a missing operator', raw: { labelSelector: { matchExpressions: [{ key: 'a' }] } }, want: 'spec.match.labelSelector.matchExpressions[0].operator: is required' },
    { name: 'a missing key', raw: { namespaceSelector: { matchExpressions: [{ operator: 'Exists' }] } }, want: 'spec.match.namespaceSelector.matchExpressions[0].key: is required' },
    { name: 'an invalid key', raw: { namespaceSelector: { matchExpressions: [{ key: '-a', operator: 'Exists' }] } }, want: 'spec.match.namespaceSelector.matchExpressions[0].key: "-a": the name part of a label key must consist of' },
    { name: 'an empty key prefix', raw: { namespaceSelector: { matchExpressions: [{ key: '/a', operator: 'Exists' }] } }, want: '"/a": the prefix part of a label key must be non-empty' },
    { name: 'In without values', raw: { labelSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } }, want: 'spec.match.labelSelector.matchExpressions[0].values: must be given (non-empty) when operator is In' },
    { name: 'NotIn with empty values', raw: { labelSelector: { matchExpressions: [{ key: 'a', operator: 'NotIn', values: [] }] } }, want: 'matchExpressions[0].values: must be given (non-empty) when operator is NotIn' },
    { name: 'values with Exists', raw: { labelSelector: { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] } }, want: 'spec.match.labelSelector.matchExpressions[0].values: may not be given when operator is Exists' },
    { name: 'values with DoesNotExist', raw: { labelSelector: { matchExpressions: [{ key: 'a', operator: 'DoesNotExist', values: ['x'] }] } }, want: 'values: may not be given when operator is DoesNotExist' },
    { name: 'an invalid value in values', raw: { labelSelector: { matchExpressions: [{ key: 'a', operator: 'In', values: ['ok', 'x'.repeat(64)] }] } }, want: 'matchExpressions[0].values[1]: ' },
  ])('$name', ({ raw, want }) => {
    const message = failure(raw);
    expect(message.startsWith(`${WHERE}: `)).toBe(true);
    expect(message).toContain(want);
  });
});
