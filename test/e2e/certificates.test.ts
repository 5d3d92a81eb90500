// Self-managed webhook TLS through the real API server: two replicas share the Secret,
// one leads (Lease) and injects the caBundle; serving certificates and then the CA rotate
// (short validities) while admission requests keep flowing, and none fails.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startBouncer, type BouncerProcess } from '../../hack/lib/bouncer-process.js';
import { freePort } from '../../hack/lib/control-plane.js';
import { webhookConfigurations } from '../../src/authoring/webhook-config.js';
import { loadBundle } from '../../src/bundles/bundle.js';
import { apiFailure, createNamespace, deleteWebhooks, kubeFor, uniqueName, waitFor } from '../support/kube.js';

// Runs bouncer (or a test webhook) as a local process the API server calls by URL, or
// restarts the API server: only against the local control plane.
describe.skipIf(inject('externalCluster'))('self-managed certificates', () => {
  const state = inject('controlPlane');
  const kube = kubeFor(state);
  const system = uniqueName('certs-sys');
  const apps = uniqueName('certs-apps');
  const hook = uniqueName('certs');
  let r1: BouncerProcess;
  let r2: BouncerProcess;

  const caBundle = async () => (await kube.admission.readValidatingWebhookConfiguration({ name: hook })).webhooks?.[0]?.clientConfig.caBundle ?? '';

  beforeAll(async () => {
    await createNamespace(kube, system);
    await createNamespace(kube, apps);
    const basic = inject('bundles').basic as string;
    const port = await freePort();
    const policies = (await loadBundle('basic', readFileSync(basic))).policies.map((p) => p.meta);
    const configs = webhookConfigurations(policies, {
      name: hook,
      domain: `${hook}.bouncer.dev`,
      // No caBundle: bouncer's leader injects it.
      clientConfig: (endpoint) => ({ url: `https://127.0.0.1:${port}/${endpoint}` }),
      excludedNamespaces: [],
      includedNamespaces: [apps],
    });
    await kube.admission.createValidatingWebhookConfiguration({ body: configs.validating as never });
    await kube.admission.createMutatingWebhookConfiguration({ body: configs.mutating as never });
    const args = (replica: string, p: string[]) => [
      '--watch-namespace', system, '--kubeconfig', state.kubeconfig, '--replica', replica,
      '--manage-certs', '--webhook-name', hook, '--cert-sans', '127.0.0.1',
      '--ca-validity', '30s', '--cert-validity', '9s', '--cert-overlap', '5s', '--cert-check-interval', '1s',
      ...p,
    ];
    r1 = await startBouncer({ basic }, args('cert-replica-1', ['--port', String(port)]), { tls: false });
    r2 = await startBouncer({ basic }, args('cert-replica-2', []), { tls: false });
    await waitFor(async () => (await caBundle()) !== '', 20_000, 'caBundle injected');
  });

  afterAll(async () => {
    await deleteWebhooks(kube, hook);
    await Promise.all([r1?.stop(), r2?.stop()]);
  });

  it('rotates serving certificates and the CA under continuous admission load with zero failed requests', async () => {
    const bundles = new Set<string>([await caBundle()]);
    const results = { allowed: 0, denied: 0, failed: [] as string[] };
    const deadline = Date.now() + 38_000;
    const worker = async (w: number) => {
      for (let i = 0; Date.now() < deadline && i < 5000; i++) {
        const deny = i % 2 === 0;
        try {
          await kube.core.createNamespacedConfigMap({
            namespace: apps,
            body: { metadata: { name: `load-${w}-${i}`, labels: deny ? { deny: 'true' } : {} }, data: { x: '1' } },
            dryRun: 'All',
          });
          if (deny) results.failed.push(`load-${w}-${i} admitted`);
          else results.allowed++;
        } catch (err) {
          const f = apiFailure(err);
          if (deny && f.code === 403 && f.message.includes('carries the deny label')) results.denied++;
          else results.failed.push(`${f.code} ${f.message}`);
        }
      }
    };
    const watchBundle = async () => {
      while (Date.now() < deadline) {
        bundles.add(await caBundle());
        await sleep(500);
      }
    };
    await Promise.all([worker(0), worker(1), watchBundle()]);
    const reloads = (r1.logs().match(/serving certificate reloaded from the Secret/g) ?? []).length;
    const rotations = (r1.logs() + r2.logs()).match(/webhook certificates rotated/g)?.length ?? 0;
    console.log(
      `certificate rotation under load: ${results.allowed + results.denied} reviews, ${results.failed.length} failed; ` +
        `${rotations} rotations, ${reloads} reloads on the serving replica, ${bundles.size} distinct caBundles`,
    );
    expect(results.failed).toEqual([]);
    expect(results.allowed + results.denied).toBeGreaterThan(100);
    // Serving certificates rotated several times, and the CA went through its overlap:
    // {CA1} → {CA1, CA2} → {CA2} (a 30 s CA is rotated after 20 s).
    expect(reloads).toBeGreaterThanOrEqual(3);
    expect(bundles.size).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it('elects one leader among the replicas', async () => {
    const lease = await kube.kc.makeApiClient((await import('@kubernetes/client-node')).CoordinationV1Api).readNamespacedLease({ namespace: system, name: 'bouncer-certs' });
    expect(['cert-replica-1', 'cert-replica-2']).toContain(lease.spec?.holderIdentity);
  });
});
