import { describe, expect, it } from 'vitest';
import { checkReview } from '../admission/decode.js';
import type { AdmissionResponse } from '../admission/types.js';
import { canonicalJson, checkExpectation, completeReview, parseFixture, resourceFor, type FixtureExpectation } from './fixtures.js';
import { thrown } from '../../test/support/thrown.js';

type Json = Record<string, unknown>;


const requestOf = (review: Json): Json => review.request as Json;

describe('resourceFor: from the table of built-in kinds, never guessed', () => {
  it.each([
    { kind: 'Pod', group: '', sub: '', resource: 'pods' },
    { kind: 'Deployment', group: 'apps', sub: '', resource: 'deployments' },
    { kind: 'ConfigMap', group: '', sub: '', resource: 'configmaps' },
    { kind: 'StorageClass', group: 'storage.k8s.io', sub: '', resource: 'storageclasses' },
    { kind: 'Ingress', group: 'networking.k8s.io', sub: '', resource: 'ingresses' },
    { kind: 'NetworkPolicy', group: 'networking.k8s.io', sub: '', resource: 'networkpolicies' },
    // The kinds the old "add s or es" guess got wrong or could not know.
    { kind: 'Endpoints', group: '', sub: '', resource: 'endpoints' },
    { kind: 'PriorityClass', group: 'scheduling.k8s.io', sub: '', resource: 'priorityclasses' },
    // A subresource request carries another kind: its resource is the parent's.
    { kind: 'Eviction', group: 'policy', sub: 'eviction', resource: 'pods' },
    { kind: 'TokenRequest', group: 'authentication.k8s.io', sub: 'token', resource: 'serviceaccounts' },
    { kind: 'Pod', group: '', sub: 'ephemeralcontainers', resource: 'pods' },
  ])('$group/$kind $sub → $resource', ({ kind, group, sub, resource }) => {
    expect(resourceFor({ group, kind }, sub)?.resource).toBe(resource);
  });

  it.each([
    { name: 'a kind in the wrong group', kind: 'Deployment', group: '', sub: '' },
    { name: 'a custom kind', kind: 'Widget', group: 'example.com', sub: '' },
    { name: 'a subresource kind shared by several resources (Scale)', kind: 'Scale', group: 'autoscaling', sub: 'scale' },
  ])('$name has no single resource', ({ kind, group, sub }) => {
    expect(resourceFor({ group, kind }, sub)).toBeUndefined();
  });

  it('a fixture for a kind with no single built-in resource must name its resource', () => {
    const widget = { kind: { group: 'example.com', version: 'v1', kind: 'Widget' }, operation: 'CREATE', object: { metadata: { name: 'w' } } };
    expect(thrown(() => completeReview('f.yaml', widget))).toMatchObject({ code: 'POLICY_SOURCE_INVALID', message: expect.stringContaining('request.resource is needed') });
    const named = completeReview('f.yaml', { ...widget, resource: { group: 'example.com', version: 'v1', resource: 'widgets' } });
    expect(requestOf(named).resource).toEqual({ group: 'example.com', version: 'v1', resource: 'widgets' });
  });
});

describe('completeReview', () => {
  const pod = { metadata: { name: 'web', namespace: 'team-a' }, spec: {} };

  it('fills in what the API server would send', () => {
    const review = completeReview('f.yaml', { kind: { version: 'v1', kind: 'Pod' }, operation: 'CREATE', object: pod });
    expect(review).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' });
    const request = requestOf(review);
    expect(request).toMatchObject({
      kind: { group: '', version: 'v1', kind: 'Pod' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      userInfo: { username: 'fixture-user', groups: ['system:authenticated'] },
      name: 'web',
      namespace: 'team-a',
      operation: 'CREATE',
      object: pod,
      oldObject: null,
      dryRun: false,
    });
    expect(request.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(checkReview(review).request.uid).toBe(request.uid);
  });

  it('gives every review its own uid', () => {
    const req = { kind: { version: 'v1', kind: 'Pod' }, operation: 'CREATE' };
    expect(requestOf(completeReview('f', req)).uid).not.toBe(requestOf(completeReview('f', req)).uid);
  });

  it.each<{ name: string; request: Json; expected: Json }>([
    {
      name: 'a grouped kind',
      request: { kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, operation: 'CREATE' },
      expected: { kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, resource: { group: 'apps', version: 'v1', resource: 'deployments' } },
    },
    {
      name: 'name and namespace from oldObject on DELETE',
      request: { kind: { version: 'v1', kind: 'Pod' }, operation: 'DELETE', oldObject: pod },
      expected: { name: 'web', namespace: 'team-a', object: null, oldObject: pod },
    },
    {
      name: 'request.namespace when the object has none',
      request: { kind: { version: 'v1', kind: 'Pod' }, operation: 'CREATE', namespace: 'team-b', object: { metadata: { name: 'x' } } },
      expected: { name: 'x', namespace: 'team-b' },
    },
    {
      name: 'explicit fields win over the defaults',
      request: {
        kind: { version: 'v1', kind: 'Pod' },
        operation: 'UPDATE',
        uid: 'fixed',
        userInfo: { username: 'bob' },
        resource: { group: '', version: 'v1', resource: 'pods' },
        subResource: 'ephemeralcontainers',
        dryRun: true,
        object: pod,
      },
      expected: { uid: 'fixed', userInfo: { username: 'bob' }, subResource: 'ephemeralcontainers', dryRun: true },
    },
  ])('$name', ({ request, expected }) => {
    expect(requestOf(completeReview('f.yaml', request))).toMatchObject(expected);
  });

  it.each<{ name: string; request: Json }>([
    { name: 'no kind', request: { operation: 'CREATE' } },
    { name: 'a kind without version', request: { kind: { kind: 'Pod' } } },
    { name: 'a kind without kind', request: { kind: { version: 'v1' } } },
  ])('rejects $name', ({ request }) => {
    const err = thrown(() => completeReview('p/fixtures/a.yaml', request));
    expect(err.code).toBe('POLICY_SOURCE_INVALID');
    expect(err.message).toBe('p/fixtures/a.yaml: request.kind needs kind and version');
  });
});

describe('parseFixture', () => {
  const valid = ['name: denies privileged', 'request:', '  kind: {version: v1, kind: Pod}', '  operation: CREATE', 'expect:', '  allowed: false', '  messages: [privileged]'].join('\n');

  it('parses a validate fixture', () => {
    const fixture = parseFixture('a.yaml', valid);
    expect(fixture).toMatchObject({ file: 'a.yaml', name: 'denies privileged', endpoint: 'validate', expect: { allowed: false, messages: ['privileged'] } });
    expect(checkReview(fixture.review).request.kind).toEqual({ group: '', version: 'v1', kind: 'Pod' });
  });

  it.each([
    { name: 'endpoint mutate', text: `endpoint: mutate\n${valid}`, expected: { endpoint: 'mutate', name: 'denies privileged' } },
    { name: 'a missing name defaults to the file', text: valid.replace('name: denies privileged\n', ''), expected: { endpoint: 'validate', name: 'a.yaml' } },
  ])('$name', ({ text, expected }) => {
    expect(parseFixture('a.yaml', text)).toMatchObject(expected);
  });

  it.each([
    { name: 'invalid YAML', text: 'request: [unclosed', message: 'a.yaml: not valid YAML' },
    { name: 'an empty file', text: '', message: 'a.yaml: a fixture is a YAML mapping' },
    { name: 'a scalar', text: 'just text', message: 'a.yaml: a fixture is a YAML mapping' },
    { name: 'an unknown endpoint', text: `endpoint: audit\n${valid}`, message: 'a.yaml: endpoint must be validate or mutate' },
    { name: 'no request', text: 'expect: {allowed: true}', message: 'a.yaml: request is required' },
    { name: 'no expect', text: 'request: {kind: {version: v1, kind: Pod}}', message: 'a.yaml: expect is required' },
    { name: 'a request kind without version', text: 'request: {kind: {kind: Pod}}\nexpect: {}', message: 'a.yaml: request.kind needs kind and version' },
  ])('rejects $name with POLICY_SOURCE_INVALID', ({ text, message }) => {
    const err = thrown(() => parseFixture('a.yaml', text));
    expect(err.code).toBe('POLICY_SOURCE_INVALID');
    expect(err.message).toContain(message);
  });
});

describe('canonicalJson', () => {
  it.each<{ name: string; value: unknown; expected: string }>([
    { name: 'a string', value: 'a"b', expected: '"a\\"b"' },
    { name: 'a number', value: 1.5, expected: '1.5' },
    { name: 'null', value: null, expected: 'null' },
    { name: 'keys sorted', value: { b: 1, a: 2 }, expected: '{"a":2,"b":1}' },
    { name: 'nested keys sorted', value: { z: { y: 1, x: [{ d: 1, c: 2 }] } }, expected: '{"z":{"x":[{"c":2,"d":1}],"y":1}}' },
    { name: 'array order kept', value: [3, 1, 2], expected: '[3,1,2]' },
  ])('$name', ({ value, expected }) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it('gives equal values the same text whatever their key order', () => {
    expect(canonicalJson({ op: 'add', path: '/a', value: { x: 1, y: 2 } })).toBe(canonicalJson({ value: { y: 2, x: 1 }, path: '/a', op: 'add' }));
  });
});

describe('checkExpectation', () => {
  const encode = (patch: unknown): string => Buffer.from(JSON.stringify(patch)).toString('base64');
  const denied: AdmissionResponse = {
    uid: 'u',
    allowed: false,
    status: { code: 403, message: 'bouncer denied the request: [p] container "app" is privileged' },
    warnings: ['[w] image uses latest'],
    auditAnnotations: { decision: 'denied', 'denied-by': 'p,q' },
  };
  const mutated: AdmissionResponse = {
    uid: 'u',
    allowed: true,
    patch: encode([
      { op: 'add', path: '/a', value: { x: 1, y: 2 } },
      { op: 'add', path: '/b', value: 2 },
    ]),
    patchType: 'JSONPatch',
  };

  it.each<{ name: string; expect: FixtureExpectation; response: AdmissionResponse; problems: string[] }>([
    { name: 'an empty expectation', expect: {}, response: denied, problems: [] },
    { name: 'everything as expected', expect: { allowed: false, messages: ['privileged'], warnings: ['latest'], annotations: { 'denied-by': 'p' } }, response: denied, problems: [] },
    { name: 'allowed differs', expect: { allowed: true }, response: denied, problems: [`expected allowed=true, got allowed=false (${denied.status?.message})`] },
    { name: 'allowed differs without a status', expect: { allowed: false }, response: mutated, problems: ['expected allowed=false, got allowed=true'] },
    { name: 'a missing message', expect: { messages: ['hostPath'] }, response: denied, problems: [`denial message lacks "hostPath": ${JSON.stringify(denied.status?.message)}`] },
    { name: 'a missing warning', expect: { warnings: ['nope'] }, response: denied, problems: ['no warning contains "nope": ["[w] image uses latest"]'] },
    { name: 'a missing annotation', expect: { annotations: { 'warned-by': 'w' } }, response: denied, problems: ['audit annotation warned-by is undefined, expected it to contain "w"'] },
    { name: 'an annotation without the text', expect: { annotations: { 'denied-by': 'z' } }, response: denied, problems: ['audit annotation denied-by is "p,q", expected it to contain "z"'] },
    {
      name: 'the same patch in another order',
      expect: { patch: [{ op: 'add', path: '/b', value: 2 }, { op: 'add', path: '/a', value: { y: 2, x: 1 } }] },
      response: mutated,
      problems: [],
    },
    { name: 'no patch expected and none sent', expect: { patch: [] }, response: denied, problems: [] },
  ])('$name', ({ expect: want, response, problems }) => {
    expect(checkExpectation(want, response)).toEqual(problems);
  });

  it.each<{ name: string; patch: FixtureExpectation['patch'] }>([
    { name: 'a different value', patch: [{ op: 'add', path: '/a', value: { x: 1, y: 3 } }, { op: 'add', path: '/b', value: 2 }] },
    { name: 'a missing operation', patch: [{ op: 'add', path: '/b', value: 2 }] },
    { name: 'an extra operation', patch: [{ op: 'add', path: '/a', value: { x: 1, y: 2 } }, { op: 'add', path: '/b', value: 2 }, { op: 'remove', path: '/c' }] },
  ])('reports a patch with $name', ({ patch }) => {
    const problems = checkExpectation({ patch }, mutated);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^patch differs: expected /);
  });

  it('reports every problem at once', () => {
    expect(checkExpectation({ allowed: true, messages: ['x'], warnings: ['y'], patch: [{ op: 'remove', path: '/a' }] }, denied)).toHaveLength(4);
  });
});
