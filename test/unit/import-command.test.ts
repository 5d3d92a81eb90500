// bouncer import gatekeeper from files, run in-process with captured output (the cluster
// path runs against the real API server in test/e2e/import-gatekeeper.test.ts).
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { importCommand } from '../../src/cli/import-command.js';
import { isBouncerError, type ErrorCode } from '../../src/errors/errors.js';
import { asServed, constraint, template } from '../support/gatekeeper-objects.js';

const root = mkdtempSync(join(tmpdir(), 'bouncer-import-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `d${n++}`);

async function run(args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await importCommand({ args, env: {}, stdout: (t) => (out += t), stderr: (t) => (err += t), stdin: () => stdin });
  return { code, out, err };
}

async function rejected(args: string[], code: ErrorCode): Promise<string> {
  try {
    await run(args);
  } catch (err) {
    expect(isBouncerError(err, code), String(err)).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected the command to fail');
}

describe('bouncer import gatekeeper FILES', () => {
  it('imports kubectl get -o yaml output from stdin and prints what it wrote, skipped and ignored, and the next steps', async () => {
    const list = { apiVersion: 'v1', kind: 'List', items: [asServed(template()), asServed(constraint('b', ['x'])), asServed(constraint('a', ['y'])), asServed(constraint('lost', ['z'], 'GoneKind'))] };
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } };
    const out = fresh();
    const r = await run(['gatekeeper', '-', '-o', out], `${stringify(list)}---\n${stringify(pod)}`);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')).toEqual(
      [
        `wrote 1 ConstraintTemplate and 2 Constraints to ${join(out, 'gatekeeper')}`,
        '  bouncerrequiredlabels  2 constraints: a, b',
        'warning: skipped 1 Constraint, not written:',
        '  Constraint GoneKind/lost (stdin (document 1) item 4): no ConstraintTemplate in the input defines kind GoneKind',
        'ignored 1 document that is not a Gatekeeper template or constraint: Pod',
        'next steps:',
        expect.stringMatching(new RegExp(`^  bouncer build ${out} +compile the templates' Rego and check every constraint \\(parameters, match, builtins\\) into bundle\\.tar\\.gz$`)),
        expect.stringMatching(/^ {2}bouncer verify SUITE\.\.\. +run your gator verify suites against the same templates and constraints$/),
        expect.stringMatching(/^ {2}bouncer push bundle\.tar\.gz --name NAME +store the bundle in the cluster and make it active$/),
        '',
      ],
    );
    expect(readdirSync(join(out, 'gatekeeper', 'bouncerrequiredlabels', 'constraints')).sort()).toEqual(['a.yaml', 'b.yaml']);
  });

  it('reads a directory recursively (yaml, yml, json; hidden folders left out)', async () => {
    const src = fresh();
    mkdirSync(join(src, 'library', 'labels', 'samples'), { recursive: true });
    mkdirSync(join(src, '.git'), { recursive: true });
    writeFileSync(join(src, 'library', 'labels', 'template.yaml'), stringify(template()));
    writeFileSync(join(src, 'library', 'labels', 'samples', 'constraint.yml'), stringify(constraint('c', ['x'])));
    writeFileSync(join(src, 'library', 'other.json'), JSON.stringify(template('BouncerOther')));
    writeFileSync(join(src, '.git', 'x.yaml'), stringify(template('BouncerHidden')));
    writeFileSync(join(src, 'notes.txt'), 'not yaml: [');
    const out = fresh();
    const r = await run(['gatekeeper', src, '-o', out]);
    expect(r.code).toBe(0);
    expect(readdirSync(join(out, 'gatekeeper')).sort()).toEqual(['bouncerother', 'bouncerrequiredlabels']);
  });

  it('writes nothing and exits 1 when the input holds no ConstraintTemplate', async () => {
    const file = join(fresh() + '.yaml');
    writeFileSync(file, stringify(constraint('c', ['x'])));
    const out = fresh();
    const r = await run(['gatekeeper', file, '-o', out]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^nothing written: the input holds no ConstraintTemplate\n/);
    expect(() => readdirSync(out)).toThrow();
  });

  it('refuses a non-empty gatekeeper/ unless --force', async () => {
    const file = join(fresh() + '.yaml');
    writeFileSync(file, stringify(template()));
    const out = fresh();
    expect((await run(['gatekeeper', file, '-o', out])).code).toBe(0);
    expect(await rejected(['gatekeeper', file, '-o', out], 'IMPORT_TARGET_NOT_EMPTY')).toContain('--force');
    expect((await run(['gatekeeper', file, '-o', out, '--force'])).code).toBe(0);
  });

  it.each([
    [['-o', 'x'], /say what to import: gatekeeper/],
    [['opa', 'f.yaml', '-o', 'x'], /only gatekeeper/],
    [['gatekeeper', 'f.yaml'], /-o DIR is required/],
    [['gatekeeper', '-o', 'x'], /give --from-cluster, FILES, or both/],
    [['gatekeeper', 'f.yaml', '-o', 'x', '--context', 'c'], /--kubeconfig and --context go with --from-cluster/],
    [['gatekeeper', 'f.yaml', '-o', 'x', '--frm-cluster'], /Unknown option '--frm-cluster'/],
  ])('refuses %j with CONFIG_INVALID and the usage', async (args, message) => {
    const text = await rejected(args, 'CONFIG_INVALID');
    expect(text).toMatch(message);
    expect(text).toContain('usage: bouncer import gatekeeper');
  });

  it('refuses a missing file and an unreadable one with IMPORT_INPUT_INVALID naming it', async () => {
    const missing = join(root, 'missing.yaml');
    expect(await rejected(['gatekeeper', missing, '-o', fresh()], 'IMPORT_INPUT_INVALID')).toContain(`cannot read ${missing}`);
    const bad = join(fresh() + '.yaml');
    writeFileSync(bad, 'a: b\n  c: [\n');
    expect(await rejected(['gatekeeper', bad, '-o', fresh()], 'IMPORT_INPUT_INVALID')).toMatch(new RegExp(`^${bad}: line \\d+: not readable`));
  });

  it('refuses a --context the kubeconfig does not have, naming the ones it has', async () => {
    const kubeconfig = join(fresh() + '.kubeconfig');
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }],
        users: [{ name: 'u', user: { token: 't' } }],
        contexts: [{ name: 'dev', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'dev',
      }),
    );
    expect(await rejected(['gatekeeper', '--from-cluster', '--kubeconfig', kubeconfig, '--context', 'prod', '-o', fresh()], 'CONFIG_INVALID')).toBe(
      'the kubeconfig has no context "prod" (it has: dev)',
    );
  });
});
