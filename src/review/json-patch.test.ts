// The applier against RFC 6902's own examples (appendix A) and the failures it must report,
// with fast-json-patch as an independent reference for every document that applies.
import fastJsonPatch from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import type { JsonPatchOperation } from '../admission/types.js';
import { deepChain, deepChainLeaf, deepChainPointer, KUBERNETES_MAX_JSON_DEPTH } from '../../test/support/deep.js';
import { applyJsonPatch } from './json-patch.js';

const ok = (document: unknown, ops: JsonPatchOperation[]) => {
  const result = applyJsonPatch(document, ops);
  if (!result.ok) throw new Error(result.message);
  return result.document;
};

describe('applyJsonPatch', () => {
  it.each<[string, unknown, JsonPatchOperation[], unknown]>([
    ['A.1 add an object member', { foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }], { baz: 'qux', foo: 'bar' }],
    ['A.2 add an array element', { foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }], { foo: ['bar', 'qux', 'baz'] }],
    ['A.3 remove an object member', { baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }], { foo: 'bar' }],
    ['A.4 remove an array element', { foo: ['bar', 'qux', 'baz'] }, [{ op: 'remove', path: '/foo/1' }], { foo: ['bar', 'baz'] }],
    ['A.5 replace a value', { baz: 'qux', foo: 'bar' }, [{ op: 'replace', path: '/baz', value: 'boo' }], { baz: 'boo', foo: 'bar' }],
    ['A.6 move a value', { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } }, [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }], { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } }],
    ['A.7 move an array element', { foo: ['all', 'grass', 'cows', 'eat'] }, [{ op: 'move', from: '/foo/1', path: '/foo/3' }], { foo: ['all', 'cows', 'eat', 'grass'] }],
    ['A.8 test a value', { baz: 'qux', foo: ['a', 2, 'c'] }, [{ op: 'test', path: '/baz', value: 'qux' }, { op: 'test', path: '/foo/1', value: 2 }], { baz: 'qux', foo: ['a', 2, 'c'] }],
    ['A.10 add a nested member object', { foo: 'bar' }, [{ op: 'add', path: '/child', value: { grandchild: {} } }], { foo: 'bar', child: { grandchild: {} } }],
    ['A.14 ~ escape ordering', { '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: 10 }], { '/': 9, '~1': 10 }],
    ['A.16 add an array value', { foo: ['bar'] }, [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }], { foo: ['bar', ['abc', 'def']] }],
    ['copy, then change the copy only', { a: { b: 1 } }, [{ op: 'copy', from: '/a', path: '/c' }, { op: 'replace', path: '/c/b', value: 2 }], { a: { b: 1 }, c: { b: 2 } }],
    ['replace the whole document', { a: 1 }, [{ op: 'replace', path: '', value: { b: 2 } }], { b: 2 }],
    ['test compares objects in any member order', { a: { x: 1, y: [1, { z: 2 }] } }, [{ op: 'test', path: '/a', value: { y: [1, { z: 2 }], x: 1 } }], { a: { x: 1, y: [1, { z: 2 }] } }],
  ])('%s', (_name, document, ops, expected) => {
    const before = JSON.stringify(document);
    const result = ok(document, ops);
    expect(result).toEqual(expected);
    expect(JSON.stringify(result)).toBe(JSON.stringify(fastJsonPatch.applyPatch(structuredClone(document), structuredClone(ops) as fastJsonPatch.Operation[], true, true).newDocument));
    expect(JSON.stringify(document)).toBe(before);
  });

  it('writes a member named __proto__ as data, not as the prototype', () => {
    const result = ok(JSON.parse('{"m":{}}'), [{ op: 'add', path: '/m/__proto__', value: { polluted: true } }]) as { m: object };
    expect(JSON.stringify(result)).toBe('{"m":{"__proto__":{"polluted":true}}}');
    expect(Object.getPrototypeOf(result.m)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each<[string, unknown, JsonPatchOperation[], RegExp]>([
    ['A.9 a failing test', { baz: 'qux' }, [{ op: 'test', path: '/baz', value: 'bar' }], /^operation 0 \(test \/baz\): test failed$/],
    ['A.12 add to a missing parent', { foo: 'bar' }, [{ op: 'add', path: '/baz/bat', value: 'qux' }], /path does not exist/],
    ['A.15 a string is not a number', { '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: '10' }], /test failed/],
    ['remove a missing member', { a: 1 }, [{ op: 'remove', path: '/b' }], /path does not exist/],
    ['replace a missing member', { a: 1 }, [{ op: 'replace', path: '/b', value: 1 }], /path does not exist/],
    ['an index past the end', { a: [1] }, [{ op: 'add', path: '/a/2', value: 1 }], /out of range/],
    ['an index with a leading zero', { a: [1, 2] }, [{ op: 'replace', path: '/a/01', value: 1 }], /path does not exist/],
    ['"-" anywhere but at the end of an add', { a: [{ b: 1 }] }, [{ op: 'replace', path: '/a/-/b', value: 1 }], /path does not exist/],
    ['a move into its own child', { a: { b: {} } }, [{ op: 'move', from: '/a', path: '/a/b/c' }], /from is a parent of path/],
    ['a pointer without the leading slash', { a: 1 }, [{ op: 'add', path: 'a', value: 1 }], /path is not a JSON pointer/],
    ['an add without a value', { a: 1 }, [{ op: 'add', path: '/b' }], /value is missing/],
    ['an unknown op', { a: 1 }, [{ op: 'merge', path: '/a', value: 1 } as unknown as JsonPatchOperation], /unknown op "merge"/],
    ['removing the whole document', { a: 1 }, [{ op: 'remove', path: '' }], /cannot be removed/],
  ])('refuses %s, all or nothing', (_name, document, ops, message) => {
    const before = JSON.stringify(document);
    const result = applyJsonPatch(document, [{ op: 'add', path: '/first', value: 1 }, ...ops]);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message.replace(/^operation (\d+)/, (_m, n: string) => `operation ${Number(n) - 1}`)).toMatch(message);
    expect(JSON.stringify(document)).toBe(before);
  });

  it('applies at the bottom of an object as deep as the API server accepts, copying only the path', () => {
    const levels = KUBERNETES_MAX_JSON_DEPTH - 1;
    const document = { spec: deepChain(levels, { leaf: 1, other: { big: 'x'.repeat(1000) } }) };
    const deepValue = deepChain(levels);
    const result = ok(document, [
      { op: 'replace', path: `/spec${deepChainPointer(levels)}/leaf`, value: 2 },
      { op: 'add', path: '/status', value: deepValue },
      { op: 'test', path: '/status', value: deepChain(levels) },
      { op: 'copy', from: '/status', path: '/copy' },
      { op: 'move', from: `/spec${deepChainPointer(levels)}/other`, path: '/other' },
    ]) as Record<string, unknown>;
    expect(deepChainLeaf(result.spec)).toEqual({ leaf: 2 });
    expect(deepChainLeaf(document.spec)).toEqual({ leaf: 1, other: { big: 'x'.repeat(1000) } });
    // Identity, not deep comparison (the assertion library's comparisons recurse).
    expect(result.status === deepValue).toBe(true);
    expect(result.copy === deepValue).toBe(false);
    expect(deepChainLeaf(result.copy)).toEqual({ leaf: true });
    expect((result.other as { big: string }).big).toHaveLength(1000);
  });
});
