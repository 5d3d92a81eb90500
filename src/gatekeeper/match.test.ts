import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AdmissionRequest } from '../admission/types.js';
import { matchConstraint, matchLabelSelector, matchSubjectFromObject, matchSubjectFromRequest, unableToMatchMessage } from './match.js';
import type { ConstraintMatch, LabelSelector, LabelSelectorRequirement, MatchSubject, NamespaceInfo, NamespaceLookup } from './types.js';
import { wildcardMatches, wildcardMatchesGenerateName } from './wildcard.js';

// Namespaces the cluster (or the suite's inventory) knows.
const NAMESPACES: Record<string, NamespaceInfo> = {
  prod: { name: 'prod', labels: { env: 'prod', team: 'a' } },
  dev: { name: 'dev', labels: { env: 'dev' } },
  'kube-system': { name: 'kube-system', labels: { 'kubernetes.io/metadata.name': 'kube-system' } },
};
const known: NamespaceLookup = (name) => NAMESPACES[name];

const POD = { group: '', kind: 'Pod' };
const DEPLOYMENT = { group: 'apps', kind: 'Deployment' };
const NAMESPACE = { group: '', kind: 'Namespace' };
const CLUSTER_ROLE = { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole' };

function pod(namespace: string, name: string, labels: Record<string, string> = {}, extra: Record<string, unknown> = {}): MatchSubject {
  return { kind: POD, operation: 'CREATE', namespace, name, objectMetadata: { name, namespace, labels, ...extra } };
}
function ns(name: string, labels: Record<string, string> = {}): MatchSubject {
  return { kind: NAMESPACE, operation: 'CREATE', name, objectMetadata: { name, labels } };
}
function clusterRole(name: string, labels: Record<string, string> = {}): MatchSubject {
  return { kind: CLUSTER_ROLE, operation: 'CREATE', name, objectMetadata: { name, labels } };
}
const matched = (match: ConstraintMatch, subject: MatchSubject, namespaces: NamespaceLookup = known) => matchConstraint(match, subject, namespaces);
const yes = { matched: true };
const no = { matched: false };

describe('matchConstraint: an empty match', () => {
  it.each([pod('prod', 'p'), ns('prod'), clusterRole('admin')])('matches every object (%#)', (subject) => {
    expect(matched({}, subject)).toEqual(yes);
  });
});

describe('kinds (match.go kindsMatch): any entry whose kinds and apiGroups both match', () => {
  it.each<{ name: string; kinds: ConstraintMatch['kinds']; subject: MatchSubject['kind']; want: boolean }>([
    { name: 'no kinds at all', kinds: [], subject: POD, want: true },
    { name: 'exact core kind', kinds: [{ apiGroups: [''], kinds: ['Pod'] }], subject: POD, want: true },
    { name: 'core group given, other group asked', kinds: [{ apiGroups: [''], kinds: ['Deployment'] }], subject: DEPLOYMENT, want: false },
    { name: 'the right kind in the wrong group', kinds: [{ apiGroups: ['apps'], kinds: ['Pod'] }], subject: POD, want: false },
    { name: 'an entry without kinds matches any kind of its groups', kinds: [{ apiGroups: ['apps'], kinds: [] }], subject: DEPLOYMENT, want: true },
    { name: 'an entry without kinds in another group', kinds: [{ apiGroups: ['apps'], kinds: [] }], subject: POD, want: false },
    { name: 'an entry without apiGroups matches the kind in any group', kinds: [{ apiGroups: [], kinds: ['Deployment'] }], subject: DEPLOYMENT, want: true },
    { name: 'kind *', kinds: [{ apiGroups: ['apps'], kinds: ['*'] }], subject: DEPLOYMENT, want: true },
    { name: 'group *', kinds: [{ apiGroups: ['*'], kinds: ['Pod'] }], subject: POD, want: true },
    { name: 'kinds are case-sensitive', kinds: [{ apiGroups: ['*'], kinds: ['pod'] }], subject: POD, want: false },
    {
      name: 'the second entry matches',
      kinds: [
        { apiGroups: ['*'], kinds: ['Service'] },
        { apiGroups: ['apps'], kinds: ['StatefulSet', 'Deployment'] },
      ],
      subject: DEPLOYMENT,
      want: true,
    },
    {
      // Groups and kinds pair within an entry, never across entries.
      name: 'a kind of one entry and the group of another',
      kinds: [
        { apiGroups: ['apps'], kinds: ['Service'] },
        { apiGroups: [''], kinds: ['Deployment'] },
      ],
      subject: DEPLOYMENT,
      want: false,
    },
  ])('$name', ({ kinds, subject, want }) => {
    expect(matched({ kinds }, { kind: subject, namespace: 'prod', objectMetadata: { name: 'x', namespace: 'prod' } })).toEqual({ matched: want });
  });
});

describe('scope (match.go scopeMatch): a Namespace counts as cluster-scoped', () => {
  it.each([
    { scope: 'Cluster', subject: pod('prod', 'p'), want: false },
    { scope: 'Cluster', subject: clusterRole('admin'), want: true },
    { scope: 'Cluster', subject: ns('prod'), want: true },
    { scope: 'Namespaced', subject: pod('prod', 'p'), want: true },
    { scope: 'Namespaced', subject: clusterRole('admin'), want: false },
    { scope: 'Namespaced', subject: ns('prod'), want: false },
    { scope: '*', subject: pod('prod', 'p'), want: true },
    { scope: '*', subject: clusterRole('admin'), want: true },
    { scope: '*', subject: ns('prod'), want: true },
  ] as const)('$scope on $subject.kind.kind', ({ scope, subject, want }) => {
    expect(matched({ scope }, subject)).toEqual({ matched: want });
  });

  it('takes the namespace the object declares when the request has none (gator, audit)', () => {
    const subject: MatchSubject = { kind: POD, objectMetadata: { name: 'p', namespace: 'prod' } };
    expect(matched({ scope: 'Namespaced' }, subject)).toEqual(yes);
    expect(matched({ scope: 'Cluster' }, subject)).toEqual(no);
  });
});

describe('namespaces and excludedNamespaces (match.go namespacesMatch, excludedNamespacesMatch; wildcard.go)', () => {
  it.each([
    { patterns: ['prod'], namespace: 'prod', listed: true },
    { patterns: ['prod'], namespace: 'production', listed: false },
    { patterns: ['dev', 'prod'], namespace: 'prod', listed: true },
    { patterns: ['kube-*'], namespace: 'kube-system', listed: true },
    { patterns: ['kube-*'], namespace: 'kube-', listed: true },
    { patterns: ['kube-*'], namespace: 'my-kube-system', listed: false },
    { patterns: ['*-system'], namespace: 'gatekeeper-system', listed: true },
    { patterns: ['*-system'], namespace: 'system', listed: false },
    { patterns: ['*sys*'], namespace: 'a-sys-b', listed: true },
    { patterns: ['*'], namespace: 'anything', listed: true },
  ])('$patterns and a pod in $namespace', ({ patterns, namespace, listed }) => {
    expect(matched({ namespaces: patterns }, pod(namespace, 'p'), () => undefined)).toEqual({ matched: listed });
    expect(matched({ excludedNamespaces: patterns }, pod(namespace, 'p'), () => undefined)).toEqual({ matched: !listed });
  });

  it('matches a Namespace object by its own name', () => {
    expect(matched({ namespaces: ['prod'] }, ns('prod'))).toEqual(yes);
    expect(matched({ namespaces: ['prod'] }, ns('dev'))).toEqual(no);
    expect(matched({ excludedNamespaces: ['kube-*'] }, ns('kube-system'))).toEqual(no);
    expect(matched({ excludedNamespaces: ['kube-*'] }, ns('prod'))).toEqual(yes);
  });

  it("ignores the request namespace of a Namespace (server-side apply sets it; policy.go createReviewForRequest, Gatekeeper #792)", () => {
    const applied: MatchSubject = { ...ns('dev'), namespace: 'prod' };
    expect(matched({ namespaces: ['prod'] }, applied)).toEqual(no);
    expect(matched({ scope: 'Namespaced' }, applied)).toEqual(no);
  });

  it('neither leaves out nor excludes a cluster-scoped object that is not a Namespace', () => {
    expect(matched({ namespaces: ['prod'] }, clusterRole('admin'))).toEqual(yes);
    expect(matched({ excludedNamespaces: ['*'] }, clusterRole('admin'))).toEqual(yes);
  });

  it("prefers the request's namespace to the one the object declares", () => {
    const subject: MatchSubject = { kind: POD, namespace: 'prod', objectMetadata: { name: 'p', namespace: 'dev' } };
    expect(matched({ namespaces: ['prod'] }, subject)).toEqual(yes);
  });
});

describe('labelSelector: the object’s own labels, with Kubernetes’ selector semantics', () => {
  const labels = { app: 'web', tier: 'front', empty: '' };
  it.each<{ name: string; selector: LabelSelector; want: boolean }>([
    { name: 'an empty selector matches everything', selector: {}, want: true },
    { name: 'matchLabels equal', selector: { matchLabels: { app: 'web' } }, want: true },
    { name: 'matchLabels differ', selector: { matchLabels: { app: 'db' } }, want: false },
    { name: 'matchLabels missing key', selector: { matchLabels: { owner: 'x' } }, want: false },
    { name: 'matchLabels all ANDed', selector: { matchLabels: { app: 'web', tier: 'back' } }, want: false },
    { name: 'matchLabels of an empty value', selector: { matchLabels: { empty: '' } }, want: true },
    { name: 'In with the value', selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['db', 'web'] }] }, want: true },
    { name: 'In without the value', selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] }, want: false },
    { name: 'In with the key absent', selector: { matchExpressions: [{ key: 'owner', operator: 'In', values: ['x'] }] }, want: false },
    { name: 'NotIn with another value', selector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['db'] }] }, want: true },
    { name: 'NotIn with the value', selector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }, want: false },
    { name: 'NotIn matches when the key is absent', selector: { matchExpressions: [{ key: 'owner', operator: 'NotIn', values: ['x'] }] }, want: true },
    { name: 'Exists', selector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, want: true },
    { name: 'Exists of a key with an empty value', selector: { matchExpressions: [{ key: 'empty', operator: 'Exists' }] }, want: true },
    { name: 'Exists of an absent key', selector: { matchExpressions: [{ key: 'owner', operator: 'Exists' }] }, want: false },
    { name: 'DoesNotExist of an absent key', selector: { matchExpressions: [{ key: 'owner', operator: 'DoesNotExist' }] }, want: true },
    { name: 'DoesNotExist of a present key', selector: { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, want: false },
    {
      name: 'matchLabels and matchExpressions ANDed',
      selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] },
      want: false,
    },
    { name: 'a key named like an Object.prototype member is absent', selector: { matchExpressions: [{ key: 'constructor', operator: 'Exists' }] }, want: false },
  ])('$name', ({ selector, want }) => {
    expect(matched({ labelSelector: selector }, pod('prod', 'p', labels))).toEqual({ matched: want });
  });

  it('reads an object without labels, or with a non-string label value, as having no labels (Unstructured.GetLabels)', () => {
    const none: MatchSubject = { kind: POD, namespace: 'prod', objectMetadata: { name: 'p', labels: { app: 'web', n: 1 } } };
    expect(matched({ labelSelector: { matchLabels: { app: 'web' } } }, none)).toEqual(no);
    expect(matched({ labelSelector: { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] } }, none)).toEqual(yes);
  });

  it('applies to a Namespace’s and a cluster-scoped object’s own labels', () => {
    expect(matched({ labelSelector: { matchLabels: { env: 'prod' } } }, ns('prod', { env: 'prod' }))).toEqual(yes);
    expect(matched({ labelSelector: { matchLabels: { env: 'prod' } } }, clusterRole('admin', { env: 'dev' }))).toEqual(no);
  });
});

describe('namespaceSelector (match.go namespaceSelectorMatch)', () => {
  const selector: LabelSelector = { matchLabels: { env: 'prod' } };

  it('selects a namespaced object by its Namespace’s labels, not its own', () => {
    expect(matched({ namespaceSelector: selector }, pod('prod', 'p'))).toEqual(yes);
    expect(matched({ namespaceSelector: selector }, pod('dev', 'p', { env: 'prod' }))).toEqual(no);
  });

  it('selects a Namespace object by its own labels, without looking it up', () => {
    const lookups: string[] = [];
    const spy: NamespaceLookup = (name) => (lookups.push(name), undefined);
    expect(matched({ namespaceSelector: selector }, ns('new', { env: 'prod' }), spy)).toEqual(yes);
    expect(matched({ namespaceSelector: selector }, ns('prod', { env: 'dev' }), spy)).toEqual(no);
    expect(lookups).toEqual([]);
  });

  it('matches every cluster-scoped object that is not a Namespace', () => {
    expect(matched({ namespaceSelector: selector }, clusterRole('admin'), () => undefined)).toEqual(yes);
  });

  it('is an error with Gatekeeper’s wording when the Namespace is not known, never a silent non-match', () => {
    const result = matched({ namespaceSelector: selector }, pod('ghost', 'nginx'));
    expect(result).toEqual({ error: 'error matching the requested object: nginx :failed to run Match criteria: namespace selector for namespace-scoped object but missing Namespace' });
    expect(unableToMatchMessage((result as { error: string }).error)).toMatch(/^unable to match constraints: error matching the requested object: nginx :/);
  });

  it('looks the Namespace up only when the answer depends on its labels', () => {
    const lookups: string[] = [];
    const spy: NamespaceLookup = (name) => (lookups.push(name), undefined);
    expect(matched({ namespaces: ['prod'] }, pod('ghost', 'p'), spy)).toEqual(no);
    expect(matched({ excludedNamespaces: ['ghost'], namespaceSelector: selector }, pod('ghost', 'p'), spy)).toEqual(no);
    expect(matched({ kinds: [{ apiGroups: ['apps'], kinds: ['Deployment'] }], namespaceSelector: selector }, pod('ghost', 'p'), spy)).toEqual(no);
    // bouncer checks the name before the Namespace (Gatekeeper checks it after, and errors here).
    expect(matched({ name: 'other', namespaceSelector: selector }, pod('ghost', 'p'), spy)).toEqual(no);
    expect(matched({ source: 'Generated', namespaceSelector: selector }, pod('ghost', 'p'), spy)).toEqual(no);
    expect(lookups).toEqual([]);
    expect(matched({ name: 'p', namespaceSelector: selector }, pod('ghost', 'p'), spy)).toHaveProperty('error');
    expect(lookups).toEqual(['ghost']);
  });

  it('uses the namespace the object declares when the request has none (gator: the inventory’s Namespaces)', () => {
    const subject: MatchSubject = { kind: POD, objectMetadata: { name: 'p', namespace: 'prod' } };
    expect(matched({ namespaceSelector: selector }, subject)).toEqual(yes);
  });
});

describe('name (match.go namesMatch; wildcard.go Matches, MatchesGenerateName)', () => {
  it.each([
    { pattern: 'web', name: 'web', want: true },
    { pattern: 'web', name: 'web-1', want: false },
    { pattern: 'web-*', name: 'web-1', want: true },
    { pattern: '*-1', name: 'web-1', want: true },
    { pattern: '*eb*', name: 'web-1', want: true },
    { pattern: '*', name: 'anything', want: true },
  ])('$pattern against name $name', ({ pattern, name, want }) => {
    expect(matched({ name: pattern }, pod('prod', name))).toEqual({ matched: want });
  });

  it.each([
    // Only a glob whose fixed part can start the generated name matches generateName.
    { pattern: 'web-*', generateName: 'web-', want: true },
    { pattern: '*eb*', generateName: 'web-', want: true },
    { pattern: 'web-', generateName: 'web-', want: false },
    { pattern: '*-', generateName: 'web-', want: false },
    { pattern: 'db-*', generateName: 'web-', want: false },
  ])('$pattern against generateName $generateName (no name yet)', ({ pattern, generateName, want }) => {
    const subject: MatchSubject = { kind: POD, namespace: 'prod', objectMetadata: { generateName, namespace: 'prod' } };
    expect(matched({ name: pattern }, subject)).toEqual({ matched: want });
  });

  it('matches either the name or the generateName', () => {
    expect(matched({ name: 'web-*' }, pod('prod', 'x7k2', {}, { generateName: 'web-' }))).toEqual(yes);
  });

  it('reads a blank name as any name', () => {
    expect(matched({ name: '' }, pod('prod', 'p'))).toEqual(yes);
  });

  it('is the object’s metadata.name, also for a Namespace and a cluster-scoped object', () => {
    expect(matched({ name: 'kube-*' }, ns('kube-system'))).toEqual(yes);
    expect(matched({ name: 'system:*' }, clusterRole('system:admin'))).toEqual(yes);
  });
});

describe('source (match.go sourceMatch)', () => {
  it.each([
    { source: undefined, want: true },
    { source: 'All', want: true },
    { source: 'Original', want: true },
    // bouncer expands no generators: every object it sees is an original.
    { source: 'Generated', want: false },
  ] as const)('$source', ({ source, want }) => {
    expect(matched(source === undefined ? {} : { source }, pod('prod', 'p'))).toEqual({ matched: want });
  });
});

describe('UPDATE: the whole match is tried on the new object, then the old one (matcher.go matchAny)', () => {
  const update = (oldLabels: Record<string, string>, newLabels: Record<string, string>, names: [string, string] = ['p', 'p']): MatchSubject => ({
    kind: POD,
    operation: 'UPDATE',
    namespace: 'prod',
    name: names[1],
    objectMetadata: { name: names[1], namespace: 'prod', labels: newLabels },
    oldObjectMetadata: { name: names[0], namespace: 'prod', labels: oldLabels },
  });
  const selector = { labelSelector: { matchLabels: { guarded: 'true' } } };

  it('matches when the new object matches', () => {
    expect(matched(selector, update({}, { guarded: 'true' }))).toEqual(yes);
  });
  it('matches when only the old object matches: removing a label does not escape the selector', () => {
    expect(matched(selector, update({ guarded: 'true' }, {}))).toEqual(yes);
  });
  it('does not match when neither does', () => {
    expect(matched(selector, update({}, { other: 'x' }))).toEqual(no);
  });
  it('does not combine fields across the two objects', () => {
    // New object: the label but not the name; old object: the name but not the label.
    expect(matched({ ...selector, name: 'old-*' }, update({}, { guarded: 'true' }, ['old-p', 'new-p']))).toEqual(no);
  });
  it('selects a relabelled Namespace by its old labels too', () => {
    const relabel: MatchSubject = { kind: NAMESPACE, operation: 'UPDATE', name: 'prod', objectMetadata: { name: 'prod', labels: {} }, oldObjectMetadata: { name: 'prod', labels: { env: 'prod' } } };
    expect(matched({ namespaceSelector: { matchLabels: { env: 'prod' } } }, relabel, () => undefined)).toEqual(yes);
  });
  it('looks a namespaced object’s Namespace up as it is now, for both objects', () => {
    const moved = update({}, {});
    expect(matched({ namespaceSelector: { matchLabels: { env: 'dev' } } }, moved)).toEqual(no);
    expect(matched({ namespaceSelector: { matchLabels: { env: 'prod' } } }, moved)).toEqual(yes);
  });
  it('lets a match of the old object win over an error of the new one', () => {
    // Gatekeeper stops at the new object's error; here the old object's match decides.
    const subject: MatchSubject = {
      kind: POD,
      operation: 'UPDATE',
      objectMetadata: { name: 'p', namespace: 'ghost' },
      oldObjectMetadata: { name: 'p', namespace: 'prod' },
    };
    expect(matched({ namespaceSelector: { matchLabels: { env: 'prod' } } }, subject)).toEqual(yes);
  });
});

describe('DELETE: the old object is the object (target.go setObjectOnDelete)', () => {
  it('matches the old object’s labels and name', () => {
    const subject: MatchSubject = { kind: POD, operation: 'DELETE', namespace: 'prod', name: 'p', oldObjectMetadata: { name: 'p', namespace: 'prod', labels: { guarded: 'true' } } };
    expect(matched({ labelSelector: { matchLabels: { guarded: 'true' } }, name: 'p' }, subject)).toEqual(yes);
    expect(matched({ labelSelector: { matchLabels: { guarded: 'false' } } }, subject)).toEqual(no);
  });
  it('ignores a new object a caller passed along', () => {
    const subject: MatchSubject = { kind: POD, operation: 'DELETE', namespace: 'prod', objectMetadata: { name: 'p', labels: { guarded: 'true' } }, oldObjectMetadata: { name: 'p', labels: {} } };
    expect(matched({ labelSelector: { matchLabels: { guarded: 'true' } } }, subject)).toEqual(no);
  });
});

describe('an object without metadata (a CONNECT’s PodExecOptions)', () => {
  const exec: MatchSubject = { kind: { group: '', kind: 'PodExecOptions' }, operation: 'CONNECT', namespace: 'prod', name: 'web' };
  it('matches by kind and namespace, with no name and no labels, as Gatekeeper reads its object', () => {
    expect(matched({ kinds: [{ apiGroups: [''], kinds: ['PodExecOptions'] }], namespaces: ['prod'], namespaceSelector: { matchLabels: { env: 'prod' } } }, exec)).toEqual(yes);
    expect(matched({ name: 'web' }, exec)).toEqual(no);
    expect(matched({ labelSelector: { matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] } }, exec)).toEqual(yes);
  });
});

describe('matchSubjectFromObject and matchSubjectFromRequest', () => {
  const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'prod', labels: { app: 'web' } } };

  it('reads kind, namespace, name and metadata from a plain object', () => {
    expect(matchSubjectFromObject(deployment)).toEqual({ kind: DEPLOYMENT, namespace: 'prod', name: 'web', objectMetadata: deployment.metadata });
    expect(matchSubjectFromObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prod' } }).kind).toEqual(NAMESPACE);
  });

  it('makes the object the old object on DELETE', () => {
    const subject = matchSubjectFromObject(deployment, 'DELETE');
    expect(subject).toEqual({ kind: DEPLOYMENT, operation: 'DELETE', namespace: 'prod', name: 'web', oldObjectMetadata: deployment.metadata });
    expect(matched({ labelSelector: { matchLabels: { app: 'web' } } }, subject)).toEqual(yes);
  });

  it('reads an admission request’s objects, counting an object without metadata as {}', () => {
    const request = {
      uid: 'u',
      kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      resource: { group: 'apps', version: 'v1', resource: 'deployments' },
      namespace: 'prod',
      name: 'web',
      operation: 'UPDATE',
      userInfo: {},
      object: { metadata: { name: 'web', labels: {} } },
      oldObject: { spec: {} },
    } satisfies AdmissionRequest;
    expect(matchSubjectFromRequest(request)).toEqual({
      kind: DEPLOYMENT,
      operation: 'UPDATE',
      namespace: 'prod',
      name: 'web',
      objectMetadata: { name: 'web', labels: {} },
      oldObjectMetadata: {},
    });
  });
});

// Properties: selector laws that hold for Kubernetes' semantics, on random labels and selectors.
const KEYS = ['a', 'b', 'c', 'example.com/d'];
const VALUES = ['', 'x', 'y', 'z'];
const labelsArb = fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), { maxKeys: 4 });
const valuesArb = fc.uniqueArray(fc.constantFrom(...VALUES), { minLength: 1, maxLength: 3 });
const requirementArb: fc.Arbitrary<LabelSelectorRequirement> = fc.oneof(
  fc.record({ key: fc.constantFrom(...KEYS), operator: fc.constantFrom('In' as const, 'NotIn' as const), values: valuesArb }),
  fc.record({ key: fc.constantFrom(...KEYS), operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const) }),
);
const selectorArb: fc.Arbitrary<LabelSelector> = fc.record(
  { matchLabels: fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), { maxKeys: 2 }), matchExpressions: fc.array(requirementArb, { maxLength: 3 }) },
  { requiredKeys: [] },
);

/** The reference: a requirement read straight from its definition in the Kubernetes API docs. */
function reference(r: LabelSelectorRequirement, labels: Record<string, string>): boolean {
  const value = KEYS.includes(r.key) && r.key in labels ? labels[r.key] : undefined;
  if (r.operator === 'Exists') return value !== undefined;
  if (r.operator === 'DoesNotExist') return value === undefined;
  const inSet = value !== undefined && (r.values ?? []).includes(value);
  return r.operator === 'In' ? inSet : !inSet;
}

describe('matchLabelSelector properties', () => {
  it('is the conjunction of its requirements, each as the API documents it', () => {
    fc.assert(
      fc.property(selectorArb, labelsArb, (selector, labels) => {
        const want =
          Object.entries(selector.matchLabels ?? {}).every(([k, v]) => reference({ key: k, operator: 'In', values: [v] }, labels)) &&
          (selector.matchExpressions ?? []).every((r) => reference(r, labels));
        expect(matchLabelSelector(selector, labels)).toBe(want);
      }),
    );
  });

  it('NotIn is the negation of In, DoesNotExist of Exists; matchLabels is In of one value', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KEYS), valuesArb, labelsArb, (key, values, labels) => {
        const m = (r: LabelSelectorRequirement) => matchLabelSelector({ matchExpressions: [r] }, labels);
        expect(m({ key, operator: 'NotIn', values })).toBe(!m({ key, operator: 'In', values }));
        expect(m({ key, operator: 'DoesNotExist' })).toBe(!m({ key, operator: 'Exists' }));
        expect(matchLabelSelector({ matchLabels: { [key]: values[0] as string } }, labels)).toBe(m({ key, operator: 'In', values: [values[0] as string] }));
      }),
    );
  });

  it('on UPDATE, matches exactly when the new object alone or the old object alone matches', () => {
    fc.assert(
      fc.property(selectorArb, labelsArb, labelsArb, (selector, oldLabels, newLabels) => {
        const one = (labels: Record<string, string>) => matched({ labelSelector: selector }, pod('prod', 'p', labels));
        const both: MatchSubject = { ...pod('prod', 'p', newLabels), operation: 'UPDATE', oldObjectMetadata: { name: 'p', namespace: 'prod', labels: oldLabels } };
        expect(matched({ labelSelector: selector }, both)).toEqual({ matched: (one(newLabels) as { matched: boolean }).matched || (one(oldLabels) as { matched: boolean }).matched });
      }),
    );
  });
});

describe('wildcard properties', () => {
  const pattern = fc.tuple(fc.boolean(), fc.stringMatching(/^[-:a-z0-9]{0,4}$/), fc.boolean()).map(([front, core, end]) => `${front ? '*' : ''}${core}${end ? '*' : ''}`);
  const candidate = fc.stringMatching(/^[-:a-z0-9]{0,6}$/);
  const toRegExp = (p: string) => new RegExp(`^${p.replace(/[-:]/g, (c) => `\\${c}`).replace(/\*/g, '.*')}$`);

  it('Matches is the glob read as a regular expression with * for any run of characters', () => {
    fc.assert(fc.property(pattern, candidate, (p, c) => wildcardMatches(p, c) === toRegExp(p).test(c)));
  });

  it('MatchesGenerateName is Matches for a glob ending in *, and never holds for any other pattern', () => {
    fc.assert(fc.property(pattern, candidate, (p, c) => wildcardMatchesGenerateName(p, c) === (p.endsWith('*') && wildcardMatches(p, c))));
  });
});
