// Webhook rules rendered by `bouncer manifests` name the resources the real API server
// serves. A rule with a guessed plural ("endpointses", "registrys") is accepted by the API
// server and never matches, so the policy is silently never called: here each policy of
// test/fixtures/policy-sets/plurals, scoped to a kind whose plural is not the kind plus "s",
// is rendered, applied to the real kube-apiserver, and a request of that kind is denied.
// The custom kinds come from test/fixtures/crds/bouncer.example.com.yaml: Registry is
// given with its resource in the scope, Cactus (plural cacti) is resolved by --cluster.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { startBouncer, type BouncerProcess } from '../../hack/lib/bouncer-process.js';
import { kubectl, type KubectlResult } from '../support/kubectl.js';
import { createNamespace, deleteWebhooks, kubeFor, uniqueName, waitFor } from '../support/kube.js';

const POLICIES = 'test/fixtures/policy-sets/plurals';
const DENY = { 'bouncer-e2e/deny': 'true' };

interface Rendered {
  code: number;
  out: string;
  err: string;
}

describe.skipIf(inject('externalCluster'))('rules rendered by bouncer manifests match the real API server', () => {
  const state = inject('controlPlane');
  const kube = kubeFor(state);
  const ns = uniqueName('plurals');
  const hook = uniqueName('bouncer-plurals');
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-plurals-'));
  let bouncer: BouncerProcess | undefined;
  const run = (args: string[], input?: string): KubectlResult => kubectl(state, args, input);
  const ok = (args: string[], input?: string): KubectlResult => {
    const result = run(args, input);
    expect(result.code, `kubectl ${args.join(' ')}\n${result.stderr}`).toBe(0);
    return result;
  };

  async function manifests(args: string[]): Promise<Rendered> {
    const r: Rendered = { code: 0, out: '', err: '' };
    r.code = await main(['manifests', ...args], {
      env: { OPA_BIN: inject('opa'), KUBECONFIG: state.kubeconfig },
      stdout: (t) => (r.out += t),
      stderr: (t) => (r.err += t),
      stdin: () => '',
    });
    return r;
  }

  const objects: [string, string, (labels: Record<string, string>, name: string) => Record<string, unknown>][] = [
    ['endpoints', 'Endpoints', (labels, name) => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name, labels } })],
    [
      'ingresses',
      'Ingress',
      (labels, name) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, labels }, spec: { defaultBackend: { service: { name: 'web', port: { number: 80 } } } } }),
    ],
    ['networkpolicies', 'NetworkPolicy', (labels, name) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, labels }, spec: { podSelector: {} } })],
    ['priorityclasses', 'PriorityClass', (labels, name) => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name, labels }, value: 1000 })],
    ['registries', 'Registry', (labels, name) => ({ apiVersion: 'bouncer.example.com/v1', kind: 'Registry', metadata: { name, labels }, spec: {} })],
    ['cacti', 'Cactus', (labels, name) => ({ apiVersion: 'bouncer.example.com/v1', kind: 'Cactus', metadata: { name, labels }, spec: {} })],
  ];
  const create = (manifest: Record<string, unknown>) => run(['create', '--dry-run=server', '-n', ns, '-f', '-'], JSON.stringify(manifest));

  beforeAll(async () => {
    ok(['apply', '--server-side', '-f', 'test/fixtures/crds/bouncer.example.com.yaml']);
    ok(['wait', '--for=condition=Established', '--timeout=30s', 'crd/registries.bouncer.example.com', 'crd/cacti.bouncer.example.com']);
    await createNamespace(kube, ns);
    bouncer = await startBouncer({ plurals: inject('bundles').plurals as string });
    writeFileSync(join(dir, 'ca.pem'), bouncer.caPem);
  });

  afterAll(async () => {
    await deleteWebhooks(kube, hook);
    await bouncer?.stop();
    run(['delete', 'namespace', ns, '--wait=false']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('without --cluster, a custom kind given without its resource is an error that says what to write', async () => {
    const r = await manifests(['--policies', POLICIES, '--url', 'https://127.0.0.1:1']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('scope.kinds "bouncer.example.com/Cactus" is not a built-in kind');
    expect(r.err).toContain('{kind: bouncer.example.com/Cactus, resource: <plural>}');
    expect(r.err).toContain('--cluster');
  });

  /**
   * Renders the policies of `policiesDir` with `bouncer manifests ARGS`, checks the rules
   * name exactly `expected`'s resources, applies them, and tries each kind: labelled, it is
   * denied by its policy; unlabelled, admitted.
   */
  async function renderApplyAndTry(policiesDir: string, args: string[], expected: typeof objects): Promise<void> {
    const b = bouncer as BouncerProcess;
    const name = uniqueName(hook);
    const r = await manifests(['--policies', policiesDir, ...args, '--name', name, '--url', b.url, '--ca-bundle-file', join(dir, 'ca.pem')]);
    expect(r.code, r.err).toBe(0);
    const docs = parseAllDocuments(r.out).map((d) => d.toJS() as { kind: string; webhooks: { rules: { resources: string[] }[] }[] });
    const validating = docs.find((d) => d.kind === 'ValidatingWebhookConfiguration');
    const resources = validating?.webhooks.flatMap((w) => w.rules.flatMap((rule) => rule.resources)).sort();
    expect(resources).toEqual(expected.map(([resource]) => resource).sort());
    try {
      ok(['create', '-f', '-'], r.out);
      // Registration takes effect asynchronously: a PriorityClass (in every set) shows when it has.
      const probe = objects.find(([resource]) => resource === 'priorityclasses')![2];
      await waitFor(() => create(probe(DENY, uniqueName('probe'))).stderr.includes('[priorityclasses]'), 30_000, 'the rendered webhook in effect');
      for (const [resource, kind, object] of expected) {
        const objectName = uniqueName(resource);
        const denied = create(object(DENY, objectName));
        expect(denied.code, `${kind} was admitted: the rule rendered for it does not match\n${denied.stderr}`).not.toBe(0);
        expect(denied.stderr).toContain('admission webhook "validate.bouncer.dev" denied the request');
        expect(denied.stderr).toContain(`[${resource}] ${kind} ${objectName} carries the deny label`);
        const admitted = create(object({}, uniqueName(resource)));
        expect(admitted.code, `${kind}: ${admitted.stderr}`).toBe(0);
      }
    } finally {
      await deleteWebhooks(kube, name);
    }
  }

  it('built-in kinds and a custom kind given with its resource: denied through the rules `bouncer manifests` renders', async () => {
    const subset = join(dir, 'policies');
    cpSync(POLICIES, subset, { recursive: true });
    rmSync(join(subset, 'cacti'), { recursive: true });
    await renderApplyAndTry(subset, [], objects.filter(([resource]) => resource !== 'cacti'));
  });

  it('every kind, the custom one without its resource too: denied through the rules `bouncer manifests --cluster` renders', async () => {
    await renderApplyAndTry(POLICIES, ['--cluster'], objects);
  });
});
