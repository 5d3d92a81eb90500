// The PolicyException parser shared by `bouncer build` and the bundle loader: every refusal
// names the exception and the field; the manifest form reads back to the same exception.
import { describe, expect, it } from 'vitest';
import { isBouncerError } from '../errors/errors.js';
import { checkExceptionHorizon, parseExceptionList, parsePolicyException, serializePolicyException } from './policy-exception.js';

const known = new Set(['deny-label', 'K8sRequiredLabels/must-have-owner']);
const ctx = { where: 'exceptions/a.yaml', code: 'EXCEPTION_INVALID' as const, known };

function doc(spec: Record<string, unknown>, name = 'legacy'): Record<string, unknown> {
  return { apiVersion: 'bouncer.dev/v1alpha1', kind: 'PolicyException', metadata: { name }, spec };
}
const base = { policies: ['deny-label'], match: { namespaces: ['legacy-*'] }, reason: 'migration', ticket: 'OPS-1', expiresAt: '2027-01-31T00:00:00Z' };

function refusal(raw: unknown): string {
  try {
    parsePolicyException(raw, ctx);
  } catch (err) {
    expect(isBouncerError(err, 'EXCEPTION_INVALID')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('accepted');
}

describe('parsePolicyException', () => {
  it('reads an exception and its manifest form reads back the same', () => {
    const e = parsePolicyException(
      doc({ ...base, policies: ['deny-label', 'K8sRequiredLabels/must-have-owner'], match: { namespaces: ['legacy-*'], names: ['batch-*'], kinds: ['ConfigMap', 'apps/Deployment'], objectSelector: { matchLabels: { app: 'x' } } } }),
      ctx,
    );
    expect(e).toMatchObject({ name: 'legacy', reason: 'migration', ticket: 'OPS-1', expiresAt: '2027-01-31T00:00:00Z', expiresAtMs: Date.parse('2027-01-31T00:00:00Z') });
    expect(e.match.kinds).toEqual([{ group: '', kind: 'ConfigMap' }, { group: 'apps', kind: 'Deployment' }]);
    expect(parsePolicyException(JSON.parse(JSON.stringify(serializePolicyException(e))), ctx)).toEqual(e);
  });

  it.each([
    ['an unknown policy', doc({ ...base, policies: ['no-such-policy'] }), /spec\.policies: "no-such-policy" is not a policy or constraint of this bundle/],
    ['no policies', doc({ ...base, policies: undefined }), /spec\.policies: is required/],
    ['no expiresAt', doc({ ...base, expiresAt: undefined }), /spec\.expiresAt: is required: every exception expires/],
    ['an unreadable expiresAt', doc({ ...base, expiresAt: 'next tuesday' }), /spec\.expiresAt: "next tuesday" is not an RFC 3339 time/],
    ['an expiresAt without a zone', doc({ ...base, expiresAt: '2027-01-31T00:00:00' }), /spec\.expiresAt: .* with a zone/],
    ['an impossible date', doc({ ...base, expiresAt: '2027-13-45T00:00:00Z' }), /spec\.expiresAt/],
    ['no reason', doc({ ...base, reason: ' ' }), /spec\.reason: is required/],
    ['no match', doc({ ...base, match: undefined }), /spec\.match: is required/],
    ['a match with kinds only', doc({ ...base, match: { kinds: ['Pod'] } }), /spec\.match: is over-broad/],
    ['a match with an objectSelector only', doc({ ...base, match: { objectSelector: { matchLabels: { a: 'b' } } } }), /spec\.match: is over-broad/],
    ['a match on every namespace', doc({ ...base, match: { namespaces: ['*'] } }), /spec\.match: is over-broad/],
    ['an empty namespaceSelector', doc({ ...base, match: { namespaceSelector: {} } }), /spec\.match: is over-broad/],
    ['an unknown match field', doc({ ...base, match: { namespace: ['a'] } }), /spec\.match\.namespace: unknown field/],
    ['an unknown spec field', doc({ ...base, expires: 'x' }), /spec\.expires: unknown field/],
    ['a malformed selector operator', doc({ ...base, match: { namespaces: ['a'], objectSelector: { matchExpressions: [{ key: 'a', operator: 'Has' }] } } }), /objectSelector\.matchExpressions\[0\]\.operator: "Has" is not a valid selector operator/],
    ['In without values', doc({ ...base, match: { namespaceSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } } }), /namespaceSelector\.matchExpressions\[0\]\.values: must be given/],
    ['a bad label key', doc({ ...base, match: { namespaceSelector: { matchLabels: { 'bad key': 'x' } } } }), /namespaceSelector\.matchLabels/],
    ['a wildcard in the middle', doc({ ...base, match: { names: ['a*b'] } }), /spec\.match\.names\[0\]: "a\*b" is not a name/],
    ['a malformed service account', doc({ ...base, match: { subjects: { serviceAccounts: ['ci'] } } }), /serviceAccounts\[0\]: "ci" is not "namespace\/name"/],
    ['empty subjects', doc({ ...base, match: { subjects: {} } }), /subjects: names no user/],
    ['no name', doc(base, ''), /metadata\.name: is required/],
    ['another kind', { ...doc(base), kind: 'Exception' }, /must be bouncer\.dev\/v1alpha1 PolicyException/],
  ])('refuses %s', (_name, raw, message) => {
    const text = refusal(raw);
    expect(text).toMatch(message);
    expect(text).toMatch(/^exceptions\/a\.yaml: exception /);
  });

  it('accepts a match restricted by subjects alone (a service account exempted)', () => {
    const e = parsePolicyException(doc({ ...base, match: { subjects: { serviceAccounts: ['ci/deployer'] } } }), ctx);
    expect(e.match.subjects).toEqual({ users: [], groups: [], serviceAccounts: ['ci/deployer'] });
    expect(parsePolicyException(JSON.parse(JSON.stringify(serializePolicyException(e))), ctx)).toEqual(e);
  });
});

describe('parseExceptionList and checkExceptionHorizon', () => {
  it('orders by name and refuses a name given twice', () => {
    expect(parseExceptionList([doc(base, 'b'), doc(base, 'a')], known, 'EXCEPTION_INVALID', 'm').map((e) => e.name)).toEqual(['a', 'b']);
    expect(() => parseExceptionList([doc(base, 'a'), doc(base, 'a')], known, 'EXCEPTION_INVALID', 'm')).toThrow(/exception a appears twice/);
  });

  it('refuses an expiry beyond the maximum, and accepts one within it', () => {
    const now = Date.parse('2027-01-01T00:00:00Z');
    const e = parsePolicyException(doc({ ...base, expiresAt: '2027-04-02T00:00:00Z' }), ctx);
    expect(() => checkExceptionHorizon([e], now, 90, 'EXCEPTION_INVALID')).toThrow(/expiresAt 2027-04-02T00:00:00Z is more than 90 days away \(--exception-max-days\)/);
    expect(() => checkExceptionHorizon([e], now, 91, 'EXCEPTION_INVALID')).not.toThrow();
  });
});
