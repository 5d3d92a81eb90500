// `bouncer verify` against `gator verify` itself, on the suites of test/fixtures/verify: the
// same stdout (durations aside), the same stderr and exit status, for each way of naming
// suites and each output mode. Runs when GATOR_BIN names a gator binary (gator verify is
// not part of the pinned toolchain); the expected output is whatever gator prints.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { verifyCommand } from '../../src/cli/verify-command.js';
import { createOpaEvalEngine } from '../support/opa-eval-suite-engine.js';

const GATOR = process.env['GATOR_BIN'];
const run = promisify(execFile);
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bouncer-parity-'));
  cpSync('test/fixtures/verify', join(dir, 'suites'), { recursive: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const blank = (text: string): string => text.replace(/\d+\.\d{3}s/g, 'D');

async function gator(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(GATOR as string, ['verify', '--enable-k8s-native-validation=false', ...args], { cwd });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function bouncer(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const before = process.cwd();
  process.chdir(cwd);
  try {
    const code = await verifyCommand(
      { args, env: { OPA_BIN: inject('opa') }, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), stdin: () => '' },
      () => createOpaEvalEngine(inject('opa')),
    );
    return { code, stdout, stderr };
  } finally {
    process.chdir(before);
  }
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
  ])('%j (in %j)', async (args, sub) => {
    const cwd = join(dir, sub);
    const [want, got] = [await gator(args, cwd), await bouncer(args, cwd)];
    expect(blank(got.stdout)).toBe(blank(want.stdout));
    expect(got.stderr).toBe(want.stderr);
    expect(got.code).toBe(want.code);
  }, 60_000);
});
