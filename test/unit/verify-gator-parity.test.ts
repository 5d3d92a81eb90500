// `bouncer verify` through bouncer's real engine (createSuiteEngine: `bouncer build`'s
// templates, TypeScript match and enforcement, the WASM evaluator, as src/cli/main.ts wires
// it) against `gator verify` itself: the same stdout (durations blanked), the same stderr and
// the same exit status. On test/fixtures/verify, for each way of naming suites and each output
// mode, and in -v mode on each suite of test/fixtures/gatekeeper-suites, whose cases are made
// so that a wrong match, enforcement, review or message semantic changes the report. The
// expected output is whatever gator prints; nothing here is hand-written.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createSuiteEngine } from '../../src/authoring/suite-engine.js';
import { verifyCommand } from '../../src/cli/verify-command.js';
import { gatorTool } from '../support/test-tools.js';

const GATOR = gatorTool();
const SUITES = 'test/fixtures/gatekeeper-suites';
const run = promisify(execFile);

/** Suites where bouncer is known to print something else than gator, and why. */
const KNOWN_DIFFERENCES: Readonly<Record<string, string>> = {
  'known-error-text-suite.yaml': 'src/engine words an evaluation error otherwise than OPA',
  'known-namespace-request-suite.yaml': "gator keeps an AdmissionReview Namespace's request namespace; bouncer clears it, as Gatekeeper's webhook does",
};
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bouncer-parity-'));
  cpSync('test/fixtures/verify', join(dir, 'suites'), { recursive: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const blank = (text: string): string => text.replace(/\d+\.\d{3}s/g, 'D');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function gator(args: string[], cwd: string): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(GATOR as string, ['verify', '--enable-k8s-native-validation=false', ...args], { cwd });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as Outcome;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function bouncer(args: string[], cwd: string): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const before = process.cwd();
  process.chdir(cwd);
  try {
    const code = await verifyCommand(
      { args, env: { OPA_BIN: inject('opa') }, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), stdin: () => '' },
      ({ opa }) => createSuiteEngine(opa),
    );
    return { code, stdout, stderr };
  } finally {
    process.chdir(before);
  }
}

async function compare(args: string[], cwd: string): Promise<void> {
  const [want, got] = [await gator(args, cwd), await bouncer(args, cwd)];
  expect(blank(got.stdout)).toBe(blank(want.stdout));
  expect(got.stderr).toBe(want.stderr);
  expect(got.code).toBe(want.code);
}

describe.skipIf(!GATOR)('bouncer verify prints what gator verify prints', () => {
  it.each([
    [['suites/...'], ''],
    [['-v', 'suites/...'], ''],
    [['suites'], ''],
    [['suites/'], ''],
    [['./suites/sub/suite.yaml'], ''],
    [['--run', 'ok', 'suites/...'], ''],
    [['-v', '--run', 'need-team//^miss', 'suites/...'], ''],
    [['./...'], 'suites'],
    [['sub/...'], 'suites'],
    [['../suites/sub'], 'suites'],
  ])('%j (in %j)', (args, sub) => compare(args, join(dir, sub)), 60_000);

  const suites = readdirSync(SUITES).filter((f) => f.endsWith('-suite.yaml') && !(f in KNOWN_DIFFERENCES)).sort();
  it.each(suites)('-v %s', (file) => compare(['-v', join(SUITES, file)], process.cwd()), 60_000);

  // Each known difference is expected to make the comparison fail; when one is fixed this
  // test fails, and the suite moves out of KNOWN_DIFFERENCES.
  for (const [file, why] of Object.entries(KNOWN_DIFFERENCES)) {
    it.fails(`-v ${file} differs: ${why}`, () => compare(['-v', join(SUITES, file)], process.cwd()), 60_000);
  }
});
