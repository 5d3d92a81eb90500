// bouncer uninstall against the real API server. No kubelet runs here, so the backend Service
// has no endpoints: exactly the state of a cluster whose bouncer pods are gone, where a webhook
// with failurePolicy Fail blocks every write it matches. After `bouncer uninstall` the very next
// write succeeds, the rest of bouncer's objects are gone, and a foreign Fail webhook pointing at
// the namespace makes it refuse before deleting anything.
import { AppsV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { main as cli } from '../../src/cli/main.js';
import { apiFailure, createNamespace, deleteWebhooks, kubeFor, uniqueName, waitFor } from '../support/kube.js';

describe.skipIf(inject('externalCluster'))('bouncer uninstall on a real API server', () => {
  const state = inject('controlPlane');
  const kube = kubeFor(state);
  const apps = kube.kc.makeApiClient(AppsV1Api);
  const rbac = kube.kc.makeApiClient(RbacAuthorizationV1Api);
  const app = uniqueName('bouncer-un');
  const system = uniqueName('un-system');
  const tenant = uniqueName('un-tenant');
  const labels = { 'app.kubernetes.io/name': app };
  const hook = uniqueName('un-hook');
  const foreign = uniqueName('un-foreign');

  const run = async (...args: string[]) => {
    let out = '';
    const code = await cli(['uninstall', '-n', system, '--selector', `app.kubernetes.io/name=${app}`, '--probe-namespace', tenant, ...args], {
      env: { KUBECONFIG: state.kubeconfig },
      stdout: (t) => (out += t),
      stderr: (t) => (out += t),
    });
    return { code, out };
  };
  const write = async () => {
    try {
      await kube.core.createNamespacedConfigMap({ namespace: tenant, body: { metadata: { name: uniqueName('cm') } }, dryRun: 'All' });
      return 'allowed';
    } catch (err) {
      return apiFailure(err).message;
    }
  };
  const failWebhook = (name: string, withLabels: Record<string, string>) => ({
    metadata: { name, labels: withLabels },
    webhooks: [
      {
        name: `${name}.bouncer.dev`,
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Fail',
        timeoutSeconds: 2,
        clientConfig: { service: { namespace: system, name: 'bouncer', path: '/validate', port: 443 } },
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': tenant } },
        rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'], scope: 'Namespaced' }],
      },
    ],
  });

  beforeAll(async () => {
    await createNamespace(kube, system, labels);
    await createNamespace(kube, tenant);
    await kube.core.createNamespacedServiceAccount({ namespace: system, body: { metadata: { name: 'bouncer', labels } } });
    await kube.core.createNamespacedService({ namespace: system, body: { metadata: { name: 'bouncer', labels }, spec: { selector: labels, ports: [{ port: 443, targetPort: 8443 }] } } });
    await apps.createNamespacedDeployment({
      namespace: system,
      body: {
        metadata: { name: 'bouncer', labels },
        spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'bouncer', image: 'bouncer:test' }] } } },
      },
    });
    await rbac.createClusterRole({ body: { metadata: { name: app, labels }, rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['list'] }] } });
    await kube.admission.createValidatingWebhookConfiguration({ body: failWebhook(hook, labels) as never });
    // The cluster is blocked: the webhook fails closed against a backend with no endpoints.
    await waitFor(async () => (await write()) !== 'allowed', 30_000, 'the Fail webhook blocking writes');
  });

  afterAll(async () => {
    await deleteWebhooks(kube, hook);
    await deleteWebhooks(kube, foreign);
  });

  it('refuses, deleting nothing, while a foreign Fail webhook sends requests to the namespace', async () => {
    await kube.admission.createValidatingWebhookConfiguration({ body: failWebhook(foreign, { team: 'other' }) as never });
    const { code, out } = await run();
    expect(code).toBe(2);
    expect(out).toContain('UNINSTALL_REFUSED');
    expect(out).toContain(foreign);
    // Nothing was touched: bouncer's own webhook is still there, still Fail.
    const own = await kube.admission.readValidatingWebhookConfiguration({ name: hook });
    expect(own.webhooks?.[0]?.failurePolicy).toBe('Fail');
    await deleteWebhooks(kube, foreign);
  });

  it('removes the webhooks first and proves the API server stopped calling them; the next write succeeds', async () => {
    // The foreign webhook's removal must reach the API server's informer before we measure.
    await waitFor(async () => !(await write()).includes(foreign), 10_000, 'the API server dropping the foreign webhook');
    const { code, out } = await run('--json');
    expect(code, out).toBe(0);
    const result = JSON.parse(out) as { webhooks: string[]; stoppedBy: string; deleted: string[] };
    expect(result.webhooks).toEqual([`validatingwebhookconfiguration/${hook}`]);
    expect(result.stoppedBy).toBe('metrics');
    // Immediately, with no retry: the write that was blocked goes through.
    expect(await write()).toBe('allowed');
    expect(result.deleted).toEqual(
      expect.arrayContaining([`deployment/bouncer`, `service/bouncer`, `serviceaccount/bouncer`, `clusterrole/${app}`, `namespace/${system}`]),
    );
    await expect(rbac.readClusterRole({ name: app })).rejects.toMatchObject({ code: 404 });
    await expect(apps.readNamespacedDeployment({ namespace: system, name: 'bouncer' })).rejects.toMatchObject({ code: 404 });
  });
});
