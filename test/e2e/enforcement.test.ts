// The enforcement point through the real kube-apiserver: bouncer runs as its own process
// over TLS, serving the starter library and the ConfigMap test policies as one policy set,
// registered by URL as a validating and a mutating webhook rendered from the policies' scopes.
// Against an existing cluster (BOUNCER_E2E_KUBECONFIG, hack/kind-e2e.sh) the same cases run
// through the deployed bouncer, which serves the same two bundles as "baseline" and "test-basic".
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { webhookConfigurations } from '../../src/authoring/webhook-config.js';
import { loadBundle } from '../../src/bundles/bundle.js';
import { startBouncer, type BouncerProcess } from '../../hack/lib/bouncer-process.js';
import { kubectl } from '../support/kubectl.js';
import { createNamespace, deleteWebhooks, kubeFor, uniqueName, waitForAudit, waitForWebhook } from '../support/kube.js';

const IMAGE = 'registry.k8s.io/pause:3.10';
const LIMITS = { limits: { cpu: '100m', memory: '64Mi' }, requests: { cpu: '50m', memory: '32Mi' } };

function pod(name: string, spec: Record<string, unknown> = {}, container: Record<string, unknown> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { securityContext: { seccompProfile: { type: 'RuntimeDefault' } }, containers: [{ name: 'app', image: IMAGE, resources: LIMITS, ...container }], ...spec },
  };
}

function deployment(name: string, labels: Record<string, string>, container: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: pod(name, {}, container).spec },
    },
  };
}

describe('enforcement through the real API server', () => {
  const state = inject('controlPlane');
  const external = inject('externalCluster');
  const kube = kubeFor(state);
  const ns = uniqueName('enforce');
  const hook = uniqueName('bouncer-e2e');
  const domain = external ? 'bouncer.dev' : `${hook}.bouncer.dev`;
  const policySet = external ? /^baseline@[^,]+,test-basic@[^,]+$/ : /^basic@test-basic-1,starter@test-starter-1$/;
  const audited = state.auditLog !== '';
  let bouncer: BouncerProcess | undefined;
  const apply = (manifest: unknown, namespace = ns) => kubectl(state, ['create', '-n', namespace, '-f', '-'], JSON.stringify(manifest));

  beforeAll(async () => {
    await createNamespace(kube, ns, { owner: 'e2e' });
    if (external) return;
    const bundles = inject('bundles');
    bouncer = await startBouncer({ starter: bundles.starter as string, basic: bundles.basic as string });
    const policies = (await Promise.all([loadBundle('s', readFileSync(bundles.starter as string)), loadBundle('b', readFileSync(bundles.basic as string))])).flatMap((b) =>
      b.policies.map((p) => p.meta),
    );
    const b = bouncer;
    const configs = webhookConfigurations(policies, {
      name: hook,
      domain: `${hook}.bouncer.dev`,
      clientConfig: (endpoint) => ({ url: `${b.url}/${endpoint}`, caBundle: Buffer.from(b.caPem).toString('base64') }),
      excludedNamespaces: [],
      includedNamespaces: [ns, `${ns}-new`, `${ns}-owned`],
    });
    await kube.admission.createValidatingWebhookConfiguration({ body: configs.validating as never });
    await kube.admission.createMutatingWebhookConfiguration({ body: configs.mutating as never });
    const probe = `probe-${Date.now()}`;
    await waitForWebhook(
      () => kube.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: probe, labels: { deny: 'true' } } }, dryRun: 'All' }),
      () => b.logs().includes(`carries the deny label`),
    );
  });

  afterAll(async () => {
    if (external) return;
    await deleteWebhooks(kube, hook);
    await bouncer?.stop();
  });

  it.each([
    ['disallow-privileged', pod('priv', {}, { securityContext: { privileged: true } }), 'container "app" is privileged'],
    ['disallow-host-namespaces', pod('hostnet', { hostNetwork: true }), 'hostNetwork'],
    ['disallow-host-path', pod('hostpath', { volumes: [{ name: 'sock', hostPath: { path: '/var/run/docker.sock' } }] }), '/var/run/docker.sock'],
    ['allowed-registries', pod('evil', {}, { image: 'registry.k8s.io.evil.example/pause:3.10' }), 'registry.k8s.io.evil.example'],
    ['disallow-latest-tag', pod('latest', {}, { image: 'registry.k8s.io/pause:latest' }), '"latest" tag'],
    ['disallow-privileged in a Deployment template', deployment('privdep', { owner: 'x' }, { securityContext: { privileged: true } }), 'is privileged'],
  ])('%s: the create is denied and kubectl shows the policy message', (policy, manifest, message) => {
    const result = apply(manifest);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('denied the request');
    expect(result.stderr).toContain(`[${policy.split(' ')[0]}]`);
    expect(result.stderr).toContain(message);
  });

  it('admits a compliant pod unchanged', async () => {
    const result = apply(pod('good'));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const stored = await kube.core.readNamespacedPod({ namespace: ns, name: 'good' });
    expect(stored.spec?.containers[0]?.resources?.requests).toEqual({ cpu: '50m', memory: '32Mi' });
  });

  it('warn enforcement admits with kubectl warnings (require-resource-limits)', async () => {
    const result = apply(pod('nolimits', {}, { resources: { requests: { cpu: '10m', memory: '16Mi' } } }));
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/Warning: \[require-resource-limits\] container "app" has no CPU limit/);
    expect(result.stderr).toMatch(/Warning: \[require-resource-limits\] container "app" has no memory limit/);
    await expect(kube.core.readNamespacedPod({ namespace: ns, name: 'nolimits' })).resolves.toBeTruthy();
  });

  it.skipIf(!audited)('dryrun enforcement admits silently and records the would-be denial in the audit log (require-owner-label)', async () => {
    const result = apply(deployment('unowned', {}));
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const event = await waitForAudit(state, (e) => e.verb === 'create' && e.objectRef?.resource === 'deployments' && e.objectRef.name === 'unowned');
    expect(event.annotations?.[`validate.${domain}/dryrun-violations`]).toBe('require-owner-label');
    expect(event.annotations?.[`validate.${domain}/dryrun-messages`]).toContain('has no "owner" label');
    expect(event.annotations?.[`validate.${domain}/decision`]).toBe('allowed');
  });

  it.skipIf(!audited)('dryrun also covers Namespaces, which are cluster-scoped', async () => {
    const result = kubectl(state, ['create', 'namespace', `${ns}-new`]);
    expect(result.code).toBe(0);
    const event = await waitForAudit(state, (e) => e.verb === 'create' && e.objectRef?.resource === 'namespaces' && e.objectRef.name === `${ns}-new`);
    expect(event.annotations?.[`validate.${domain}/dryrun-violations`]).toBe('require-owner-label');
  });

  it('mutates: seccomp profile and resource requests are defaulted in the stored object', async () => {
    const bare = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bare' }, spec: { containers: [{ name: 'app', image: IMAGE, resources: { limits: LIMITS.limits } }] } };
    const result = apply(bare);
    expect(result.code).toBe(0);
    const stored = await kube.core.readNamespacedPod({ namespace: ns, name: 'bare' });
    expect(stored.spec?.securityContext?.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    // limits without requests: the API server defaults requests to the limits before webhooks run
    expect(stored.spec?.containers[0]?.resources?.requests).toEqual({ cpu: '100m', memory: '64Mi' });

    const noResources = { ...bare, metadata: { name: 'bare2' }, spec: { containers: [{ name: 'app', image: IMAGE }] } };
    expect(apply(noResources).code).toBe(0);
    const stored2 = await kube.core.readNamespacedPod({ namespace: ns, name: 'bare2' });
    expect(stored2.spec?.containers[0]?.resources?.requests).toEqual({ cpu: '100m', memory: '128Mi' });

    if (!audited) return;
    const event = await waitForAudit(state, (e) => e.verb === 'create' && e.objectRef?.name === 'bare2' && e.objectRef.resource === 'pods');
    expect(event.annotations?.[`mutate.${domain}/mutated-by`]).toBe('default-resource-requests,default-seccomp-profile');
  });

  it('a kubectl debug ephemeral container that is privileged is denied; an ordinary one is admitted', () => {
    expect(apply(pod('target')).code).toBe(0);
    const privileged = kubectl(state, ['debug', '-n', ns, 'pod/target', `--image=${IMAGE}`, '--profile=sysadmin', '--attach=false', '-c', 'dbg']);
    expect(privileged.code).not.toBe(0);
    expect(privileged.stderr).toContain('[disallow-privileged] ephemeral container "dbg" is privileged');
    const ordinary = kubectl(state, ['debug', '-n', ns, 'pod/target', `--image=${IMAGE}`, '--profile=general', '--attach=false', '-c', 'dbg2']);
    expect(ordinary.stderr).not.toContain('denied');
    expect(ordinary.code).toBe(0);
  });

  it.skipIf(!audited)('records denied, warned and mutated requests in the API server audit log', async () => {
    const denied = await waitForAudit(state, (e) => e.verb === 'create' && e.objectRef?.name === 'priv' && e.objectRef.resource === 'pods');
    expect(denied.responseStatus?.code).toBe(403);
    expect(denied.annotations).toMatchObject({
      [`validate.${domain}/decision`]: 'denied',
      [`validate.${domain}/denied-by`]: 'disallow-privileged',
    });
    expect(denied.annotations?.[`validate.${domain}/policy-set`]).toMatch(policySet);
    const warned = await waitForAudit(state, (e) => e.verb === 'create' && e.objectRef?.name === 'nolimits' && e.objectRef.resource === 'pods');
    expect(warned.annotations?.[`validate.${domain}/warned-by`]).toBe('require-resource-limits');
  });

  it('a policy that fails at runtime affects only itself, per its failure mode', () => {
    const cm = (name: string, labels: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data: { x: '1' } });
    const closed = apply(cm('closed', { 'break-closed': 'x' }));
    expect(closed.code).not.toBe(0);
    expect(closed.stderr).toContain('[broken-closed] policy failed to evaluate (runtime)');

    const open = apply(cm('open', { 'break-open': 'x' }));
    expect(open.code).toBe(0);
    expect(open.stderr).toContain('Warning: [broken-open] policy failed to evaluate; admitted because it is fail-open');

    const both = apply(cm('both', { 'break-open': 'x', deny: 'true' }));
    expect(both.code).not.toBe(0);
    expect(both.stderr).toContain('[deny-label] ConfigMap "both" carries the deny label');
    const denial = both.stderr.split('\n').find((line) => line.includes('denied the request'));
    expect(denial).toBeDefined();
    expect(denial).not.toContain('[broken-open]');
    expect(both.stderr).toContain('Warning: [broken-open] policy failed to evaluate; admitted because it is fail-open');
  });
});
