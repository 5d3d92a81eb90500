import { describe, expect, it } from 'vitest';
import { BouncerError } from '../errors/errors.js';
import {
  MAX_MESSAGE_LENGTH,
  MAX_WARNING_LENGTH,
  MAX_WARNINGS,
  clip,
  isAuditAnnotationKey,
  normalizeWarnings,
  rejectedReview,
  toReview,
  type Answer,
  type Endpoint,
} from './respond.js';
import type { JsonPatchOperation, Operation } from './types.js';

const PATCH: JsonPatchOperation[] = [{ op: 'add', path: '/metadata/labels/team', value: 'a' }];

const decodePatch = (patch: string): unknown => JSON.parse(Buffer.from(patch, 'base64').toString('utf8'));

const numbered = (n: number): string[] => Array.from({ length: n }, (_, i) => `warning ${i + 1}`);

describe('clip', () => {
  it.each([
    { name: 'short text', text: 'hello', max: 10, expected: 'hello' },
    { name: 'text of exactly max', text: 'abcde', max: 5, expected: 'abcde' },
    { name: 'text one over max', text: 'abcdef', max: 5, expected: 'abcd…' },
    { name: 'newline and tab', text: 'a\nb\tc', max: 10, expected: 'a b c' },
    { name: 'NUL, BEL, DEL and C1 controls', text: 'a\u0000b\u0007c\u007fd\u009be', max: 20, expected: 'a b c d e' },
    { name: 'non-ASCII text kept', text: 'héllo ✓', max: 20, expected: 'héllo ✓' },
  ])('$name', ({ text, max, expected }) => {
    const out = clip(text, max);
    expect(out).toBe(expected);
    expect(out.length).toBeLessThanOrEqual(max);
  });
});

describe('normalizeWarnings', () => {
  it.each<{ name: string; input: string[]; expected: string[] }>([
    { name: 'no warnings', input: [], expected: [] },
    { name: 'duplicates removed, first order kept', input: ['b', 'a', 'b', 'a'], expected: ['b', 'a'] },
    { name: 'exactly the cap', input: numbered(MAX_WARNINGS), expected: numbered(MAX_WARNINGS) },
    { name: 'duplicates do not count toward the cap', input: [...numbered(10), ...numbered(10)], expected: numbered(10) },
    { name: 'one over the cap', input: numbered(11), expected: [...numbered(9), '… and 2 more warnings'] },
    { name: 'far over the cap', input: numbered(25), expected: [...numbered(9), '… and 16 more warnings'] },
    { name: 'control characters', input: ['line1\nline2\u001b[31m'], expected: ['line1 line2 [31m'] },
  ])('$name', ({ input, expected }) => {
    const out = normalizeWarnings(input);
    expect(out).toEqual(expected);
    expect(out.length).toBeLessThanOrEqual(MAX_WARNINGS);
  });

  it('truncates a long warning to 120 characters ending with an ellipsis', () => {
    const [out] = normalizeWarnings(['x'.repeat(500)]);
    expect(out).toHaveLength(MAX_WARNING_LENGTH);
    expect(out).toBe(`${'x'.repeat(MAX_WARNING_LENGTH - 1)}…`);
    expect(normalizeWarnings(['y'.repeat(MAX_WARNING_LENGTH)])).toEqual(['y'.repeat(MAX_WARNING_LENGTH)]);
  });

  it('deduplicates warnings that only differ after the truncation point', () => {
    const prefix = 'p'.repeat(200);
    expect(normalizeWarnings([`${prefix}-one`, `${prefix}-two`])).toHaveLength(1);
  });
});

describe('isAuditAnnotationKey', () => {
  it.each([
    { key: 'decision', valid: true },
    { key: 'decision-id', valid: true },
    { key: 'a.b_c-d', valid: true },
    { key: 'x', valid: true },
    { key: 'a'.repeat(63), valid: true },
    { key: 'a'.repeat(64), valid: false },
    { key: '', valid: false },
    { key: 'bouncer/decision', valid: false },
    { key: '-leading', valid: false },
    { key: 'trailing.', valid: false },
    { key: 'has space', valid: false },
    { key: 'ünicode', valid: false },
  ])('$key → $valid', ({ key, valid }) => {
    expect(isAuditAnnotationKey(key)).toBe(valid);
  });
});

describe('toReview', () => {
  it.each<{ name: string; endpoint: Endpoint; operation: Operation | undefined; answer: Answer; patched: boolean }>([
    { name: 'validate endpoint drops a patch', endpoint: 'validate', operation: 'CREATE', answer: { allowed: true, patch: PATCH }, patched: false },
    { name: 'mutate CREATE carries the patch', endpoint: 'mutate', operation: 'CREATE', answer: { allowed: true, patch: PATCH }, patched: true },
    { name: 'mutate UPDATE carries the patch', endpoint: 'mutate', operation: 'UPDATE', answer: { allowed: true, patch: PATCH }, patched: true },
    { name: 'mutate DELETE drops the patch', endpoint: 'mutate', operation: 'DELETE', answer: { allowed: true, patch: PATCH }, patched: false },
    { name: 'mutate CONNECT drops the patch', endpoint: 'mutate', operation: 'CONNECT', answer: { allowed: true, patch: PATCH }, patched: false },
    { name: 'a denial drops the patch', endpoint: 'mutate', operation: 'CREATE', answer: { allowed: false, patch: PATCH }, patched: false },
    { name: 'an empty patch is omitted', endpoint: 'mutate', operation: 'CREATE', answer: { allowed: true, patch: [] }, patched: false },
  ])('$name', ({ endpoint, operation, answer, patched }) => {
    const { response } = toReview('uid-9', endpoint, operation, answer);
    expect(response.uid).toBe('uid-9');
    if (patched) {
      expect(response.patchType).toBe('JSONPatch');
      expect(decodePatch(response.patch ?? '')).toEqual(PATCH);
    } else {
      expect(response).not.toHaveProperty('patch');
      expect(response).not.toHaveProperty('patchType');
    }
  });

  it('builds an allowed answer with no status, warnings or annotations when there are none', () => {
    expect(toReview('u', 'validate', 'CREATE', { allowed: true })).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'u', allowed: true },
    });
  });

  it.each<{ name: string; answer: Answer; status: Record<string, unknown> }>([
    { name: 'defaults', answer: { allowed: false }, status: { code: 403, message: 'denied by bouncer' } },
    { name: 'explicit code, message and reason', answer: { allowed: false, code: 500, message: 'boom', reason: 'INTERNAL' }, status: { code: 500, message: 'boom', reason: 'INTERNAL' } },
    { name: 'message with control characters', answer: { allowed: false, message: 'a\tb\u001b[31m\r' }, status: { code: 403, message: 'a b [31m ' } },
    // Gatekeeper's form: one `[constraint] msg` line per violation.
    { name: 'message with newlines', answer: { allowed: false, message: '[a] one\n[b] two' }, status: { code: 403, message: '[a] one\n[b] two' } },
  ])('denial status: $name', ({ answer, status }) => {
    const { response } = toReview('u', 'validate', 'CREATE', answer);
    expect(response.allowed).toBe(false);
    expect(response.status).toEqual(status);
  });

  it('bounds the denial message', () => {
    const { response } = toReview('u', 'validate', 'CREATE', { allowed: false, message: 'm'.repeat(MAX_MESSAGE_LENGTH * 2) });
    expect(response.status?.message).toHaveLength(MAX_MESSAGE_LENGTH);
    expect(response.status?.message.endsWith('…')).toBe(true);
  });

  it('normalizes warnings on allowed and denied answers', () => {
    for (const allowed of [true, false]) {
      const { response } = toReview('u', 'validate', 'CREATE', { allowed, warnings: ['w', 'w', 'x\ny'] });
      expect(response.warnings).toEqual(['w', 'x y']);
    }
    expect(toReview('u', 'validate', 'CREATE', { allowed: true, warnings: [] }).response).not.toHaveProperty('warnings');
  });

  it('keeps valid audit annotations and clips their values', () => {
    const { response } = toReview('u', 'validate', 'CREATE', {
      allowed: true,
      auditAnnotations: { decision: 'allowed', 'long-value': 'v'.repeat(5000), 'ctl-value': 'a\tb' },
    });
    expect(response.auditAnnotations?.decision).toBe('allowed');
    expect(response.auditAnnotations?.['long-value']).toHaveLength(1024);
    expect(response.auditAnnotations?.['long-value']?.endsWith('…')).toBe(true);
    expect(response.auditAnnotations?.['ctl-value']).toBe('a b');
    expect(toReview('u', 'validate', 'CREATE', { allowed: true, auditAnnotations: {} }).response).not.toHaveProperty('auditAnnotations');
  });

  it.each([
    { name: 'a key with a slash', key: 'bouncer.dev/decision' },
    { name: 'an empty key', key: '' },
    { name: 'a key longer than 63 characters', key: 'k'.repeat(64) },
    { name: 'a key with a space', key: 'bad key' },
  ])('throws on $name', ({ key }) => {
    expect(() => toReview('u', 'validate', 'CREATE', { allowed: true, auditAnnotations: { [key]: 'v' } })).toThrow(/is not a qualified name/);
  });
});

describe('rejectedReview', () => {
  it.each<{ endpoint: Endpoint }>([{ endpoint: 'validate' }, { endpoint: 'mutate' }])('denies on $endpoint with the error code and status', ({ endpoint }) => {
    const err = new BouncerError('REVIEW_INVALID', 'request.operation must be one of CREATE, UPDATE, DELETE, CONNECT');
    const { response } = rejectedReview('uid-3', endpoint, err);
    expect(response).toEqual({
      uid: 'uid-3',
      allowed: false,
      status: {
        code: 400,
        reason: 'REVIEW_INVALID',
        message: 'bouncer cannot evaluate this request: request.operation must be one of CREATE, UPDATE, DELETE, CONNECT',
      },
      auditAnnotations: { decision: 'rejected', 'rejected-code': 'REVIEW_INVALID' },
    });
  });

  it('uses the status of the error code', () => {
    const { response } = rejectedReview('u', 'validate', new BouncerError('NO_POLICY_SET', 'none'));
    expect(response.status?.code).toBe(503);
  });
});
