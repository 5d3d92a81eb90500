// gator verify's output (gatekeeper pkg/gator/verify/printer_go.go, PrinterGo), byte for byte:
//   per suite, its tests, then `ok\t<path>\t<dur>` or `FAIL\t<path>\t<dur>`;
//   a failed test: `--- FAIL: <test>\t(<dur>)` and, when it failed itself, `  <error>`;
//   a failed case: `    --- FAIL: <case>\t(<dur>)` then `        <error>`;
//   verbose (-v) adds `=== RUN   `/`=== SKIP  ` lines and `--- PASS: ` for tests and cases
//   (cases indented by four spaces); at the end `PASS` or `FAIL`.
// Durations are verify.Duration ("%.3fs"). A skipped suite prints `ok` with 0.000s, as gator.
// gator writes this text with fmt.Println, so its stdout ends with one more "\n" (the
// command adds it; see src/cli/verify-command.ts).
import { goSeconds } from './go-format.js';
import type { CaseResult, SuiteResult, TestResult, VerifyResult } from './verify-runner.js';

export function formatGatorReport(result: Pick<VerifyResult, 'suites'>, verbose: boolean): string {
  let out = '';
  let fail = false;
  for (const suite of result.suites) {
    out += formatSuite(suite, verbose);
    if (suiteFailed(suite)) fail = true;
  }
  return `${out}${fail ? 'FAIL' : 'PASS'}\n`;
}

const caseFailed = (c: CaseResult): boolean => c.error !== undefined;
const testFailed = (t: TestResult): boolean => t.error !== undefined || t.cases.some(caseFailed);
const suiteFailed = (s: SuiteResult): boolean => s.tests.some(testFailed);

function formatSuite(suite: SuiteResult, verbose: boolean): string {
  const tests = suite.tests.map((t) => formatTest(t, verbose)).join('');
  return `${tests}${suiteFailed(suite) ? 'FAIL' : 'ok'}\t${suite.path}\t${goSeconds(suite.runtimeNs)}\n`;
}

function formatTest(test: TestResult, verbose: boolean): string {
  if (verbose && test.skipped) return `=== SKIP  ${test.name}\n`;
  let out = verbose ? `=== RUN   ${test.name}\n` : '';
  for (const c of test.cases) out += formatCase(c, verbose);
  if (testFailed(test)) {
    out += `--- FAIL: ${test.name}\t(${goSeconds(test.runtimeNs)})\n`;
    if (test.error !== undefined) out += `  ${test.error}\n`;
  } else if (verbose) {
    out += `--- PASS: ${test.name}\t(${goSeconds(test.runtimeNs)})\n`;
  }
  return out;
}

function formatCase(c: CaseResult, verbose: boolean): string {
  if (verbose && c.skipped) return `    === SKIP  ${c.name}\n`;
  let out = verbose ? `    === RUN   ${c.name}\n` : '';
  if (c.error !== undefined) out += `    --- FAIL: ${c.name}\t(${goSeconds(c.runtimeNs)})\n        ${c.error}\n`;
  else if (verbose) out += `    --- PASS: ${c.name}\t(${goSeconds(c.runtimeNs)})\n`;
  return out;
}
