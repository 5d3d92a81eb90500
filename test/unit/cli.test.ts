// The policy-author CLI, run in-process with captured output, on real policies and bundles.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { configMapRequest } from '../support/bundle-files.js';

async function run(args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, {
    env: { OPA_BIN: inject('opa') },
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    stdin: () => stdin,
  });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'bouncer-cli-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const reviewDoc = (labels: Record<string, string>, uid: string) =>
  JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: configMapRequest(labels, { uid }) });

describe('bouncer review', () => {
  const basic = () => inject('bundles').basic as string;

  it('prints one AdmissionReview response per document and exits 1 when any is denied', async () => {
    const file = join(dir, 'reviews.json');
    writeFileSync(file, `[${reviewDoc({}, 'a')}, ${reviewDoc({ deny: 'true' }, 'b')}]`);
    const { code, out } = await run(['review', '--bundle', basic(), file]);
    expect(code).toBe(1);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.response.uid, l.response.allowed])).toEqual([
      ['a', true],
      ['b', false],
    ]);
  });

  it('reads several YAML documents from stdin and exits 0 when all are allowed', async () => {
    const yaml = ['a', 'b'].map((uid) => `---\n${reviewDoc({}, uid)}`).join('\n');
    const { code, out } = await run(['review', '--bundle', basic(), '-'], yaml);
    expect(code).toBe(0);
    expect(out.trim().split('\n')).toHaveLength(2);
  });

  it('answers a malformed document as the server would and exits 2', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: { uid: 'x' } }));
    const { code, out, err } = await run(['review', '--bundle', basic(), file]);
    expect(code).toBe(2);
    expect(JSON.parse(out).response).toMatchObject({ uid: 'x', allowed: false, status: { code: 400 } });
    expect(err).toContain('REVIEW_UNSUPPORTED_VERSION');
  });

  it('patches on --endpoint mutate', async () => {
    const file = join(dir, 'one.json');
    writeFileSync(file, reviewDoc({}, 'm'));
    const { code, out } = await run(['review', '--bundle', basic(), '--endpoint', 'mutate', file]);
    expect(code).toBe(0);
    expect(JSON.parse(out).response).toMatchObject({ patchType: 'JSONPatch' });
  });

  it.each([
    [['review'], 'no input files'],
    [['review', '--bundle', '/nonexistent.tar.gz', '/nonexistent.json'], 'cannot read /nonexistent.json'],
    [['review', '--endpoint', 'audit', 'x'], '--endpoint must be validate or mutate'],
    [['frobnicate'], 'unknown command frobnicate'],
  ])('%j fails with a message that says what to fix', async (args, message) => {
    const { code, err } = await run(args);
    expect(code).toBe(2);
    expect(err).toContain(message);
  });
});

describe('bouncer build and test', () => {
  it('builds a bundle whose manifest carries the revision and the policies', async () => {
    const output = join(dir, 'built.tar.gz');
    const { code, out } = await run(['build', 'test/fixtures/policy-sets/basic', '-o', output, '--revision', 'r42']);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ output, revision: 'r42', policies: expect.arrayContaining(['deny-label', 'patch-a']) });
  });

  it('reports a policy directory that breaks the contract', async () => {
    const bad = join(dir, 'bad-policies');
    cpSync('test/fixtures/policy-sets/basic/deny-label', join(bad, 'deny-label'), { recursive: true });
    writeFileSync(join(bad, 'deny-label', 'policy.rego'), 'package policies.wrong_name\n\ndeny contains "x" if true\n');
    const { code, err } = await run(['build', bad, '-o', join(dir, 'x.tar.gz')]);
    expect(code).toBe(2);
    expect(err).toContain('must declare package policies.deny_label');
  });

  it('passes the starter library: opa unit tests and every fixture', async () => {
    const { code, out } = await run(['test', 'policies']);
    expect(out).toMatch(/PASS: \d+\/\d+/);
    expect(out).toMatch(/fixtures: \d+ passed, 0 failed/);
    expect(code).toBe(0);
  });

  it('fails when a fixture expectation does not hold, naming the fixture and the difference', async () => {
    const copy = join(dir, 'policies-copy');
    cpSync('policies', copy, { recursive: true });
    writeFileSync(
      join(copy, 'disallow-privileged', 'fixtures', 'zz-wrong.yaml'),
      `name: wrongly expects a privileged pod to pass
request:
  kind: {group: "", version: v1, kind: Pod}
  operation: CREATE
  namespace: team-a
  object:
    apiVersion: v1
    kind: Pod
    metadata: {name: p, namespace: team-a}
    spec:
      securityContext: {seccompProfile: {type: RuntimeDefault}}
      containers: [{name: app, image: "registry.k8s.io/pause:3.10", securityContext: {privileged: true}, resources: {limits: {cpu: 1, memory: 1Gi}}}]
expect:
  allowed: true
`,
    );
    const { code, out } = await run(['test', copy]);
    expect(code).toBe(1);
    expect(out).toContain('FAIL');
    expect(out).toContain('zz-wrong.yaml');
    expect(out).toContain('expected allowed=true, got allowed=false');
  });
});
