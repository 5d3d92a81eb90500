// `bouncer verify` end to end over the suites in test/fixtures/verify, evaluated by the real
// OPA CLI (the fixture engine until the WASM engine lands): gator's report, exit statuses,
// bad input, and templates compiled once for every suite of the run.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { verifyCommand } from '../../src/cli/verify-command.js';
import { isBouncerError } from '../../src/errors/errors.js';
import { createOpaEvalEngine, type RecordingEngine } from '../support/opa-eval-suite-engine.js';

const FIXTURES = 'test/fixtures/verify';
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bouncer-verify-'));
  cpSync(FIXTURES, join(dir, 'suites'), { recursive: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function verify(args: string[]): Promise<{ code: number; stdout: string; stderr: string; engine: RecordingEngine }> {
  let stdout = '';
  let stderr = '';
  const engine = createOpaEvalEngine(inject('opa'));
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const code = await verifyCommand(
      { args, env: { OPA_BIN: inject('opa') }, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), stdin: () => '' },
      () => engine,
    );
    return { code, stdout, stderr, engine };
  } finally {
    process.chdir(cwd);
  }
}

/** The report with durations blanked (they are measured). */
const normalised = (text: string): string => text.replace(/\d+\.\d{3}s/g, 'D');

describe('bouncer verify', () => {
  it('a passing suite: ok line, PASS, the extra newline of fmt.Println, exit 0', async () => {
    const { code, stdout, stderr } = await verify(['suites/sub']);
    expect(code).toBe(0);
    expect(normalised(stdout)).toBe('ok\tsuites/sub/suite.yaml\tD\nPASS\n\n');
    expect(stderr).toBe('');
  });

  it('failures: each failed case and test with its reason, FAIL, exit 1', async () => {
    const { code, stdout, stderr, engine } = await verify(['suites/...']);
    expect(code).toBe(1);
    expect(stderr).toBe('Error: FAIL\n');
    const lines = normalised(stdout).split('\n');
    expect(lines.slice(0, 2)).toEqual(['ok\tsuites/skipped-suite.yaml\tD', 'ok\tsuites/sub/suite.yaml\tD']);
    const abs = join(dir, 'suites').slice(1);
    for (const expected of [
      '    --- FAIL: wrong-count\t(D)',
      '        unexpected number of violations: got 1 violations containing "(?i)MISSING" but want exactly 2: got messages [missing label team on bad (op=)]',
      `        object file must contain exactly one object: "${abs}/two.yaml" defines 2 objects`,
      '        invalid Case: must define object',
      '        invalid Case: assertions must be non-empty',
      `        open ${abs}/nope.yaml: no such file or directory`,
      '        not a valid AdmissionReview object: unable to convert to an AdmissionReview object, error: strict decoding error: unknown field "request.foo"',
      '--- FAIL: need-team\t(D)',
      '  constraint should have failed schema validation: got error %!w(<nil>) but want schema validation failed',
      `  reading ConstraintTemplate from "${abs}/nope.yaml": open ${abs}/nope.yaml: no such file or directory`,
      'FAIL\tsuites/suite.yaml\tD',
      'FAIL',
    ]) {
      expect(lines).toContain(expected);
    }
    // Passing cases and the passing invalid-constraint test print nothing without -v.
    for (const quiet of ['ok', 'missing', 'inventory-clash', 'ar-delete', 'invalid-ok', 'skipped']) expect(stdout).not.toContain(`FAIL: ${quiet}\t`);
    // One template, compiled once for both suites and every test.
    expect(engine.compiles).toEqual([['K8sNeedLabel']]);
    // The inventory reached the engine for the case that names it, and only there.
    expect(engine.reviews.filter((r) => r.inventory.length > 0).map((r) => r.inventory.length)).toEqual([1]);
  });

  it('-v lists every test and case, skipped ones as SKIP', async () => {
    const { stdout } = await verify(['-v', 'suites']);
    const lines = normalised(stdout).split('\n');
    for (const expected of ['=== RUN   need-team', '    === RUN   ok', '    --- PASS: ok\t(D)', '    === SKIP  skipped', '=== SKIP  skipped-test', '--- PASS: invalid-ok\t(D)']) {
      expect(lines).toContain(expected);
    }
  });

  it('--run selects tests and cases by Go regexp', async () => {
    const { code, stdout } = await verify(['-v', '--run', 'need-team//^(ok|missing)$', 'suites']);
    expect(code).toBe(0);
    const run = normalised(stdout).split('\n').filter((l) => l.includes('=== RUN'));
    expect(run).toEqual(['=== RUN   need-team', '    === RUN   ok', '    === RUN   missing']);
  });

  it.each([
    [['suites/nope'], /^listing test files: stat .*suites\/nope: no such file or directory$/],
    [['--run', 'a//b//c', 'suites'], /^compiling filter: invalid test filter: a filter may include at most one "\/\/"$/],
  ])('bad input %j stops the run with SUITE_INVALID (exit status 2)', async (args, message) => {
    const err = await verify(args).catch((e: unknown) => e);
    expect(isBouncerError(err, 'SUITE_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(message);
  });

  it('a suite with a field of the wrong type stops the run, naming the file and line', async () => {
    writeFileSync(join(dir, 'broken.yaml'), 'kind: Suite\napiVersion: test.gatekeeper.sh/v1alpha1\ntests:\n- name: x\n  skip: "no"\n');
    const err = await verify(['broken.yaml']).catch((e: unknown) => e);
    expect((err as Error).message).toBe(`${join(dir, 'broken.yaml')}:5: invalid Suite: suite.tests[0].skip must be true or false`);
  });

  it('accepts gator flags that do not change the result, refuses --trace', async () => {
    expect((await verify(['--enable-k8s-native-validation=false', '--verbose=false', 'suites/sub'])).code).toBe(0);
    await expect(verify(['--trace', 'suites/sub'])).rejects.toThrow(/--trace is not supported/);
  });
});
