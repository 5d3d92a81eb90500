// runSuites: every distinct template of every suite compiled in one engine.compile call (a kind
// defined by two files goes to a second batch), and a template that does not compile fails only
// the tests that use it. Evaluated by the real OPA CLI (the fixture engine).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readSuites } from '../../src/gatekeeper/suite.js';
import { runSuites } from '../../src/gatekeeper/verify-runner.js';
import { createOpaEvalEngine } from '../support/opa-eval-suite-engine.js';

let dir: string;

const template = (kind: string, rego: string): string =>
  `apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata:\n  name: ${kind.toLowerCase()}\nspec:\n  crd:\n    spec:\n      names:\n        kind: ${kind}\n  targets:\n  - target: admission.k8s.gatekeeper.sh\n    rego: |\n${rego
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n')}\n`;
const constraint = (kind: string, name: string): string => `apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: ${kind}\nmetadata:\n  name: ${name}\n`;
const suite = (tests: { name: string; template: string; constraint: string; want: string }[]): string =>
  `kind: Suite\napiVersion: test.gatekeeper.sh/v1alpha1\ntests:\n${tests
    .map((t) => `- name: ${t.name}\n  template: ${t.template}\n  constraint: ${t.constraint}\n  cases:\n  - name: c\n    object: ../pod.yaml\n    assertions:\n    - violations: ${t.want}\n`)
    .join('')}`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bouncer-runner-'));
  const write = (path: string, text: string): void => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  write('pod.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n');
  write('one/always.yaml', template('K8sAlways', 'package always\nviolation[{"msg": "always"}] { true }'));
  write('one/never.yaml', template('K8sNever', 'package never\nviolation[{"msg": "never"}] { false }'));
  write('one/broken.yaml', template('K8sBroken', 'package broken\nviolation[{"msg": m}] { m := }'));
  // Same kind as one/always.yaml, another file and Rego: compiled in a second batch.
  write('two/always.yaml', template('K8sAlways', 'package always2\nviolation[{"msg": "always, again"}] { true }'));
  write('one/c-always.yaml', constraint('K8sAlways', 'a'));
  write('one/c-never.yaml', constraint('K8sNever', 'n'));
  write('one/c-broken.yaml', constraint('K8sBroken', 'b'));
  write('two/c-always.yaml', constraint('K8sAlways', 'a2'));
  write(
    'one/suite.yaml',
    suite([
      { name: 'always', template: 'always.yaml', constraint: 'c-always.yaml', want: '1' },
      { name: 'never', template: 'never.yaml', constraint: 'c-never.yaml', want: 'no' },
      { name: 'broken', template: 'broken.yaml', constraint: 'c-broken.yaml', want: 'no' },
    ]),
  );
  write(
    'two/suite.yaml',
    suite([
      { name: 'always-again', template: 'always.yaml', constraint: 'c-always.yaml', want: '1' },
      { name: 'same-file-again', template: '../one/always.yaml', constraint: '../one/c-always.yaml', want: 'yes' },
    ]),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('runSuites', () => {
  it('compiles each distinct template once, in as few batches as their kinds allow; a broken one fails only its test', async () => {
    const engine = createOpaEvalEngine(inject('opa'));
    const result = await runSuites(await readSuites([`${dir}/...`]), engine);
    // Batch 1 failed on K8sBroken, so its templates were compiled one by one; batch 2 holds the second K8sAlways.
    expect(engine.compiles).toEqual([['K8sAlways', 'K8sNever', 'K8sBroken'], ['K8sAlways'], ['K8sNever'], ['K8sBroken'], ['K8sAlways']]);
    const outcome = result.suites.flatMap((s) => s.tests.map((t) => [t.name, t.error === undefined && t.cases.every((c) => c.error === undefined)]));
    expect(outcome).toEqual([
      ['always', true],
      ['never', true],
      ['broken', false],
      ['always-again', true],
      ['same-file-again', true],
    ]);
    const broken = result.suites[0]?.tests[2];
    expect(broken?.error).toMatch(/^adding template: .*broken\.yaml/);
    expect(broken?.cases).toEqual([]);
    expect(result.failed).toBe(true);
  }, 60_000);
});
