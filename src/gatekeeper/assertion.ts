// A suite assertion checked against a case's violations, with gator's semantics and messages
// (gatekeeper pkg/gator/verify/assertion.go):
//  - a violation matches when the assertion has no `message`, or when the Go regexp
//    `message` matches somewhere in its msg (unanchored);
//  - `violations` absent: "yes"; an integer N: exactly N match; "yes": at least one; "no": none;
//    a negative integer or another string fails the case as invalid;
//  - a count that does not hold reports every violation's msg ("got messages [...]");
//  - the regexp is compiled only when there is a violation to match (as gator: an invalid
//    regexp is not noticed when the review has no violations).
import { compileGoRegexp, GoRegexpError } from './go-regexp.js';
import { goQuote, goStringSlice } from './go-format.js';
import type { SuiteAssertion } from './suite.js';

export interface AssertedViolation {
  readonly msg: string;
  readonly enforcementAction?: string;
}

const INVALID_VIOLATIONS = 'invalid yaml: assertion.violation, if set, must be a nonnegative integer, "yes", or "no"';
const NUM = 'unexpected number of violations';

/** Why the assertion does not hold (gator's message), or undefined when it holds. */
export function checkAssertion(assertion: Omit<SuiteAssertion, 'line'>, violations: readonly AssertedViolation[]): string | undefined {
  let matching = 0;
  let regexp: RegExp | undefined;
  for (const violation of violations) {
    if (assertion.message !== undefined) {
      try {
        regexp ??= compileGoRegexp(assertion.message);
      } catch (err) {
        if (err instanceof GoRegexpError) return `message contains invalid regular expression: ${err.message}`;
        throw err;
      }
      if (!regexp.test(violation.msg)) continue;
    }
    matching++;
  }
  const problem = countProblem(assertion.violations ?? 'yes', assertion.message, matching);
  return problem === undefined ? undefined : `${problem}: got messages ${goStringSlice(violations.map((v) => v.msg))}`;
}

function countProblem(want: number | string, message: string | undefined, matching: number): string | undefined {
  const containing = message === undefined ? '' : ` containing ${goQuote(message)}`;
  if (typeof want === 'number') {
    if (want < 0) return INVALID_VIOLATIONS;
    return want === matching ? undefined : `${NUM}: got ${matching} violations${containing} but want exactly ${want}`;
  }
  if (want === 'yes') return matching > 0 ? undefined : `${NUM}: got ${matching} violations${containing} but want at least 1`;
  if (want === 'no') return matching === 0 ? undefined : `${NUM}: got ${matching} violations${containing} but want none`;
  return INVALID_VIOLATIONS;
}

/** The first assertion of a case that does not hold, as gator reports it; undefined: all hold. */
export function checkAssertions(assertions: readonly Omit<SuiteAssertion, 'line'>[], violations: readonly AssertedViolation[]): string | undefined {
  for (const assertion of assertions) {
    const problem = checkAssertion(assertion, violations);
    if (problem !== undefined) return problem;
  }
  return undefined;
}
