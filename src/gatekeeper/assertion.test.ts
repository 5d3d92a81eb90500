// Assertions with gator's semantics and messages (gatekeeper pkg/gator/verify/assertion.go).
import { describe, expect, it } from 'vitest';
import { checkAssertion, checkAssertions } from './assertion.js';

const v = (...msgs: string[]): { msg: string }[] => msgs.map((msg) => ({ msg }));
const NUM = 'unexpected number of violations';

describe('checkAssertion', () => {
  it.each([
    ['absent violations means yes', {}, v('a'), undefined],
    ['absent violations, no violation', {}, v(), `${NUM}: got 0 violations but want at least 1: got messages []`],
    ['yes holds with one', { violations: 'yes' }, v('a'), undefined],
    ['no holds with none', { violations: 'no' }, v(), undefined],
    ['no fails with two', { violations: 'no' }, v('a', 'b c'), `${NUM}: got 2 violations but want none: got messages [a b c]`],
    ['exact count holds', { violations: 2 }, v('a', 'b'), undefined],
    ['exact count fails', { violations: 1 }, v('a', 'b'), `${NUM}: got 2 violations but want exactly 1: got messages [a b]`],
    ['0 is none', { violations: 0 }, v(), undefined],
    ['message counts only matching violations', { violations: 1, message: 'init' }, v('initContainer x', 'container y'), undefined],
    ['message is unanchored', { violations: 'yes', message: 'tain' }, v('container'), undefined],
    ['message is a regexp', { violations: 2, message: '^(init)?[cC]ontainer' }, v('initContainer', 'Container', 'pod'), undefined],
    [
      'message in the failure is Go-quoted',
      { violations: 'yes', message: 'say "hi"' },
      v('other'),
      `${NUM}: got 0 violations containing "say \\"hi\\"" but want at least 1: got messages [other]`,
    ],
    ['no with a message', { violations: 'no', message: 'a' }, v('a', 'b'), `${NUM}: got 1 violations containing "a" but want none: got messages [a b]`],
    ['exact with a message', { violations: 3, message: 'a' }, v('a'), `${NUM}: got 1 violations containing "a" but want exactly 3: got messages [a]`],
    ['a negative count is invalid', { violations: -1 }, v(), 'invalid yaml: assertion.violation, if set, must be a nonnegative integer, "yes", or "no": got messages []'],
    ['another string is invalid', { violations: 'maybe' }, v('a'), 'invalid yaml: assertion.violation, if set, must be a nonnegative integer, "yes", or "no": got messages [a]'],
    ['an invalid regexp fails', { message: '(a' }, v('a'), 'message contains invalid regular expression: error parsing regexp: missing closing ): `(a`'],
    // As gator: the regexp is compiled only when there is a violation to match.
    ['an invalid regexp is unnoticed without violations', { violations: 'no', message: '(a' }, v(), undefined],
  ] as const)('%s', (_name, assertion, violations, want) => {
    expect(checkAssertion(assertion, violations)).toBe(want);
  });
});

describe('checkAssertions', () => {
  it('reports the first assertion that does not hold', () => {
    expect(checkAssertions([{ violations: 1 }, { violations: 'no', message: 'b' }, { violations: 5 }], v('b'))).toBe(
      `${NUM}: got 1 violations containing "b" but want none: got messages [b]`,
    );
  });
});
