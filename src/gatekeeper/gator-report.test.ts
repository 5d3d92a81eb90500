// The report, byte for byte in gator's format (gatekeeper pkg/gator/verify/printer_go.go).
import { describe, expect, it } from 'vitest';
import { formatGatorReport } from './gator-report.js';
import type { VerifyResult } from './verify-runner.js';

const ms = (n: number): number => n * 1e6;

const passing: VerifyResult = {
  failed: false,
  suites: [
    {
      path: 'lib/a/suite.yaml', skipped: false, runtimeNs: ms(12),
      tests: [
        { name: 't1', skipped: false, runtimeNs: ms(10), cases: [{ name: 'c1', skipped: false, runtimeNs: ms(4) }, { name: 'c2', skipped: true, runtimeNs: 0 }] },
        { name: 't2', skipped: true, runtimeNs: 0, cases: [] },
      ],
    },
    { path: 'lib/b/suite.yaml', skipped: true, runtimeNs: 0, tests: [] },
  ],
};

const failing: VerifyResult = {
  failed: true,
  suites: [
    {
      path: 'lib/a/suite.yaml', skipped: false, runtimeNs: ms(1500),
      tests: [
        { name: 't1', skipped: false, runtimeNs: ms(20), cases: [{ name: 'ok', skipped: false, runtimeNs: ms(1) }, { name: 'bad', skipped: false, runtimeNs: ms(2), error: 'unexpected number of violations: got 0 violations but want at least 1: got messages []' }] },
        { name: 't2', skipped: false, runtimeNs: ms(0.4), cases: [], error: 'invalid Suite: missing template' },
      ],
    },
  ],
};

describe('formatGatorReport', () => {
  it('passing, not verbose: one ok line per suite (a skipped suite too), then PASS', () => {
    expect(formatGatorReport(passing, false)).toBe('ok\tlib/a/suite.yaml\t0.012s\nok\tlib/b/suite.yaml\t0.000s\nPASS\n');
  });

  it('passing, verbose: RUN, SKIP and PASS lines', () => {
    expect(formatGatorReport(passing, true)).toBe(
      [
        '=== RUN   t1',
        '    === RUN   c1',
        '    --- PASS: c1\t(0.004s)',
        '    === SKIP  c2',
        '--- PASS: t1\t(0.010s)',
        '=== SKIP  t2',
        'ok\tlib/a/suite.yaml\t0.012s',
        'ok\tlib/b/suite.yaml\t0.000s',
        'PASS',
        '',
      ].join('\n'),
    );
  });

  it('failing: the failed case and its reason, the failed tests, FAIL lines', () => {
    expect(formatGatorReport(failing, false)).toBe(
      [
        '    --- FAIL: bad\t(0.002s)',
        '        unexpected number of violations: got 0 violations but want at least 1: got messages []',
        '--- FAIL: t1\t(0.020s)',
        '--- FAIL: t2\t(0.000s)',
        '  invalid Suite: missing template',
        'FAIL\tlib/a/suite.yaml\t1.500s',
        'FAIL',
        '',
      ].join('\n'),
    );
  });

  it('failing, verbose', () => {
    expect(formatGatorReport(failing, true)).toBe(
      [
        '=== RUN   t1',
        '    === RUN   ok',
        '    --- PASS: ok\t(0.001s)',
        '    === RUN   bad',
        '    --- FAIL: bad\t(0.002s)',
        '        unexpected number of violations: got 0 violations but want at least 1: got messages []',
        '--- FAIL: t1\t(0.020s)',
        '=== RUN   t2',
        '--- FAIL: t2\t(0.000s)',
        '  invalid Suite: missing template',
        'FAIL\tlib/a/suite.yaml\t1.500s',
        'FAIL',
        '',
      ].join('\n'),
    );
  });

  it('no suites: PASS', () => {
    expect(formatGatorReport({ suites: [] }, false)).toBe('PASS\n');
  });
});
