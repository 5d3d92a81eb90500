import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ErrorCode } from '../errors/errors.js';
import { checkReview, decodeReview, parseBody, uidOf } from './decode.js';
import { thrown } from '../../test/support/thrown.js';

type Json = Record<string, unknown>;

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

function baseRequest(): Json {
  return {
    uid: 'uid-1',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    operation: 'CREATE',
    namespace: 'team-a',
    name: 'web',
    userInfo: { username: 'alice', uid: 'u-42', groups: ['system:authenticated'] },
    object: { metadata: { name: 'web' } },
    oldObject: null,
  };
}

/** A review with `req` merged over the valid base request (undefined removes a field). */
function review(req: Json = {}, top: Json = {}): Json {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { ...baseRequest(), ...req }, ...top };
}


describe('parseBody', () => {
  it.each<{ name: string; body: Uint8Array; code: ErrorCode; message: string }>([
    { name: 'empty body', body: new Uint8Array(0), code: 'REVIEW_EMPTY', message: 'empty' },
    { name: 'invalid UTF-8 bytes', body: Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d]), code: 'REVIEW_NOT_JSON', message: 'not valid UTF-8' },
    { name: 'overlong UTF-8 encoding', body: Uint8Array.from([0x22, 0xc0, 0xaf, 0x22]), code: 'REVIEW_NOT_JSON', message: 'not valid UTF-8' },
    { name: 'truncated multi-byte sequence', body: Uint8Array.from([0x22, 0xe2, 0x82, 0x22]), code: 'REVIEW_NOT_JSON', message: 'not valid UTF-8' },
    { name: 'plain text', body: encode('hello'), code: 'REVIEW_NOT_JSON', message: 'not valid JSON' },
    { name: 'truncated JSON', body: encode('{"apiVersion":'), code: 'REVIEW_NOT_JSON', message: 'not valid JSON' },
    { name: 'trailing garbage', body: encode('{} {}'), code: 'REVIEW_NOT_JSON', message: 'not valid JSON' },
  ])('rejects $name with $code', ({ body, code, message }) => {
    const err = thrown(() => parseBody(body));
    expect(err.code).toBe(code);
    expect(err.message).toContain(message);
  });

  it.each([
    { name: 'an object', text: '{"a":[1,"é"]}', value: { a: [1, 'é'] } },
    { name: 'a scalar', text: '42', value: 42 },
    { name: 'null', text: 'null', value: null },
  ])('parses $name', ({ text, value }) => {
    expect(parseBody(encode(text)).value).toEqual(value);
  });
});

describe('uidOf', () => {
  it.each([
    { name: 'a review with a uid', parsed: { request: { uid: 'abc' } }, uid: 'abc' },
    { name: 'an empty uid', parsed: { request: { uid: '' } }, uid: undefined },
    { name: 'a numeric uid', parsed: { request: { uid: 7 } }, uid: undefined },
    { name: 'no request', parsed: { kind: 'AdmissionReview' }, uid: undefined },
    { name: 'a request that is an array', parsed: { request: [{ uid: 'abc' }] }, uid: undefined },
    { name: 'a non-object body', parsed: 'abc', uid: undefined },
    { name: 'null', parsed: null, uid: undefined },
  ])('$name → $uid', ({ parsed, uid }) => {
    expect(uidOf(parsed)).toBe(uid);
  });
});

describe('checkReview rejections', () => {
  it.each<{ name: string; parsed: unknown; code: ErrorCode; uid: string | undefined; message: string }>([
    { name: 'an array body', parsed: [review()], code: 'REVIEW_INVALID', uid: undefined, message: 'JSON object' },
    { name: 'a null body', parsed: null, code: 'REVIEW_INVALID', uid: undefined, message: 'JSON object' },
    { name: 'v1beta1', parsed: review({}, { apiVersion: 'admission.k8s.io/v1beta1' }), code: 'REVIEW_UNSUPPORTED_VERSION', uid: 'uid-1', message: 'admission.k8s.io/v1beta1' },
    { name: 'a missing apiVersion', parsed: review({}, { apiVersion: undefined }), code: 'REVIEW_UNSUPPORTED_VERSION', uid: 'uid-1', message: 'expected apiVersion admission.k8s.io/v1' },
    { name: 'a different kind', parsed: review({}, { kind: 'AdmissionRequest' }), code: 'REVIEW_UNSUPPORTED_VERSION', uid: 'uid-1', message: 'AdmissionRequest' },
    { name: 'v1beta1 without a uid', parsed: review({ uid: undefined }, { apiVersion: 'admission.k8s.io/v1beta1' }), code: 'REVIEW_UNSUPPORTED_VERSION', uid: undefined, message: 'v1beta1' },
    { name: 'no request', parsed: review({}, { request: undefined }), code: 'REVIEW_INVALID', uid: undefined, message: 'request must be an object' },
    { name: 'a request array', parsed: review({}, { request: [] }), code: 'REVIEW_INVALID', uid: undefined, message: 'request must be an object' },
    { name: 'a missing uid', parsed: review({ uid: undefined }), code: 'REVIEW_INVALID', uid: undefined, message: 'request.uid' },
    { name: 'an empty uid', parsed: review({ uid: '' }), code: 'REVIEW_INVALID', uid: undefined, message: 'request.uid' },
    { name: 'a numeric uid', parsed: review({ uid: 12 }), code: 'REVIEW_INVALID', uid: undefined, message: 'request.uid' },
    { name: 'a missing operation', parsed: review({ operation: undefined }), code: 'REVIEW_INVALID', uid: 'uid-1', message: 'request.operation' },
    { name: 'an unknown operation', parsed: review({ operation: 'PATCH' }), code: 'REVIEW_INVALID', uid: 'uid-1', message: 'request.operation' },
    { name: 'a lowercase operation', parsed: review({ operation: 'create' }), code: 'REVIEW_INVALID', uid: 'uid-1', message: 'request.operation' },
    { name: 'a missing kind', parsed: review({ kind: undefined }), code: 'REVIEW_INVALID', uid: 'uid-1', message: 'request.kind' },
    { name: 'an empty kind name', parsed: review({ kind: { group: '', version: 'v1', kind: '' } }), code: 'REVIEW_INVALID', uid: 'uid-1', message: 'request.kind' },
    { name: 'a kind without group', parsed: review({ kind: { version: 'v1', kind: 'Pod' } }), code: 'REVIEW_INVALID', uid: 'uid-1', message: 'request.kind' },
    { name: 'a kind given as a string', parsed: review({ kind: 'Pod' }), code: 'REVIEW_INVALID', uid: 'uid-1', message: 'request.kind' },
    { name: 'a malformed requestKind', parsed: review({ requestKind: { group: '', kind: 'Pod' } }), code: 'REVIEW_INVALID', uid: 'uid-1', message: 'request.requestKind' },
    { name: 'a missing resource', parsed: review({ resource: undefined }), code: 'REVIEW_INVALID', uid: 'uid-1', message: 'request.resource' },
    { name: 'an empty resource name', parsed: review({ resource: { group: '', version: 'v1', resource: '' } }), code: 'REVIEW_INVALID', uid: 'uid-1', message: 'request.resource' },
    { name: 'an object that is a string', parsed: review({ object: '{}' }), code: 'REVIEW_INVALID', uid: 'uid-1', message: 'request.object' },
    { name: 'an object that is an array', parsed: review({ object: [] }), code: 'REVIEW_INVALID', uid: 'uid-1', message: 'request.object' },
    { name: 'an oldObject that is a number', parsed: review({ oldObject: 1 }), code: 'REVIEW_INVALID', uid: 'uid-1', message: 'request.oldObject' },
    { name: 'a userInfo that is a string', parsed: review({ userInfo: 'alice' }), code: 'REVIEW_INVALID', uid: 'uid-1', message: 'request.userInfo' },
    { name: 'userInfo.groups as a string', parsed: review({ userInfo: { groups: 'admins' } }), code: 'REVIEW_INVALID', uid: 'uid-1', message: 'userInfo.groups' },
    { name: 'userInfo.groups with a number', parsed: review({ userInfo: { groups: ['a', 1] } }), code: 'REVIEW_INVALID', uid: 'uid-1', message: 'userInfo.groups' },
    { name: 'dryRun as a string', parsed: review({ dryRun: 'true' }), code: 'REVIEW_INVALID', uid: 'uid-1', message: 'request.dryRun' },
    { name: 'dryRun as a number', parsed: review({ dryRun: 1 }), code: 'REVIEW_INVALID', uid: 'uid-1', message: 'request.dryRun' },
    { name: 'a numeric namespace', parsed: review({ namespace: 5 }), code: 'REVIEW_INVALID', uid: 'uid-1', message: 'request.namespace' },
    { name: 'a numeric subResource', parsed: review({ subResource: 5 }), code: 'REVIEW_INVALID', uid: 'uid-1', message: 'request.subResource' },
  ])('rejects $name with $code', ({ parsed, code, uid, message }) => {
    const err = thrown(() => checkReview(parsed));
    expect(err.code).toBe(code);
    expect(err.message).toContain(message);
    expect(err.details?.uid).toBe(uid);
  });
});

describe('checkReview accepts', () => {
  const pod = { metadata: { name: 'web', namespace: 'team-a' }, spec: {} };
  const user = { username: 'alice', uid: 'u-42', groups: ['system:authenticated'] };
  it.each<{ name: string; req: Json; expected: Json }>([
    {
      name: 'CREATE',
      req: { operation: 'CREATE', object: pod, oldObject: null },
      expected: { operation: 'CREATE', object: pod, oldObject: undefined, dryRun: false },
    },
    {
      name: 'UPDATE with both objects and dryRun',
      req: { operation: 'UPDATE', object: pod, oldObject: { metadata: { name: 'web' } }, dryRun: true },
      expected: { operation: 'UPDATE', object: pod, oldObject: { metadata: { name: 'web' } }, dryRun: true },
    },
    {
      name: 'DELETE (object null, oldObject set)',
      req: { operation: 'DELETE', object: null, oldObject: pod },
      expected: { operation: 'DELETE', object: undefined, oldObject: pod, dryRun: false },
    },
    {
      name: 'CONNECT on a subresource',
      req: { operation: 'CONNECT', subResource: 'exec', object: { kind: 'PodExecOptions', command: ['sh'] } },
      expected: { operation: 'CONNECT', subResource: 'exec', object: { kind: 'PodExecOptions', command: ['sh'] } },
    },
  ])('$name', ({ req, expected }) => {
    const checked = checkReview(review(req));
    expect(checked.apiVersion).toBe('admission.k8s.io/v1');
    expect(checked.kind).toBe('AdmissionReview');
    expect(checked.request).toMatchObject({
      uid: 'uid-1',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'team-a',
      name: 'web',
      userInfo: user,
      ...expected,
    });
    expect(checked.request.object).toEqual(expected.object);
    expect(checked.request.oldObject).toEqual(expected.oldObject);
  });

  it('maps requestKind and keeps only the typed userInfo fields', () => {
    const checked = checkReview(
      review({
        requestKind: { group: 'apps', version: 'v1beta1', kind: 'Deployment' },
        userInfo: { username: 'bob', groups: ['g'], extra: { scopes: ['x'] }, uid: 3 },
      }),
    );
    expect(checked.request.requestKind).toEqual({ group: 'apps', version: 'v1beta1', kind: 'Deployment' });
    expect(checked.request.userInfo).toEqual({ username: 'bob', groups: ['g'] });
  });

  it('treats a missing userInfo as empty and absent optional strings as undefined', () => {
    const checked = checkReview(review({ userInfo: undefined, namespace: null, name: undefined, subResource: undefined, dryRun: null }));
    expect(checked.request.dryRun).toBe(false);
    expect(checked.request.userInfo).toEqual({});
    expect(checked.request.namespace).toBeUndefined();
    expect(checked.request.name).toBeUndefined();
    expect(checked.request.subResource).toBeUndefined();
    expect(checked.request.requestKind).toBeUndefined();
  });
});

describe('decodeReview', () => {
  it('decodes bytes into a checked review', () => {
    const checked = decodeReview(encode(JSON.stringify(review())));
    expect(checked.request.uid).toBe('uid-1');
    expect(checked.request.kind.kind).toBe('Pod');
  });

  it('carries the uid in the details of a rejection it can attribute', () => {
    const err = thrown(() => decodeReview(encode(JSON.stringify(review({ operation: 'PATCH' })))));
    expect(err.code).toBe('REVIEW_INVALID');
    expect(err.details).toEqual({ uid: 'uid-1' });
  });

  it('does not let __proto__ keys pollute Object.prototype', () => {
    const body =
      '{"__proto__":{"polluted":"top"},"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":' +
      '{"__proto__":{"polluted":"request"},"uid":"u","operation":"CREATE",' +
      '"kind":{"group":"","version":"v1","kind":"Pod","__proto__":{"polluted":"kind"}},' +
      '"resource":{"group":"","version":"v1","resource":"pods"},' +
      '"userInfo":{"username":"x","__proto__":{"polluted":"user"}},' +
      '"object":{"metadata":{"__proto__":{"polluted":"object"}}}}}';
    const checked = decodeReview(encode(body));
    expect(checked.request.uid).toBe('u');
    expect(({} as Json).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(Object.getPrototypeOf(checked.request.userInfo)).toBe(Object.prototype);
    expect((checked.request.userInfo as Json).polluted).toBeUndefined();
    expect((checked.request.kind as unknown as Json).polluted).toBeUndefined();
  });
});

describe('decodeReview reads the objects lazily from the bytes', () => {
  const body = (req: string): Uint8Array =>
    encode(
      `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-9","operation":"UPDATE",` +
        `"kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},${req}}}`,
    );

  it('gives the same objects as a whole parse, escapes, nesting and big integers included', () => {
    const object = { metadata: { name: 'a"b\\\\', labels: { 'x}': '{[' } }, spec: { n: [1, [2, { k: '\\u0022' }]], big: 1 } };
    const text = `"object":${JSON.stringify(object).replace('"big":1', '"big":9007199254740993')} , "oldObject" : {"metadata":{"name":"old"}}`;
    const checked = decodeReview(body(text));
    expect((checked.request.object as Json).metadata).toEqual(object.metadata);
    expect((checked.request.oldObject as Json).metadata).toEqual({ name: 'old' });
    expect(checked.request.uid).toBe('u-9');
  });

  it('finds fields whose keys are written with escapes, as JSON.parse reads them', () => {
    const checked = decodeReview(body('"\\u006fbject":{"a":1},"oldObject":null'));
    expect(checked.request.object).toEqual({ a: 1 });
    expect(checked.request.oldObject).toBeUndefined();
  });

  it('treats absent and null objects as undefined', () => {
    const checked = decodeReview(body('"object":null'));
    expect(checked.request.object).toBeUndefined();
    expect(checked.request.oldObject).toBeUndefined();
  });

  it.each([
    { name: 'an array object', req: '"object":[1]', message: 'request.object must be an object or null' },
    { name: 'a string oldObject', req: '"object":{},"oldObject":"x"', message: 'request.oldObject must be an object or null' },
  ])('rejects $name with the uid', ({ req, message }) => {
    const err = thrown(() => decodeReview(body(req)));
    expect(err.code).toBe('REVIEW_INVALID');
    expect(err.message).toContain(message);
    expect(err.details).toEqual({ uid: 'u-9' });
  });

  it.each([
    { name: 'an unterminated object', text: '{"request":{"object":{"a":"b"' },
    { name: 'an unterminated string', text: '{"request":{"object":{"a":"b}}}' },
    { name: 'a missing colon', text: '{"request":{"object" {}}}' },
    { name: 'a missing comma', text: '{"request":{"object":{} "x":1}}' },
    { name: 'garbage after the review', text: '{"request":{"object":{}}} x' },
    { name: 'a key with a bad escape', text: '{"\\apiVersion":"admission.k8s.io/v1","request":{"object":{}}}' },
  ])('rejects $name as not JSON', ({ text }) => {
    expect(thrown(() => decodeReview(encode(text))).code).toBe('REVIEW_NOT_JSON');
  });

  it('rejects broken JSON inside an object when the review is decoded, with the uid', () => {
    const err = thrown(() => decodeReview(body('"object":{"a" 1}')));
    expect(err.code).toBe('REVIEW_NOT_JSON');
    expect(err.message).toContain('expected ":"');
    expect(err.details).toEqual({ uid: 'u-9' });
  });
});

describe('the envelope scan agrees with JSON.parse', () => {
  it('on any JSON objects, whitespace and key order', () => {
    const anyObject = fc.dictionary(fc.string(), fc.jsonValue());
    fc.assert(
      fc.property(anyObject, fc.option(anyObject), fc.constantFrom('', ' ', '\n\t '), fc.boolean(), (object, oldObject, space, objectFirst) => {
        const head = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' };
        const req = baseRequest();
        const fields = objectFirst ? { object, ...req, oldObject } : { ...req, object, oldObject };
        const text = JSON.stringify({ ...head, request: { ...fields, object, oldObject } }, null, space);
        const checked = decodeReview(encode(text));
        const whole = JSON.parse(text) as { request: Json };
        expect(checked.request.object).toEqual(whole.request.object);
        expect(checked.request.oldObject).toEqual(whole.request.oldObject ?? undefined);
        expect(checked.request.uid).toBe('uid-1');
      }),
      { numRuns: 300 },
    );
  });
});

describe('objectMetadata', () => {
  it('is the object metadata, read from the bytes or from a parsed document alike', () => {
    const doc = review({ name: undefined, object: { spec: { big: 'x'.repeat(1000) }, metadata: { generateName: 'web-', labels: { a: 'b' } } } });
    expect(decodeReview(encode(JSON.stringify(doc))).request.objectMetadata).toEqual({ generateName: 'web-', labels: { a: 'b' } });
    expect(checkReview(doc).request.objectMetadata).toEqual({ generateName: 'web-', labels: { a: 'b' } });
  });

  it.each([
    { name: 'no object', req: { object: null } },
    { name: 'an object without metadata', req: { object: { spec: {} } } },
    { name: 'metadata that is not an object', req: { object: { metadata: 'x' } } },
  ])('is undefined for $name', ({ req }) => {
    expect(decodeReview(encode(JSON.stringify(review(req)))).request.objectMetadata).toBeUndefined();
  });
});
