// `bouncer build` of policy directories that declare what they read from data.inventory: the
// manifest's metadata.bouncer.inventory, the warnings and notes, the audit marks a loaded
// bundle exposes (LoadedPolicy.meta.audit, LoadedTemplate.meta.audit), the RBAC rendered for
// the replicated kinds, and `bouncer sync check --format json` on the same directory.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BUILTIN_RESOURCES } from '../../src/authoring/builtin-resources.js';
import { buildBundle, type BuildResult } from '../../src/authoring/build.js';
import { inventoryRules } from '../../src/authoring/inventory-rbac.js';
import { loadBundle, type LoadedBundle } from '../../src/bundles/bundle.js';
import { buildCommand } from '../../src/cli/build-command.js';
import { syncCommand } from '../../src/cli/sync-command.js';
import { isBouncerError } from '../../src/errors/errors.js';

const DECLARED = 'test/fixtures/policy-sets/inventory-declared';
const UNIQUE = 'test/fixtures/policy-sets/inventory-unique-ingress';
const work = mkdtempSync(join(tmpdir(), 'bouncer-inventory-build-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function build(dir: string, name: string): Promise<{ result: BuildResult; bundle: LoadedBundle }> {
  const output = join(work, `${name}.tar.gz`);
  const result = await buildBundle({ policiesDir: dir, output, opa: inject('opa'), revision: name });
  return { result, bundle: await loadBundle(name, readFileSync(output)) };
}

describe('bouncer build of declared inventory reads', () => {
  let declared: { result: BuildResult; bundle: LoadedBundle };
  beforeAll(async () => {
    declared = await build(DECLARED, 'declared');
  });

  it('replicates the union of native requires, resolved template requirements and the SyncSet', () => {
    const kinds = declared.bundle.manifest.inventory.kinds.map((k) => [`${k.group}/${k.version}/${k.kind}`, k.resource, k.status, k.readers.policies, k.readers.templates]);
    expect(kinds).toEqual([
      ['apps/v1/Deployment', 'deployments', true, ['deploy-has-service'], []],
      ['apps/v1/ReplicaSet', 'replicasets', false, [], []],
      // The SyncSet lists the requirement's second alternative, networking.k8s.io/v1.
      ['networking.k8s.io/v1/Ingress', 'ingresses', false, [], ['IngressNamespaceReady']],
      // The template reads status of Namespaces only.
      ['/v1/Namespace', 'namespaces', true, [], ['IngressNamespaceReady']],
      ['/v1/Service', 'services', false, ['deploy-has-service'], []],
    ]);
    expect(declared.result.inventory).toEqual(declared.bundle.manifest.inventory);
  });

  it('warns about an undeclared read and a requirement the SyncSet does not satisfy', () => {
    expect(declared.result.warnings).toEqual([
      expect.stringMatching(/^policy reads-undeclared reads data\.inventory but declares no kinds \(custom\.requires in its METADATA\)/),
      expect.stringMatching(/ingress-namespace\/template\.yaml \(document 1, line 1\): ConstraintTemplate ingressnamespaceready: no sync configuration \(SyncSet, Config\) satisfies the requirement \/v1:Namespace; bouncer replicates \/v1:Namespace for it$/),
    ]);
  });

  it('marks what the audit cannot evaluate, with each reference and its line, and exposes it on the loaded bundle', () => {
    const byId = Object.fromEntries(declared.bundle.policies.map((p) => [p.meta.id, p.meta.audit]));
    expect(byId['reads-undeclared']).toBeUndefined();
    expect(byId['deploy-has-service']?.reason).toBe(
      `reads input.request.userInfo (${DECLARED}/deploy-has-service/policy.rego:21), input.request.userInfo (as user.username, ${DECLARED}/deploy-has-service/policy.rego:22), input.request.operation (as k.request.operation, ${DECLARED}/deploy-has-service/policy.rego:27): the audit evaluates existing objects as CREATE requests, without an old object or a requesting user`,
    );
    const [template] = declared.bundle.templates;
    expect(template?.meta.audit?.reason).toMatch(/^reads input\.review\.oldObject \(.*ingress-namespace\/template\.yaml spec\.targets\[0\]\.rego:9\), input\.review\.oldObject \(as old\.spec\.rules\[0\]\.host, .*rego:10\): /);
    expect(declared.result.notes).toEqual([expect.stringMatching(/^policy deploy-has-service is not auditable: it reads input\.request\.userInfo/), expect.stringMatching(/^ConstraintTemplate ingressnamespaceready is not auditable: it reads input\.review\.oldObject/)]);
  });

  it('renders get/list/watch for exactly the replicated resources', () => {
    expect(inventoryRules(declared.bundle.manifest.inventory, BUILTIN_RESOURCES)).toEqual([
      { apiGroups: [''], resources: ['namespaces', 'services'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['apps'], resources: ['deployments', 'replicasets'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: ['get', 'list', 'watch'] },
    ]);
  });

  it('sync check reports the unmet requirement as JSON, exit 1', async () => {
    let out = '';
    const code = await syncCommand({ args: ['check', DECLARED, '--format', 'json'], env: {}, stdout: (t) => (out += t), stderr: () => {}, stdin: () => '' });
    expect(code).toBe(1);
    const report = JSON.parse(out) as { satisfied: boolean; unmet: { template: string; requirements: unknown[] }[] };
    expect(report.satisfied).toBe(false);
    expect(report.unmet).toEqual([{ template: 'ingressnamespaceready', file: expect.stringMatching(/template\.yaml$/), requirements: [[{ group: '', version: 'v1', kind: 'Namespace' }]] }]);
  });
});

describe('the build command', () => {
  it('prints the replicated kinds, each warning and each note on its own line', async () => {
    let out = '';
    let err = '';
    const code = await buildCommand({ args: [DECLARED, '-o', join(work, 'cli.tar.gz'), '--revision', 'cli'], env: { OPA_BIN: inject('opa') }, stdout: (t) => (out += t), stderr: (t) => (err += t), stdin: () => '' });
    expect(code).toBe(0);
    expect((JSON.parse(out) as { inventory: string[] }).inventory).toEqual(['apps/v1/Deployment', 'apps/v1/ReplicaSet', 'networking.k8s.io/v1/Ingress', 'v1/Namespace', 'v1/Service']);
    const lines = err.trimEnd().split('\n');
    expect(lines.map((l) => l.match(/^bouncer build: (warning|note): /)?.[1])).toEqual(['warning', 'warning', 'note', 'note']);
  });
});

describe('bouncer build of the uniqueness examples', () => {
  it('replicates Ingresses for both, with no warning, and both are auditable', async () => {
    const { result, bundle } = await build(UNIQUE, 'unique');
    expect(result.warnings).toEqual([]);
    expect(result.notes).toEqual([]);
    expect(bundle.manifest.inventory.kinds).toEqual([
      { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', status: false, resource: 'ingresses', readers: { policies: ['unique-ingress-host'], templates: ['BouncerUniqueIngressHost'] } },
    ]);
  });
});

describe('a custom kind in custom.requires', () => {
  const policy = (requires: string) =>
    `# METADATA\n# custom:\n#   scope:\n#     kinds: [ConfigMap]\n#   requires:\n#     - ${requires}\npackage policies.crons\n\ndeny contains "x" if data.inventory.namespace[_]["stable.example.com/v1"].CronTab[_]\n`;

  it('carries the resource it is given, and without one RBAC cannot be rendered from the table', async () => {
    const dir = join(work, 'custom');
    mkdirSync(join(dir, 'crons'), { recursive: true });
    writeFileSync(join(dir, 'crons', 'policy.rego'), policy('{group: stable.example.com, version: v1, kind: CronTab, resource: crontabs}'));
    const given = await build(dir, 'custom-given');
    expect(inventoryRules(given.bundle.manifest.inventory, BUILTIN_RESOURCES)).toEqual([{ apiGroups: ['stable.example.com'], resources: ['crontabs'], verbs: ['get', 'list', 'watch'] }]);
    writeFileSync(join(dir, 'crons', 'policy.rego'), policy('{group: stable.example.com, version: v1, kind: CronTab}'));
    const bare = await build(dir, 'custom-bare');
    let err: unknown;
    try {
      inventoryRules(bare.bundle.manifest.inventory, BUILTIN_RESOURCES);
    } catch (e) {
      err = e;
    }
    expect(isBouncerError(err, 'POLICY_SOURCE_INVALID') && err.message).toMatch(/replicates stable\.example\.com\/v1\/CronTab, whose resource \(plural\) .* does not name: give it in the policy's custom\.requires \(resource: <plural>\), or render with --cluster/);
  });

  it('refuses an invalid requires entry at build, naming the policy', async () => {
    const dir = join(work, 'bad');
    cpSync(join(work, 'custom'), dir, { recursive: true });
    writeFileSync(join(dir, 'crons', 'policy.rego'), policy('{group: apps, version: v1, kind: Deploymnt}'));
    await expect(buildBundle({ policiesDir: dir, output: join(work, 'bad.tar.gz'), opa: inject('opa'), revision: 'bad' })).rejects.toThrow(
      /policy crons: custom\.requires apps\/v1\/Deploymnt: Kubernetes v[\d.]+ has no kind apps\/Deploymnt \(did you mean apps\/Deployment\?\)/,
    );
  });
});
