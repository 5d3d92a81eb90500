// The foundation works end to end: a real kube-apiserver calls a webhook over HTTPS,
// shows its denial to the client, and records the request in its audit log.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCertificateAuthority } from '../../src/certs/pki.js';
import {
  createNamespace,
  deleteWebhooks,
  expectRejected,
  kubeFor,
  registerValidatingWebhook,
  uniqueName,
  waitForAudit,
  waitForWebhook,
} from '../support/kube.js';

interface Review {
  request: { uid: string; object?: { metadata?: { name?: string; labels?: Record<string, string> } } };
}

// Runs bouncer (or a test webhook) as a local process the API server calls by URL, or
// restarts the API server: only against the local control plane.
describe.skipIf(inject('externalCluster'))('local control plane', () => {
  const state = inject('controlPlane');
  const kube = kubeFor(state);
  const namespace = uniqueName('smoke');
  const hook = uniqueName('smoke-hook');
  const seen: string[] = [];
  let server: Server;

  beforeAll(async () => {
    const ca = await createCertificateAuthority('smoke-webhook-ca');
    const tls = await ca.issue({ commonName: '127.0.0.1', ipAddresses: ['127.0.0.1'], usage: 'server' });
    server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Review;
        const name = review.request.object?.metadata?.name ?? '';
        seen.push(name);
        const deny = review.request.object?.metadata?.labels?.['smoke'] === 'deny';
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            apiVersion: 'admission.k8s.io/v1',
            kind: 'AdmissionReview',
            response: {
              uid: review.request.uid,
              allowed: !deny,
              ...(deny ? { status: { code: 403, message: `smoke webhook refuses ${name}` } } : {}),
              auditAnnotations: { verdict: deny ? 'denied' : 'allowed' },
            },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    await createNamespace(kube, namespace);
    await registerValidatingWebhook(kube, {
      name: hook,
      url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/validate`,
      caPem: ca.certPem,
      rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'] }],
      namespaces: [namespace],
    });
    await waitForWebhook(
      () => kube.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'probe' } }, dryRun: 'All' }),
      () => seen.includes('probe'),
    );
  });

  afterAll(async () => {
    await deleteWebhooks(kube, hook);
    server?.close();
  });

  it('stores an allowed ConfigMap', async () => {
    await kube.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'allowed' }, data: { a: 'b' } } });
    const read = await kube.core.readNamespacedConfigMap({ namespace, name: 'allowed' });
    expect(read.data).toEqual({ a: 'b' });
  });

  it('shows the webhook denial to the client and records it in the audit log', async () => {
    const rejected = await expectRejected(
      kube.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'refused', labels: { smoke: 'deny' } } } }),
    );
    expect(rejected.code).toBe(403);
    expect(rejected.message).toContain('smoke webhook refuses refused');
    await expect(kube.core.readNamespacedConfigMap({ namespace, name: 'refused' })).rejects.toMatchObject({ code: 404 });

    const event = await waitForAudit(
      state,
      (e) => e.verb === 'create' && e.objectRef?.namespace === namespace && e.objectRef?.resource === 'configmaps' && e.responseStatus?.code === 403,
    );
    expect(event.annotations?.[`${hook}.bouncer.test/verdict`]).toBe('denied');
  });
});
