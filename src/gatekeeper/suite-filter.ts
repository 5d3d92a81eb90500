// gator verify's --run filter (gatekeeper pkg/gator/verify/filter.go): "" runs everything;
// "RE" runs the cases whose name or whose test's name matches RE (a test runs when its name
// or one of its cases' names matches); "TEST_RE//CASE_RE" runs the cases matching CASE_RE in
// tests matching TEST_RE. Both are Go regexps, unanchored.
import { BouncerError } from '../errors/errors.js';
import { compileGoRegexp } from './go-regexp.js';

export interface SuiteFilter {
  matchesTest(test: { readonly name: string; readonly cases: readonly { readonly name: string }[] }): boolean;
  matchesCase(testName: string, caseName: string): boolean;
}

export function createSuiteFilter(run: string): SuiteFilter {
  if (run === '') return { matchesTest: () => true, matchesCase: () => true };
  const parts = run.split('//');
  if (parts.length > 2) throw filterError('a filter may include at most one "//"');
  const compile = (pattern: string): RegExp => {
    try {
      return compileGoRegexp(pattern);
    } catch (err) {
      throw filterError((err as Error).message);
    }
  };
  if (parts.length === 1) {
    const re = compile(run);
    const matchesCase = (testName: string, caseName: string): boolean => re.test(caseName) || re.test(testName);
    return { matchesCase, matchesTest: (t) => re.test(t.name) || t.cases.some((c) => matchesCase(t.name, c.name)) };
  }
  const testRe = compile(parts[0] ?? '');
  const caseRe = compile(parts[1] ?? '');
  return {
    matchesTest: (t) => testRe.test(t.name),
    matchesCase: (testName, caseName) => caseRe.test(caseName) && testRe.test(testName),
  };
}

function filterError(reason: string): BouncerError {
  return new BouncerError('SUITE_INVALID', `compiling filter: invalid test filter: ${reason}`);
}
