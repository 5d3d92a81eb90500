import { describe, expect, it } from 'vitest';
import { readMutateResult, readValidateResult, type ValidateResult } from './policy-result.js';
import { thrown } from '../../test/support/thrown.js';


describe('readValidateResult', () => {
  it.each<{ name: string; value: unknown; expected: ValidateResult }>([
    { name: 'undefined (the policy said nothing)', value: undefined, expected: { deny: [], warn: [] } },
    { name: 'an empty object', value: {}, expected: { deny: [], warn: [] } },
    { name: 'null rule values', value: { deny: null, warn: null }, expected: { deny: [], warn: [] } },
    { name: 'string messages', value: { deny: ['d1', 'd2'], warn: ['w1'] }, expected: { deny: [{ msg: 'd1' }, { msg: 'd2' }], warn: [{ msg: 'w1' }] } },
    {
      name: 'objects with msg and details',
      value: { deny: [{ msg: 'd', details: { container: 'c' } }] },
      expected: { deny: [{ msg: 'd', details: { container: 'c' } }], warn: [] },
    },
    { name: 'an object without details', value: { warn: [{ msg: 'w' }] }, expected: { deny: [], warn: [{ msg: 'w' }] } },
    { name: 'non-object details dropped', value: { deny: [{ msg: 'd', details: 'text' }, { msg: 'e', details: null }] }, expected: { deny: [{ msg: 'd' }, { msg: 'e' }], warn: [] } },
    { name: 'other rules ignored', value: { deny: [], allow: true, other: 'x' }, expected: { deny: [], warn: [] } },
  ])('accepts $name', ({ value, expected }) => {
    expect(readValidateResult(value)).toEqual(expected);
  });

  it.each<{ name: string; value: unknown; message: string }>([
    { name: 'null', value: null, message: 'the validate result must be an object' },
    { name: 'an array', value: [], message: 'the validate result must be an object' },
    { name: 'a string', value: 'denied', message: 'the validate result must be an object' },
    { name: 'a boolean', value: true, message: 'the validate result must be an object' },
    { name: 'deny as a string', value: { deny: 'no' }, message: 'deny must be a set of messages' },
    { name: 'warn as an object', value: { warn: { msg: 'w' } }, message: 'warn must be a set of messages' },
    { name: 'a numeric deny entry', value: { deny: [1] }, message: 'deny entries must be strings or objects with a string msg' },
    { name: 'an entry without msg', value: { deny: [{ message: 'x' }] }, message: 'deny entries must be' },
    { name: 'an entry with a numeric msg', value: { warn: [{ msg: 3 }] }, message: 'warn entries must be' },
    { name: 'a null entry', value: { warn: [null] }, message: 'warn entries must be' },
  ])('rejects $name with POLICY_RESULT_INVALID', ({ value, message }) => {
    const err = thrown(() => readValidateResult(value));
    expect(err.code).toBe('POLICY_RESULT_INVALID');
    expect(err.message).toContain(message);
  });
});

describe('readMutateResult', () => {
  const ops = [
    { op: 'add', path: '/metadata/labels/a', value: 'x' },
    { op: 'remove', path: '/metadata/labels/b' },
    { op: 'replace', path: '/spec/replicas', value: 3 },
    { op: 'move', from: '/a', path: '/b' },
    { op: 'copy', from: '/a', path: '/c' },
    { op: 'test', path: '/spec/replicas', value: null },
    { op: 'replace', path: '', value: {} },
  ];

  it.each<{ name: string; value: unknown; expected: unknown[] }>([
    { name: 'undefined', value: undefined, expected: [] },
    { name: 'null', value: null, expected: [] },
    { name: 'an empty list', value: [], expected: [] },
    { name: 'every operation kind', value: ops, expected: ops },
  ])('accepts $name', ({ value, expected }) => {
    expect(readMutateResult(value)).toEqual(expected);
  });

  it.each<{ name: string; value: unknown; message: string }>([
    { name: 'an object', value: { op: 'add', path: '/a', value: 1 }, message: 'patch must be a set or array of JSONPatch operations' },
    { name: 'a string', value: 'patch', message: 'patch must be a set or array' },
    { name: 'a null operation', value: [null], message: 'a patch operation must be an object' },
    { name: 'a string operation', value: ['add'], message: 'a patch operation must be an object' },
    { name: 'an unknown op', value: [{ op: 'merge', path: '/a', value: 1 }], message: 'patch op must be one of add, remove, replace, move, copy, test' },
    { name: 'a missing op', value: [{ path: '/a', value: 1 }], message: 'patch op must be one of' },
    { name: 'a path without a leading slash', value: [{ op: 'add', path: 'a', value: 1 }], message: 'patch path must be a JSON pointer' },
    { name: 'a numeric path', value: [{ op: 'remove', path: 1 }], message: 'patch path must be a JSON pointer' },
    { name: 'move without from', value: [{ op: 'move', path: '/a' }], message: 'patch move needs from' },
    { name: 'copy with a numeric from', value: [{ op: 'copy', path: '/a', from: 1 }], message: 'patch copy needs from' },
    { name: 'add without value', value: [{ op: 'add', path: '/a' }], message: 'patch add needs value' },
    { name: 'replace without value', value: [{ op: 'replace', path: '/a' }], message: 'patch replace needs value' },
    { name: 'test without value', value: [{ op: 'test', path: '/a' }], message: 'patch test needs value' },
    { name: 'a bad operation after good ones', value: [{ op: 'add', path: '/a', value: 1 }, { op: 'add', path: '/b' }], message: 'patch add needs value' },
  ])('rejects $name with POLICY_RESULT_INVALID', ({ value, message }) => {
    const err = thrown(() => readMutateResult(value));
    expect(err.code).toBe('POLICY_RESULT_INVALID');
    expect(err.message).toContain(message);
  });
});
