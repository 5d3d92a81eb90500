// bouncer import gatekeeper --from-cluster against the real kube-apiserver: with no
// Gatekeeper CRDs it says so; with our own minimal CRDs (test/fixtures/gatekeeper-import/
// crds.yaml) and two templates and three constraints applied by kubectl, the written files
// give back exactly what was applied (plus the CRD's enforcementAction default, minus
// everything the server set), a constraint kind without a template is skipped and counted,
// and importing the written files again gives byte-identical files.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildBundle } from '../../src/authoring/build.js';
import { importCommand } from '../../src/cli/import-command.js';
import { readGatekeeperPolicies } from '../../src/gatekeeper/read-policies.js';
import { isBouncerError } from '../../src/errors/errors.js';
import { kubectl } from '../support/kubectl.js';
import { kubeFor } from '../support/kube.js';

const FIXTURES = 'test/fixtures/gatekeeper-import';
const CRDS = `${FIXTURES}/crds.yaml`;
const POLICIES = `${FIXTURES}/policies.yaml`;

type Obj = { apiVersion: string; kind: string; metadata: { name: string } & Record<string, unknown>; spec: Record<string, unknown> } & Record<string, unknown>;

function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}

// Cluster-wide CRDs named as Gatekeeper's: not on an existing cluster, which may run the real thing.
describe.skipIf(inject('externalCluster'))('bouncer import gatekeeper --from-cluster', () => {
  const state = inject('controlPlane');
  const kube = kubeFor(state);
  const root = mkdtempSync(join(tmpdir(), 'bouncer-import-e2e-'));
  const ok = (args: string[]) => {
    const r = kubectl(state, args);
    expect(r.code, `kubectl ${args.join(' ')}\n${r.stderr}`).toBe(0);
    return r.stdout;
  };
  async function runImport(args: string[]): Promise<{ code: number; out: string }> {
    let out = '';
    const code = await importCommand({ args: ['gatekeeper', ...args], env: {}, stdout: (t) => (out += t), stderr: (t) => (out += t), stdin: () => '' });
    return { code, out };
  }
  const fromCluster = (dir: string) => ['--from-cluster', '--kubeconfig', state.kubeconfig, '--context', kube.kc.getCurrentContext(), '-o', dir];
  let created = false;

  beforeAll(() => {
    expect(kubectl(state, ['get', 'crd', 'constrainttemplates.templates.gatekeeper.sh']).code, 'Gatekeeper CRDs are already installed').not.toBe(0);
  });
  afterAll(() => {
    if (created) kubectl(state, ['delete', '-f', CRDS, '--ignore-not-found']);
    rmSync(root, { recursive: true, force: true });
  });

  it('says Gatekeeper is not installed when the cluster serves no ConstraintTemplates', async () => {
    const err = await runImport(fromCluster(join(root, 'none'))).catch((e: unknown) => e);
    expect(isBouncerError(err, 'GATEKEEPER_NOT_INSTALLED'), String(err)).toBe(true);
    expect((err as Error).message).toMatch(/serves no templates\.gatekeeper\.sh API group: Gatekeeper's CRDs are not installed there/);
  });

  describe('with templates and constraints applied', () => {
    const applied = parseAllDocuments(readFileSync(POLICIES, 'utf8')).map((d) => d.toJS() as Obj);
    const first = join(root, 'first');

    beforeAll(() => {
      created = true;
      ok(['apply', '-f', CRDS]);
      ok(['wait', '--for', 'condition=Established', '--timeout=60s', '-f', CRDS]);
      ok(['apply', '-f', POLICIES]);
      // What Gatekeeper's controllers would write: status on the objects.
      ok(['patch', 'bouncerrequiredlabels.constraints.gatekeeper.sh', 'namespaces-need-owner', '--subresource=status', '--type=merge', '-p', '{"status":{"totalViolations":3}}']);
      ok(['patch', 'constrainttemplate', 'bouncerallowedrepos', '--subresource=status', '--type=merge', '-p', '{"status":{"created":true}}']);
    });

    it('the cluster holds what the importer must leave out (so the comparison below is not vacuous)', () => {
      const live = JSON.parse(ok(['get', 'constrainttemplates,bouncerrequiredlabels.constraints.gatekeeper.sh', '--show-managed-fields', '-o', 'json'])) as { items: Obj[] };
      for (const item of live.items) {
        expect(Object.keys(item.metadata)).toEqual(expect.arrayContaining(['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'managedFields', 'annotations']));
        expect(Object.keys(item.metadata.annotations as object)).toContain('kubectl.kubernetes.io/last-applied-configuration');
      }
      expect(live.items.filter((i) => i.status)).toHaveLength(2);
    });

    it('writes each template and constraint as applied, minus what the server set, and skips the kind without a template', async () => {
      const { code, out } = await runImport(fromCluster(first));
      expect(code, out).toBe(0);
      expect(out).toContain(`wrote 2 ConstraintTemplates and 3 Constraints to ${join(first, 'gatekeeper')}\n`);
      expect(out).toContain('  Constraint BouncerOrphan/left-behind (cluster bouncerorphan.constraints.gatekeeper.sh/left-behind): no ConstraintTemplate in the input defines kind BouncerOrphan\n');
      const files = tree(first);
      expect(Object.keys(files).sort()).toEqual([
        'gatekeeper/bouncerallowedrepos/constraints/images-from-registry.yaml',
        'gatekeeper/bouncerallowedrepos/template.yaml',
        'gatekeeper/bouncerrequiredlabels/constraints/namespaces-need-owner.yaml',
        'gatekeeper/bouncerrequiredlabels/constraints/prod-needs-cost-center.yaml',
        'gatekeeper/bouncerrequiredlabels/template.yaml',
      ]);
      for (const [path, text] of Object.entries(files)) {
        const written = parse(text) as Obj;
        const source = applied.find((a) => a.kind === written.kind && a.metadata.name === written.metadata.name);
        expect(source, path).toBeDefined();
        const expected = structuredClone(source!);
        // The constraint CRD defaults enforcementAction (as Gatekeeper's generated CRDs do): what the cluster enforced.
        if (expected.kind !== 'ConstraintTemplate') expected.spec.enforcementAction ??= 'deny';
        expect(written, path).toEqual(expected);
        expect(Object.keys(written).sort(), path).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
      }
    });

    it('importing the written files again gives byte-identical files', async () => {
      const second = join(root, 'second');
      const { code, out } = await runImport([first, '-o', second]);
      expect(code, out).toBe(0);
      expect(tree(second)).toEqual(tree(first));
    });

    it('writes a policy directory that bouncer build reads and compiles (import, then build)', async () => {
      const read = readGatekeeperPolicies(first);
      expect(read.templates.map((t) => t.name).sort()).toEqual(['bouncerallowedrepos', 'bouncerrequiredlabels']);
      expect(read.constraints.map((c) => c.id).sort()).toEqual([
        'BouncerAllowedRepos/images-from-registry',
        'BouncerRequiredLabels/namespaces-need-owner',
        'BouncerRequiredLabels/prod-needs-cost-center',
      ]);
      const built = await buildBundle({ policiesDir: first, output: join(root, 'imported.tar.gz'), opa: inject('opa') });
      expect(built.gatekeeper?.constraints.map((c) => c.id).sort()).toEqual(read.constraints.map((c) => c.id).sort());
    });

    it('a second import from the cluster into the same DIR needs --force, and then gives the same files', async () => {
      const before = tree(first);
      const err = await runImport(fromCluster(first)).catch((e: unknown) => e);
      expect(isBouncerError(err, 'IMPORT_TARGET_NOT_EMPTY'), String(err)).toBe(true);
      expect((await runImport([...fromCluster(first), '--force'])).code).toBe(0);
      expect(tree(first)).toEqual(before);
    });

    it('notes a template whose constraint kind the cluster does not serve (Gatekeeper made no CRD for it), and still imports it', async () => {
      const template = { apiVersion: 'templates.gatekeeper.sh/v1', kind: 'ConstraintTemplate', metadata: { name: 'bouncernocrd' }, spec: { crd: { spec: { names: { kind: 'BouncerNoCrd' } } }, targets: [{ target: 'admission.k8s.gatekeeper.sh', rego: 'package x\n' }] } };
      const r = kubectl(state, ['apply', '-f', '-'], JSON.stringify(template));
      expect(r.code, r.stderr).toBe(0);
      try {
        const dir = join(root, 'nocrd');
        const { code, out } = await runImport(fromCluster(dir));
        expect(code, out).toBe(0);
        expect(out).toContain('note: the cluster serves no constraint kind BouncerNoCrd for cluster constrainttemplates.templates.gatekeeper.sh/bouncernocrd: Gatekeeper has not created its CRD');
        expect(parse(readFileSync(join(dir, 'gatekeeper', 'bouncernocrd', 'template.yaml'), 'utf8'))).toEqual(template);
      } finally {
        ok(['delete', 'constrainttemplate', 'bouncernocrd']);
      }
    });
  });
});
