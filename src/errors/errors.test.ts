import { describe, expect, it } from 'vitest';
import { BouncerError, ERRORS, describeThrown, isBouncerError, type ErrorCode } from './errors.js';

describe('BouncerError', () => {
  it.each<{ code: ErrorCode; status: number }>([
    { code: 'REVIEW_EMPTY', status: 400 },
    { code: 'REVIEW_TOO_LARGE', status: 413 },
    { code: 'REVIEW_CONTENT_TYPE', status: 415 },
    { code: 'POLICY_EVAL_FAILED', status: 500 },
    { code: 'NO_POLICY_SET', status: 503 },
    { code: 'BUNDLE_MANIFEST_INVALID', status: 400 },
  ])('$code maps to status $status', ({ code, status }) => {
    const err = new BouncerError(code, 'm');
    expect(err.status).toBe(status);
  });

  it('is an Error with a code, message and name', () => {
    const err = new BouncerError('REVIEW_INVALID', 'request.uid must be a non-empty string');
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('BouncerError');
    expect(err.code).toBe('REVIEW_INVALID');
    expect(err.message).toBe('request.uid must be a non-empty string');
    expect(err.details).toBeUndefined();
    expect('cause' in err).toBe(false);
    expect(String(err)).toBe('BouncerError: request.uid must be a non-empty string');
  });

  it('keeps the cause and the details', () => {
    const cause = new SyntaxError('bad');
    const err = new BouncerError('REVIEW_NOT_JSON', 'not JSON', { cause, details: { uid: 'u' } });
    expect(err.cause).toBe(cause);
    expect(err.details).toEqual({ uid: 'u' });
  });

  it('has a meaning for every code', () => {
    for (const [code, entry] of Object.entries(ERRORS)) {
      expect(entry.meaning, code).not.toBe('');
      expect(entry.status, code).toBeGreaterThanOrEqual(400);
      expect(entry.status, code).toBeLessThan(600);
    }
  });
});

describe('isBouncerError', () => {
  const err = new BouncerError('OPA_FAILED', 'x');
  it.each<{ name: string; value: unknown; code: ErrorCode | undefined; expected: boolean }>([
    { name: 'any BouncerError without a code', value: err, code: undefined, expected: true },
    { name: 'a BouncerError with its code', value: err, code: 'OPA_FAILED', expected: true },
    { name: 'a BouncerError with another code', value: err, code: 'INTERNAL', expected: false },
    { name: 'a plain Error', value: new Error('x'), code: undefined, expected: false },
    { name: 'a look-alike object', value: { name: 'BouncerError', code: 'OPA_FAILED', message: 'x' }, code: 'OPA_FAILED', expected: false },
    { name: 'null', value: null, code: undefined, expected: false },
  ])('$name → $expected', ({ value, code, expected }) => {
    expect(isBouncerError(value, code)).toBe(expected);
  });
});

describe('describeThrown', () => {
  const circular: Record<string, unknown> = { name: 'loop' };
  circular.self = circular;

  it.each<{ name: string; value: unknown; expected: string }>([
    { name: 'an Error', value: new TypeError('x is not a function'), expected: 'x is not a function' },
    { name: 'a BouncerError', value: new BouncerError('INTERNAL', 'internal'), expected: 'internal' },
    { name: 'a string', value: 'opa_abort: out of memory', expected: 'opa_abort: out of memory' },
    { name: 'an empty string', value: '', expected: '' },
    { name: 'a plain object with a message', value: { message: 'builtin failed', code: 'eval_error' }, expected: 'builtin failed' },
    { name: 'a plain object with a non-string message', value: { message: 5 }, expected: '{"message":5}' },
    { name: 'a plain object without a message', value: { code: 'eval_error', line: 3 }, expected: '{"code":"eval_error","line":3}' },
    { name: 'an array', value: ['a', 1], expected: '["a",1]' },
    { name: 'a number', value: 42, expected: '42' },
    { name: 'null', value: null, expected: 'null' },
    { name: 'undefined', value: undefined, expected: 'undefined' },
    { name: 'a bigint', value: 10n, expected: '10' },
    { name: 'a symbol', value: Symbol('s'), expected: 'Symbol(s)' },
    { name: 'a circular object', value: circular, expected: '[object Object]' },
  ])('$name', ({ value, expected }) => {
    expect(describeThrown(value)).toBe(expected);
  });
});
