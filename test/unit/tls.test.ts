// Serving TLS: TLS 1.2+ only, certificates checked at startup, reloaded without dropping
// connections, and optional client-certificate verification of the API server (mTLS).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCertificateAuthority, type CertificateAuthority, type KeyPairPem } from '../../src/certs/pki.js';
import { loadTls, reloadTls } from '../../src/http/tls.js';
import { createWebhookServer } from '../../src/http/webhook-server.js';
import { createReviewer } from '../../src/review/reviewer.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { configMapRequest } from '../support/bundle-files.js';
import { capturingLogger, registryOf } from '../support/reviewing.js';

const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: configMapRequest({ deny: 'true' }) });

function post(port: number, options: { ca: string; agent?: Agent; cert?: string; key?: string }): Promise<{ status: number; serial: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/validate', method: 'POST', headers: { 'content-type': 'application/json' }, ...options },
      (res) => {
        const serial = (res.socket as unknown as { getPeerCertificate(): PeerCertificate }).getPeerCertificate().serialNumber;
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, serial }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function serve(tls: { cert: string; key: string; ca?: string }): Promise<{ app: FastifyInstance; port: number }> {
  const registry = await registryOf({ basic: inject('bundles').basic as string });
  const app = createWebhookServer({
    reviewer: createReviewer({ policies: registry.current }),
    metrics: createMetrics({ defaultMetrics: false }),
    logger: capturingLogger().logger,
    onDecision: () => undefined,
    tls,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, port: (app.server.address() as AddressInfo).port };
}

describe('serving TLS', () => {
  let ca: CertificateAuthority;
  let first: KeyPairPem;
  let server: { app: FastifyInstance; port: number };
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-tls-'));

  beforeAll(async () => {
    ca = await createCertificateAuthority('tls-test-ca');
    first = await ca.issue({ commonName: 'bouncer', ipAddresses: ['127.0.0.1'], usage: 'server' });
    server = await serve({ cert: first.certPem, key: first.keyPem });
  });
  afterAll(async () => {
    await server.app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['TLSv1', false],
    ['TLSv1.1', false],
    ['TLSv1.2', true],
    ['TLSv1.3', true],
  ] as const)('%s handshake accepted: %s', async (version, accepted) => {
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: server.port, ca: ca.certPem, minVersion: version, maxVersion: version, ciphers: 'DEFAULT@SECLEVEL=0' }, () => {
        resolve(socket.getProtocol() ?? 'none');
        socket.end();
      });
      socket.on('error', () => resolve('refused'));
    });
    expect(outcome === version).toBe(accepted);
  });

  it('reloads the certificate for new handshakes while an open keep-alive connection keeps working', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const before = await post(server.port, { ca: ca.certPem, agent });
    const next = await ca.issue({ commonName: 'bouncer', ipAddresses: ['127.0.0.1'], usage: 'server' });
    reloadTls(server.app.server, { cert: next.certPem, key: next.keyPem });
    const sameConnection = await post(server.port, { ca: ca.certPem, agent });
    const fresh = await post(server.port, { ca: ca.certPem, agent: new Agent() });
    agent.destroy();
    expect([before.status, sameConnection.status, fresh.status]).toEqual([200, 200, 200]);
    expect(sameConnection.serial).toBe(before.serial);
    expect(fresh.serial).not.toBe(before.serial);
  });

  it.each([
    ['an expired certificate', async () => ca.issue({ commonName: 'x', usage: 'server', validForSeconds: 60, issuedAt: new Date(Date.now() - 2 * 3600_000) }), 'expired'],
    ['a certificate not valid yet', async () => ca.issue({ commonName: 'x', usage: 'server', issuedAt: new Date(Date.now() + 2 * 3600_000) }), 'not valid before'],
  ])('refuses %s at startup with a clear error', async (_name, make, message) => {
    const pair = await make();
    writeFileSync(join(dir, 'c.crt'), pair.certPem);
    writeFileSync(join(dir, 'c.key'), pair.keyPem);
    expect(() => loadTls({ certFile: join(dir, 'c.crt'), keyFile: join(dir, 'c.key') })).toThrow(expect.objectContaining({ code: 'TLS_INVALID', message: expect.stringContaining(message) }));
  });

  it('refuses a key that does not match the certificate, and files that are not PEM', async () => {
    const other = await ca.issue({ commonName: 'other', usage: 'server' });
    writeFileSync(join(dir, 'm.crt'), first.certPem);
    writeFileSync(join(dir, 'm.key'), other.keyPem);
    expect(() => loadTls({ certFile: join(dir, 'm.crt'), keyFile: join(dir, 'm.key') })).toThrow(expect.objectContaining({ code: 'TLS_INVALID', message: expect.stringContaining('does not match') }));
    writeFileSync(join(dir, 'bad.crt'), 'not a certificate');
    expect(() => loadTls({ certFile: join(dir, 'bad.crt'), keyFile: join(dir, 'm.key') })).toThrow(expect.objectContaining({ message: expect.stringContaining('is not a PEM certificate') }));
    expect(() => loadTls({ certFile: join(dir, 'missing.crt'), keyFile: join(dir, 'm.key') })).toThrow(expect.objectContaining({ message: expect.stringContaining('cannot read') }));
  });

  describe('client certificates (mTLS)', () => {
    let clients: CertificateAuthority;
    let mtls: { app: FastifyInstance; port: number };
    beforeAll(async () => {
      clients = await createCertificateAuthority('apiserver-clients');
      mtls = await serve({ cert: first.certPem, key: first.keyPem, ca: clients.certPem });
    });
    afterAll(() => mtls.app.close());

    it('accepts a client certificate from the configured CA', async () => {
      const apiserver = await clients.issue({ commonName: 'kube-apiserver', usage: 'client' });
      expect((await post(mtls.port, { ca: ca.certPem, cert: apiserver.certPem, key: apiserver.keyPem, agent: new Agent() })).status).toBe(200);
    });

    it.each([
      ['no client certificate', async () => ({})],
      ['a certificate from another CA', async () => (await createCertificateAuthority('intruder')).issue({ commonName: 'kube-apiserver', usage: 'client' }).then((c) => ({ cert: c.certPem, key: c.keyPem }))],
    ])('refuses %s', async (_name, make) => {
      await expect(post(mtls.port, { ca: ca.certPem, agent: new Agent(), ...(await make()) })).rejects.toThrow();
    });
  });
});
