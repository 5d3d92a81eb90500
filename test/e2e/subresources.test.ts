// Subresource requests through the real kube-apiserver reach the policy scoped to them.
// A subresource request carries another kind than its resource (PodExecOptions for
// pods/exec, Eviction for pods/eviction, Scale for deployments/scale, TokenRequest for
// serviceaccounts/token, …): a policy scoped to `Pod` + `eviction` must be matched on the
// resource and subresource the webhook rule matched, or the API server calls bouncer and
// bouncer skips the policy. Each policy of test/fixtures/policy-sets/subresources denies
// every request it is called for and names the request kind it saw.
//
// No kubelet runs here: exec, attach and port-forward would fail after admission, but the
// API server runs admission for CONNECT before it dials the node, so the denial is what
// kubectl reports. The pod is marked Running (kubectl port-forward refuses a pending pod).
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BUILTIN_RESOURCES } from '../../src/authoring/builtin-resources.js';
import { webhookConfigurations } from '../../src/authoring/webhook-config.js';
import { loadBundle } from '../../src/bundles/bundle.js';
import { startBouncer, type BouncerProcess } from '../../hack/lib/bouncer-process.js';
import { kubectl, type KubectlResult } from '../support/kubectl.js';
import { createNamespace, deleteWebhooks, kubeFor, uniqueName, waitFor } from '../support/kube.js';

const IMAGE = 'registry.k8s.io/pause:3.10';

describe.skipIf(inject('externalCluster'))('subresource requests reach the policies scoped to them (real API server)', () => {
  const state = inject('controlPlane');
  const kube = kubeFor(state);
  const ns = uniqueName('subres');
  const hook = uniqueName('bouncer-subres');
  let bouncer: BouncerProcess | undefined;
  const run = (args: string[], input?: string): KubectlResult => kubectl(state, args, input);
  const ok = (args: string[], input?: string): KubectlResult => {
    const result = run(args, input);
    expect(result.code, `kubectl ${args.join(' ')}\n${result.stderr}`).toBe(0);
    return result;
  };
  const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'app', image: IMAGE }] } });
  // deleteOptions.dryRun: an eviction that got through (the policy not called) deletes nothing.
  const eviction = JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'target', namespace: ns }, deleteOptions: { dryRun: ['All'] } });
  const evict = () => run(['create', '--raw', `/api/v1/namespaces/${ns}/pods/target/eviction`, '-f', '-'], eviction);

  beforeAll(async () => {
    await createNamespace(kube, ns);
    ok(['create', '-n', ns, '-f', '-'], JSON.stringify(pod('target')));
    ok(['create', '-n', ns, '-f', '-'], JSON.stringify(pod('unbound')));
    ok(['create', 'deployment', 'web', '-n', ns, `--image=${IMAGE}`]);
    ok(['create', 'serviceaccount', 'robot', '-n', ns]);
    ok(['patch', 'pod', 'target', '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } })]);

    const bundle = inject('bundles').subresources as string;
    const b = await startBouncer({ subresources: bundle });
    bouncer = b;
    const policies = (await loadBundle('subresources', readFileSync(bundle))).policies.map((p) => p.meta);
    const configs = webhookConfigurations(policies, {
      name: hook,
      domain: `${hook}.bouncer.dev`,
      clientConfig: (endpoint) => ({ url: `${b.url}/${endpoint}`, caBundle: Buffer.from(b.caPem).toString('base64') }),
      excludedNamespaces: [],
      includedNamespaces: [ns],
    });
    await kube.admission.createValidatingWebhookConfiguration({ body: configs.validating as never });
    // In effect once a (dry-run) status update is denied; each case below then stands alone.
    const probe = () => run(['patch', 'pod', 'target', '-n', ns, '--subresource=status', '--type=merge', '--dry-run=server', '-p', '{"status":{"message":"probe"}}']);
    await waitFor(() => probe().stderr.includes('[pods-status]'), 30_000, `webhook ${hook} in effect`);
  });

  afterAll(async () => {
    await deleteWebhooks(kube, hook);
    await bouncer?.stop();
    run(['delete', 'namespace', ns, '--wait=false']);
  });

  /** A kubectl that may not return by itself (port-forward): bounded, its output kept. */
  const bounded = (args: string[], timeout = 20_000): KubectlResult => {
    const r = spawnSync(state.kubectl, args, { encoding: 'utf8', env: { ...process.env, KUBECONFIG: state.kubeconfig }, timeout });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };

  // policy id, the request, the subresource's request kind as documented in policies/README.md
  const cases: [string, string, () => KubectlResult, string][] = [
    ['pods-exec', 'pods/exec CONNECT', () => bounded(['exec', '-n', ns, 'target', '-c', 'app', '--', 'true']), '/v1/PodExecOptions'],
    ['pods-attach', 'pods/attach CONNECT', () => bounded(['attach', '-n', ns, 'target', '-c', 'app']), '/v1/PodAttachOptions'],
    ['pods-portforward', 'pods/portforward CONNECT', () => bounded(['port-forward', '-n', ns, 'pod/target', '0:80']), '/v1/PodPortForwardOptions'],
    ['pods-eviction', 'pods/eviction CREATE', evict, 'policy/v1/Eviction'],
    [
      'pods-binding',
      'pods/binding CREATE',
      () => run(['create', '--raw', `/api/v1/namespaces/${ns}/pods/unbound/binding`, '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'unbound' }, target: { kind: 'Node', name: 'node-1' } })),
      '/v1/Binding',
    ],
    ['deployments-scale', 'deployments/scale UPDATE', () => run(['scale', 'deployment', 'web', '-n', ns, '--replicas=3']), 'autoscaling/v1/Scale'],
    ['serviceaccounts-token', 'serviceaccounts/token CREATE', () => run(['create', 'token', 'robot', '-n', ns]), 'authentication.k8s.io/v1/TokenRequest'],
    [
      'pods-ephemeralcontainers',
      'pods/ephemeralcontainers UPDATE',
      () => run(['debug', '-n', ns, 'pod/target', `--image=${IMAGE}`, '--attach=false', '-c', 'dbg']),
      '/v1/Pod',
    ],
    ['pods-status', 'pods/status UPDATE', () => run(['patch', 'pod', 'target', '-n', ns, '--subresource=status', '--type=merge', '-p', '{"status":{"message":"x"}}']), '/v1/Pod'],
  ];

  it.each(cases)('%s: %s is sent to the policy, which denies it, and the client sees the denial', (policy, request, send, kind) => {
    const result = send();
    expect(result.code, result.stdout).not.toBe(0);
    expect(result.stderr).toContain(`admission webhook "validate.${hook}.bouncer.dev" denied the request`);
    expect(result.stderr).toContain(`[${policy}] ${request} is denied; request.kind is ${kind}`);
  });

  it.each(cases)('%s: the table of built-in kinds says what kind %s requests carry', (_policy, request, _send, kind) => {
    const [resource, sub] = (request.split(' ')[0] as string).split('/') as [string, string];
    const info = BUILTIN_RESOURCES.resources.find((r) => r.group === (resource === 'deployments' ? 'apps' : '') && r.resource === resource);
    const subresource = info?.subresources.find((s) => s.name === sub);
    expect(subresource && `${subresource.group}/${subresource.version}/${subresource.kind}`).toBe(kind);
    expect(subresource?.operations).toContain(request.split(' ')[1]);
  });
});
