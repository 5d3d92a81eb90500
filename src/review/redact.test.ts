import { describe, expect, it } from 'vitest';
import { deepChain, deepChainLeaf, jsonDepth, KUBERNETES_MAX_JSON_DEPTH } from '../../test/support/deep.js';
import { LAST_APPLIED, MASK, redactInput } from './redact.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const lastApplied = (o: unknown) => ({ [LAST_APPLIED]: JSON.stringify(o) });

const secret = (extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 's', namespace: 'n', ...extra },
  data: { password: b64('hunter2-secret') },
});

const pod = (annotations?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', ...(annotations ? { annotations } : {}) },
  spec: { containers: [{ name: 'app', image: 'nginx', env: [{ name: 'TOKEN', value: 'pod-env-t0ken' }, { name: 'FLAG', value: 'true' }] }] },
});

type Case = {
  name: string;
  object: unknown;
  oldObject?: unknown;
  pointers?: string[];
  /** Strings that must appear nowhere in the masked input. */
  hidden: string[];
  masked: string[];
  /** Strings that must still be there. */
  kept?: string[];
};

describe('redactInput', () => {
  it.each<Case>([
    {
      name: 'Secret data and stringData values',
      object: { kind: 'Secret', metadata: { name: 's' }, data: { password: 'aHVudGVyMg==' }, stringData: { 'a/b': 'plain-x' } },
      hidden: ['aHVudGVyMg==', 'plain-x'],
      masked: ['/object/data/password', '/object/stringData/a~1b'],
      kept: ['"name":"s"'],
    },
    {
      name: 'env values at any depth, keeping valueFrom',
      object: {
        kind: 'Deployment',
        spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'TOKEN', value: 't0p' }, { name: 'REF', valueFrom: { secretKeyRef: { name: 'x', key: 'y' } } }] }] } } },
      },
      hidden: ['t0p'],
      masked: ['/object/spec/template/spec/containers/0/env/0/value'],
      kept: ['secretKeyRef'],
    },
    {
      name: 'configured pointers that exist, in object and oldObject',
      object: { kind: 'ConfigMap', data: { token: 'abc', other: 'ok' } },
      oldObject: { kind: 'ConfigMap', data: { token: 'old-abc' } },
      pointers: ['/data/token', '/data/missing', '/data/token/deeper', '/nothing/at/all'],
      hidden: ['abc'],
      masked: ['/object/data/token', '/oldObject/data/token'],
      kept: ['"other":"ok"'],
    },
    {
      name: "kubectl's last-applied copy of a Secret (data)",
      object: { ...secret(), metadata: { name: 's', annotations: lastApplied(secret()) } },
      hidden: [b64('hunter2-secret'), 'hunter2-secret'],
      masked: ['/object/data/password', `/object/metadata/annotations/${LAST_APPLIED.replace('/', '~1')}`],
    },
    {
      name: "kubectl's last-applied copy of a Secret written with stringData",
      object: { ...secret(), metadata: { name: 's', annotations: lastApplied({ kind: 'Secret', metadata: { name: 's' }, stringData: { password: 'hunter2-secret' } }) } },
      hidden: ['hunter2-secret'],
      masked: ['/object/data/password', `/object/metadata/annotations/${LAST_APPLIED.replace('/', '~1')}`],
    },
    {
      name: "kubectl's last-applied copy of a Pod's env values",
      object: pod(lastApplied(pod())),
      hidden: ['pod-env-t0ken'],
      masked: ['/object/spec/containers/0/env/0/value', '/object/spec/containers/0/env/1/value', `/object/metadata/annotations/${LAST_APPLIED.replace('/', '~1')}`],
    },
    {
      name: 'the last-applied copies in oldObject too (an update by kubectl apply)',
      object: { ...secret(), metadata: { name: 's', annotations: lastApplied(secret()) } },
      oldObject: { ...secret(), data: { password: b64('old-hunter2') }, metadata: { name: 's', annotations: lastApplied({ ...secret(), data: { password: b64('old-hunter2') } }) } },
      hidden: [b64('hunter2-secret'), b64('old-hunter2'), 'old-hunter2'],
      masked: [
        '/object/data/password',
        '/oldObject/data/password',
        `/object/metadata/annotations/${LAST_APPLIED.replace('/', '~1')}`,
        `/oldObject/metadata/annotations/${LAST_APPLIED.replace('/', '~1')}`,
      ],
    },
    {
      name: 'a last-applied copy of a ConfigMap is not secret and is kept',
      object: { kind: 'ConfigMap', metadata: { name: 'c', annotations: lastApplied({ kind: 'ConfigMap', data: { color: 'blue-green' } }) }, data: { color: 'blue-green' } },
      hidden: [],
      masked: [],
      kept: ['blue-green', LAST_APPLIED],
    },
    {
      name: 'a last-applied copy of a ConfigMap holding a configured pointer',
      object: { kind: 'ConfigMap', metadata: { name: 'c', annotations: lastApplied({ kind: 'ConfigMap', data: { token: 'cm-t0ken' } }) }, data: { token: 'cm-t0ken' } },
      pointers: ['/data/token'],
      hidden: ['cm-t0ken'],
      masked: ['/object/data/token', `/object/metadata/annotations/${LAST_APPLIED.replace('/', '~1')}`],
    },
    {
      name: 'a last-applied annotation that does not parse',
      object: { kind: 'ConfigMap', metadata: { name: 'c', annotations: { [LAST_APPLIED]: 'kind: Secret\nstringData: {password: yaml-hunter2}' } } },
      hidden: ['yaml-hunter2'],
      masked: [`/object/metadata/annotations/${LAST_APPLIED.replace('/', '~1')}`],
    },
    {
      name: "another tool's JSON copy of the object (kapp's original)",
      object: pod({ 'kapp.k14s.io/original': JSON.stringify(pod()) }),
      hidden: ['pod-env-t0ken'],
      masked: ['/object/spec/containers/0/env/0/value', '/object/spec/containers/0/env/1/value', '/object/metadata/annotations/kapp.k14s.io~1original'],
    },
    {
      name: 'an annotation quoting a masked value, as is or JSON-escaped',
      object: {
        ...pod({ 'example.com/raw': 'TOKEN=pod-env-t0ken', 'example.com/escaped': 'token: "q\\"uote-secret"' }),
        spec: { containers: [{ name: 'app', env: [{ name: 'TOKEN', value: 'pod-env-t0ken' }, { name: 'Q', value: 'q"uote-secret' }] }] },
      },
      hidden: ['pod-env-t0ken', 'uote-secret'],
      masked: ['/object/spec/containers/0/env/0/value', '/object/spec/containers/0/env/1/value', '/object/metadata/annotations/example.com~1raw', '/object/metadata/annotations/example.com~1escaped'],
    },
    {
      name: "an annotation quoting a Secret's decoded value",
      object: secret({ annotations: { 'example.com/note': 'password is hunter2-secret' } }),
      hidden: ['hunter2-secret'],
      masked: ['/object/data/password', '/object/metadata/annotations/example.com~1note'],
    },
    {
      name: 'an annotation sharing only a short, common value is kept',
      object: pod({ 'sidecar.istio.io/inject': 'true' }),
      hidden: ['pod-env-t0ken'],
      masked: ['/object/spec/containers/0/env/0/value', '/object/spec/containers/0/env/1/value'],
      kept: ['"sidecar.istio.io/inject":"true"'],
    },
    {
      name: 'a Secret embedded in another object (a list, a template)',
      object: { kind: 'List', items: [secret()], spec: { template: { kind: 'Secret', stringData: { key: 'tmpl-secret' } } } },
      hidden: [b64('hunter2-secret'), 'tmpl-secret'],
      masked: ['/object/items/0/data/password', '/object/spec/template/stringData/key'],
    },
    {
      name: 'TokenReview spec.token and TokenRequest status.token',
      object: { kind: 'TokenReview', spec: { token: 'bearer-t0ken' } },
      oldObject: { kind: 'TokenRequest', spec: { audiences: ['api'] }, status: { token: 'issued-t0ken' } },
      hidden: ['bearer-t0ken', 'issued-t0ken'],
      masked: ['/object/spec/token', '/oldObject/status/token'],
    },
    {
      name: 'managedFields hold field names only and are kept',
      object: { ...secret(), metadata: { name: 's', managedFields: [{ manager: 'kubectl', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { '.': {}, 'f:password': {} } } }] } },
      hidden: [b64('hunter2-secret')],
      masked: ['/object/data/password'],
      kept: ['f:password'],
    },
  ])('masks $name', ({ object, oldObject, pointers, hidden, masked, kept }) => {
    const input = { object, oldObject: oldObject ?? null };
    const before = JSON.stringify(input);
    const result = redactInput(input, pointers);
    const text = JSON.stringify(result.value);
    for (const h of hidden) expect(text).not.toContain(h);
    for (const k of kept ?? []) expect(text).toContain(k);
    expect([...result.masked].sort()).toEqual([...masked].sort());
    for (const pointer of result.masked) expect(pointerValue(result.value, pointer)).toBe(MASK);
    expect(JSON.stringify(input)).toBe(before);
  });

  it('masks an object as deep as the API server accepts, without overflowing the stack', () => {
    // The object's own braces are level 1, the chain starts at spec (2), the env list and its entry are the last two.
    const levels = KUBERNETES_MAX_JSON_DEPTH - 3;
    const object = { kind: 'Thing', metadata: { name: 't', annotations: { [LAST_APPLIED]: '{}' } }, spec: deepChain(levels, { env: [{ name: 'X', value: 'deep-secret' }] }) };
    const text = JSON.stringify({ ...object, spec: '' }).replace('""', `${'{"a":'.repeat(levels - 1)}{"env":[{"name":"X","value":"deep-secret"}]}${'}'.repeat(levels - 1)}`);
    expect(jsonDepth(text)).toBe(KUBERNETES_MAX_JSON_DEPTH);
    expect(JSON.parse(text)).toBeTypeOf('object');
    const result = redactInput({ object, oldObject: object });
    expect(deepChainLeaf((result.value.object as typeof object).spec)).toEqual({ env: [{ name: 'X', value: MASK }] });
    expect(result.masked).toHaveLength(2);
    expect(result.masked[0]).toBe(`/object/spec${'/a'.repeat(levels - 1)}/env/0/value`);
    expect(deepChainLeaf(object.spec)).toEqual({ env: [{ name: 'X', value: 'deep-secret' }] });
  });

  it('masks inside a deep last-applied copy', () => {
    const text = `{"kind":"Thing","spec":${'{"a":'.repeat(KUBERNETES_MAX_JSON_DEPTH - 4)}{"env":[{"name":"X","value":"deep-secret"}]}${'}'.repeat(KUBERNETES_MAX_JSON_DEPTH - 4)}}`;
    expect(jsonDepth(text)).toBe(KUBERNETES_MAX_JSON_DEPTH);
    const result = redactInput({ object: { kind: 'Thing', metadata: { annotations: { [LAST_APPLIED]: text } } }, oldObject: null });
    expect(result.masked).toEqual([`/object/metadata/annotations/${LAST_APPLIED.replace('/', '~1')}`]);
  });

  it('keeps members named like Object.prototype properties as data', () => {
    const object = JSON.parse('{"kind":"Secret","data":{"__proto__":"cHJvdG8tc2VjcmV0","constructor":"Y3RvcnNlY3JldA=="}}') as unknown;
    const result = redactInput({ object, oldObject: null });
    expect(JSON.stringify(result.value)).toBe(`{"object":{"kind":"Secret","data":{"__proto__":"${MASK}","constructor":"${MASK}"}},"oldObject":null}`);
    expect(Object.getPrototypeOf((result.value.object as { data: object }).data)).toBe(Object.prototype);
  });
});

/** The value at a pointer, read without recursion. */
function pointerValue(document: unknown, pointer: string): unknown {
  let node = document as Record<string, unknown>;
  for (const token of pointer.slice(1).split('/')) node = node[token.replace(/~1/g, '/').replace(/~0/g, '~')] as Record<string, unknown>;
  return node;
}
