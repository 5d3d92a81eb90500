// Shutdown without dropping requests on kept-alive connections, over real TLS sockets:
// drain() (at SIGTERM) makes every answer carry `Connection: close` while serving normally,
// so clients move off their kept-alive connections; close() (after the shutdown delay)
// finishes what is in flight. A stream of reviews across both sees no failure: no 503, no
// reset.
import { Agent, request } from 'node:https';
import { connect as netConnect, createServer as createNetServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCertificateAuthority } from '../../src/certs/pki.js';
import { createWebhookServer, type WebhookServer } from '../../src/http/webhook-server.js';
import { createReviewer, type Reviewer } from '../../src/review/reviewer.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { configMapRequest } from '../support/bundle-files.js';
import { capturingLogger, registryOf } from '../support/reviewing.js';

const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: configMapRequest({ deny: 'true' }) });

interface Answer {
  readonly status: number;
  readonly connection: string | undefined;
  readonly reused: boolean;
}

function post(port: number, ca: string, agent: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/validate', method: 'POST', ca, agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A TCP balancer as kube-proxy is one: each new connection goes to a current endpoint, and an
 * open connection stays with the server it was made to, whatever the endpoints become.
 */
async function balancer(endpoint: () => number): Promise<{ port: number; close: () => void }> {
  const proxy = createNetServer((client) => {
    const upstream = netConnect(endpoint(), '127.0.0.1');
    client.pipe(upstream).pipe(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return { port: (proxy.address() as AddressInfo).port, close: () => proxy.close() };
}

describe('shutdown drain', () => {
  let caPem: string;
  let tls: { cert: string; key: string };
  let reviewer: Reviewer;
  const servers: WebhookServer[] = [];

  beforeAll(async () => {
    const ca = await createCertificateAuthority('drain-test-ca');
    caPem = ca.certPem;
    const leaf = await ca.issue({ commonName: 'bouncer', ipAddresses: ['127.0.0.1'], usage: 'server' });
    tls = { cert: leaf.certPem, key: leaf.keyPem };
    const registry = await registryOf({ basic: inject('bundles').basic as string });
    reviewer = createReviewer({ policies: registry.current });
  });
  afterAll(() => Promise.all(servers.map((s) => s.close())));

  /** A replica whose reviews each take `delayMs` (so that some are in flight at any moment). */
  const replica = async (delayMs: number, started: () => void = () => undefined): Promise<{ app: WebhookServer; port: number }> => {
    const slow: Reviewer = {
      review: async (...args) => {
        started();
        await new Promise((r) => setTimeout(r, delayMs));
        return reviewer.review(...args);
      },
      shed: (...args) => reviewer.shed(...args),
    };
    const app = createWebhookServer({ reviewer: slow, metrics: createMetrics({ defaultMetrics: false }), logger: capturingLogger().logger, onDecision: () => undefined, tls });
    servers.push(app);
    await app.listen({ host: '127.0.0.1', port: 0 });
    return { app, port: (app.server.address() as AddressInfo).port };
  };
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('answers a stream of reviews on kept-alive connections across drain and close with zero failures', async () => {
    const stopping = await replica(20);
    const other = await replica(20);
    let endpoint = stopping.port;
    const lb = await balancer(() => endpoint);
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const answers: { answer: Answer; afterDrain: boolean }[] = [];
    const failures: unknown[] = [];
    let drained = false;
    let sending = true;
    const loop = async () => {
      while (sending) {
        const afterDrain = drained;
        try {
          answers.push({ answer: await post(lb.port, caPem, agent), afterDrain });
        } catch (err) {
          failures.push(err);
        }
      }
    };
    const loops = Array.from({ length: 8 }, loop);
    await pause(500);
    const beforeDrain = answers.length;
    // SIGTERM: readiness off and drain; a moment later the endpoints drop the replica.
    stopping.app.drain();
    drained = true;
    await pause(100);
    endpoint = other.port;
    await pause(600);
    // The shutdown delay is over: close while the callers keep sending.
    await stopping.app.close();
    await pause(300);
    sending = false;
    await Promise.all(loops);
    agent.destroy();
    lb.close();

    expect(failures).toEqual([]);
    expect(answers.filter((a) => a.answer.status !== 200)).toEqual([]);
    expect(beforeDrain).toBeGreaterThan(8);
    // Kept-alive before the drain; after it, each of the stopping replica's 8 connections is
    // asked to close by the answer it carries next — whether that review was sent before the
    // drain or after (which one it is depends on scheduling, not on the server).
    expect(answers.some((a) => !a.afterDrain && a.answer.reused)).toBe(true);
    expect(answers.filter((a) => !a.afterDrain && a.answer.connection === 'close').length).toBeLessThanOrEqual(8);
    expect(answers.filter((a) => a.answer.connection === 'close').length).toBeGreaterThanOrEqual(8);
  });

  it('finishes a review in flight when close() starts, and serves a connection idle since before the drain', async () => {
    let reviews = 0;
    let inFlight = () => undefined as void;
    const reviewing = new Promise<void>((resolve) => (inFlight = resolve));
    // The third review is the one in flight at close().
    const { app, port } = await replica(400, () => ++reviews === 3 && inFlight());
    const idle = new Agent({ keepAlive: true, maxSockets: 1 });
    expect(await post(port, caPem, idle)).toMatchObject({ status: 200, reused: false, connection: 'keep-alive' });
    app.drain();
    expect(await post(port, caPem, idle)).toMatchObject({ status: 200, reused: true, connection: 'close' });
    const slow = post(port, caPem, new Agent());
    await reviewing;
    const closed = app.close();
    expect(await slow).toMatchObject({ status: 200, connection: 'close' });
    await closed;
    idle.destroy();
  });
});
