import { describe, expect, it } from 'vitest';
import { formatKind, parseKind, parsePolicyMetadata, serializePolicyMetadata, type KindMatcher } from './policy-metadata.js';
import { thrown } from '../../test/support/thrown.js';

type Json = Record<string, unknown>;

const minimal = (over: Json = {}): Json => ({
  id: 'disallow-privileged',
  package: 'policies.disallow_privileged',
  entrypoints: { validate: 'policies/disallow_privileged/validate' },
  ...over,
});


describe('parseKind / formatKind', () => {
  it.each<{ text: string; kind: KindMatcher }>([
    { text: 'Pod', kind: { group: '', kind: 'Pod' } },
    { text: 'apps/Deployment', kind: { group: 'apps', kind: 'Deployment' } },
    { text: 'networking.k8s.io/Ingress', kind: { group: 'networking.k8s.io', kind: 'Ingress' } },
    { text: 'apps/*', kind: { group: 'apps', kind: '*' } },
    { text: '*/Deployment', kind: { group: '*', kind: 'Deployment' } },
    { text: '*', kind: { group: '*', kind: '*' } },
  ])('parseKind($text)', ({ text, kind }) => {
    expect(parseKind(text)).toEqual(kind);
  });

  it.each<{ kind: KindMatcher; text: string }>([
    { kind: { group: '', kind: 'Pod' }, text: 'Pod' },
    { kind: { group: 'apps', kind: 'Deployment' }, text: 'apps/Deployment' },
    { kind: { group: '*', kind: '*' }, text: '*/*' },
    { kind: { group: 'apps', kind: '*' }, text: 'apps/*' },
  ])('formatKind → $text and back', ({ kind, text }) => {
    expect(formatKind(kind)).toBe(text);
    expect(parseKind(formatKind(kind))).toEqual(kind);
  });
});

describe('parsePolicyMetadata', () => {
  it('applies the documented defaults', () => {
    expect(parsePolicyMetadata(minimal())).toEqual({
      id: 'disallow-privileged',
      package: 'policies.disallow_privileged',
      title: 'disallow-privileged',
      description: '',
      enforcement: 'deny',
      failure: 'fail-closed',
      scope: {
        kinds: [{ group: '*', kind: '*' }],
        operations: ['CREATE', 'UPDATE'],
        subresources: [''],
        namespaces: {},
      },
      entrypoints: { validate: 'policies/disallow_privileged/validate' },
    });
  });

  it('maps every explicit field', () => {
    const meta = parsePolicyMetadata(
      minimal({
        title: 'No privileged containers',
        description: 'Denies privileged pods.',
        enforcement: 'warn',
        failure: 'fail-open',
        entrypoints: { validate: 'policies/p/validate', mutate: 'policies/p/mutate' },
        scope: {
          kinds: ['Pod', 'apps/Deployment'],
          operations: ['CREATE', 'DELETE'],
          subresources: ['', 'ephemeralcontainers'],
          namespaces: { include: ['team-a'], exclude: ['kube-system'] },
        },
      }),
    );
    expect(meta).toMatchObject({
      title: 'No privileged containers',
      description: 'Denies privileged pods.',
      enforcement: 'warn',
      failure: 'fail-open',
      entrypoints: { validate: 'policies/p/validate', mutate: 'policies/p/mutate' },
      scope: {
        kinds: [
          { group: '', kind: 'Pod' },
          { group: 'apps', kind: 'Deployment' },
        ],
        operations: ['CREATE', 'DELETE'],
        subresources: ['', 'ephemeralcontainers'],
        namespaces: { include: ['team-a'], exclude: ['kube-system'] },
      },
    });
  });

  it.each([
    { name: 'operations *', operations: ['*'], expected: ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] },
    { name: 'operations * with others', operations: ['CREATE', '*'], expected: ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] },
    { name: 'a single operation', operations: ['CONNECT'], expected: ['CONNECT'] },
    { name: 'operations null', operations: null, expected: ['CREATE', 'UPDATE'] },
  ])('scope.operations: $name', ({ operations, expected }) => {
    expect(parsePolicyMetadata(minimal({ scope: { operations } })).scope.operations).toEqual(expected);
  });

  it('accepts a mutate-only policy and ignores non-string entrypoints', () => {
    const meta = parsePolicyMetadata(minimal({ entrypoints: { validate: 3, mutate: 'policies/p/mutate' } }));
    expect(meta.entrypoints).toEqual({ mutate: 'policies/p/mutate' });
  });

  it.each<{ name: string; raw: unknown; message: string }>([
    { name: 'null', raw: null, message: 'policy ?: metadata entry must be an object' },
    { name: 'an array', raw: [minimal()], message: 'metadata entry must be an object' },
    { name: 'a missing id', raw: minimal({ id: undefined }), message: 'policy ?: id must be a DNS label' },
    { name: 'an id with capitals', raw: minimal({ id: 'Bad-Id' }), message: 'id must be a DNS label' },
    { name: 'an id with underscores', raw: minimal({ id: 'bad_id' }), message: 'id must be a DNS label' },
    { name: 'an id starting with -', raw: minimal({ id: '-bad' }), message: 'id must be a DNS label' },
    { name: 'an id of 64 characters', raw: minimal({ id: 'a'.repeat(64) }), message: 'id must be a DNS label' },
    { name: 'a missing package', raw: minimal({ package: undefined }), message: 'package must be a dotted Rego package path' },
    { name: 'a package with slashes', raw: minimal({ package: 'policies/p' }), message: 'package must be' },
    { name: 'a package starting with a digit', raw: minimal({ package: '1policies.p' }), message: 'package must be' },
    { name: 'a package with an empty segment', raw: minimal({ package: 'policies..p' }), message: 'package must be' },
    { name: 'an unknown enforcement', raw: minimal({ enforcement: 'block' }), message: 'enforcement must be one of deny, warn, dryrun' },
    { name: 'a numeric enforcement', raw: minimal({ enforcement: 1 }), message: 'enforcement must be one of' },
    { name: 'an unknown failure mode', raw: minimal({ failure: 'ignore' }), message: 'failure must be one of fail-closed, fail-open' },
    { name: 'operations as a string', raw: minimal({ scope: { operations: 'CREATE' } }), message: 'scope.operations must be a list of strings' },
    { name: 'an unknown operation', raw: minimal({ scope: { operations: ['PATCH'] } }), message: 'unknown operation PATCH' },
    { name: 'a lowercase operation', raw: minimal({ scope: { operations: ['create'] } }), message: 'unknown operation create' },
    { name: 'kinds as a string', raw: minimal({ scope: { kinds: 'Pod' } }), message: 'scope.kinds must be a list' },
    { name: 'kinds with a number', raw: minimal({ scope: { kinds: ['Pod', 1] } }), message: 'each of scope.kinds is "group/Kind" or {kind: "group/Kind", resource: "plural"}' },
    { name: 'a kind object without kind', raw: minimal({ scope: { kinds: [{ resource: 'cacti' }] } }), message: 'each of scope.kinds is' },
    { name: 'a resource that is not a resource name', raw: minimal({ scope: { kinds: [{ kind: 'example.com/Cactus', resource: 'Cacti' }] } }), message: 'resource must be a lowercase resource name' },
    { name: 'a resource on a wildcard kind', raw: minimal({ scope: { kinds: [{ kind: 'example.com/*', resource: 'cacti' }] } }), message: 'a wildcard kind takes no resource' },
    { name: 'subresources as a string', raw: minimal({ scope: { subresources: 'status' } }), message: 'scope.subresources must be a list of strings' },
    { name: 'namespaces.include as a string', raw: minimal({ scope: { namespaces: { include: 'default' } } }), message: 'scope.namespaces.include must be a list' },
    { name: 'namespaces.exclude with a number', raw: minimal({ scope: { namespaces: { exclude: [1] } } }), message: 'scope.namespaces.exclude must be a list' },
    { name: 'no entrypoints', raw: minimal({ entrypoints: undefined }), message: 'has neither a validate nor a mutate entrypoint' },
    { name: 'empty entrypoints', raw: minimal({ entrypoints: {} }), message: 'has neither a validate nor a mutate entrypoint' },
    { name: 'empty-string entrypoints', raw: minimal({ entrypoints: { validate: '', mutate: '' } }), message: 'has neither' },
  ])('rejects $name with BUNDLE_MANIFEST_INVALID', ({ raw, message }) => {
    const err = thrown(() => parsePolicyMetadata(raw));
    expect(err.code).toBe('BUNDLE_MANIFEST_INVALID');
    expect(err.message).toContain(message);
  });

  it('names the policy in the error', () => {
    expect(thrown(() => parsePolicyMetadata(minimal({ failure: 'nope' }))).message).toMatch(/^policy disallow-privileged: /);
  });
});

describe('serializePolicyMetadata', () => {
  it.each<{ name: string; raw: Json }>([
    { name: 'defaults', raw: minimal() },
    {
      name: 'every field set',
      raw: minimal({
        title: 'T',
        description: 'D',
        enforcement: 'dryrun',
        failure: 'fail-open',
        entrypoints: { mutate: 'policies/p/mutate' },
        scope: {
          kinds: ['Pod', 'apps/*', '*/Deployment', 'networking.k8s.io/Ingress'],
          operations: ['*'],
          subresources: ['*'],
          namespaces: { include: ['a', 'b'], exclude: ['c'] },
        },
      }),
    },
  ])('round-trips $name through the manifest form', ({ raw }) => {
    const meta = parsePolicyMetadata(raw);
    const serialized = JSON.parse(JSON.stringify(serializePolicyMetadata(meta))) as Json;
    expect((serialized.scope as Json).kinds).toEqual(meta.scope.kinds.map(formatKind));
    expect(parsePolicyMetadata(serialized)).toEqual(meta);
  });
});

describe('scope.kinds with resources', () => {
  it('reads {kind, resource} entries beside plain ones and writes them back the same way', () => {
    const meta = parsePolicyMetadata(minimal({ scope: { kinds: ['Pod', { kind: 'example.com/Cactus', resource: 'cacti' }, { kind: 'apps/Deployment' }] } }));
    expect(meta.scope.kinds).toEqual([
      { group: '', kind: 'Pod' },
      { group: 'example.com', kind: 'Cactus', resource: 'cacti' },
      { group: 'apps', kind: 'Deployment' },
    ]);
    const written = serializePolicyMetadata(meta);
    expect((written.scope as Json).kinds).toEqual(['Pod', { kind: 'example.com/Cactus', resource: 'cacti' }, 'apps/Deployment']);
    expect(parsePolicyMetadata(written)).toEqual(meta);
  });
});
