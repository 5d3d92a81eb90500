// Registers a bouncer process as the validating webhook for the basic test policies (the
// rules rendered from their scopes, by URL with its CA), limited to `namespace`, and waits
// until the API server's calls reach it (a ConfigMap with the deny label is refused).
import { readFileSync } from 'node:fs';
import type { BouncerProcess } from '../../hack/lib/bouncer-process.js';
import { webhookConfigurations } from '../../src/authoring/webhook-config.js';
import { loadBundle } from '../../src/bundles/bundle.js';
import { apiFailure, deleteWebhooks, waitFor, type Kube } from './kube.js';

export interface UrlWebhook {
  readonly kube: Kube;
  readonly name: string;
  readonly bundleFile: string;
  readonly namespace: string;
  readonly failurePolicy?: 'Fail' | 'Ignore';
  readonly timeoutSeconds?: number;
}

export async function registerUrlWebhook(hook: UrlWebhook, bouncer: BouncerProcess): Promise<void> {
  const { kube, name, namespace } = hook;
  await deleteWebhooks(kube, name);
  const policies = (await loadBundle('basic', readFileSync(hook.bundleFile))).policies.map((p) => p.meta);
  const configs = webhookConfigurations(policies, {
    name,
    domain: `${name}.bouncer.dev`,
    clientConfig: (endpoint) => ({ url: `${bouncer.url}/${endpoint}`, caBundle: Buffer.from(bouncer.caPem).toString('base64') }),
    excludedNamespaces: [],
    includedNamespaces: [namespace],
    validatingFailurePolicy: hook.failurePolicy ?? 'Fail',
    ...(hook.timeoutSeconds ? { timeoutSeconds: hook.timeoutSeconds } : {}),
  });
  await kube.admission.createValidatingWebhookConfiguration({ body: configs.validating as never });
  await waitFor(
    async () => {
      try {
        await kube.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'probe', labels: { deny: 'true' } } }, dryRun: 'All' });
        return false;
      } catch (err) {
        return apiFailure(err).message.includes('carries the deny label');
      }
    },
    20_000,
    `webhook ${name} in effect`,
  );
}
