// What a connection may cost the webhook port, against real slow clients over real sockets:
// a TCP connection that never starts TLS, a ClientHello trickled a byte at a time, request
// headers and a body trickled after the handshake, and connections beyond the limit. Each
// is closed (or answered 408) by the server within its bound, and the server keeps serving.
// The bounds asserted are generous (several times the limit), not latency goals.
import { Agent, request } from 'node:https';
import { connect as netConnect, createServer as netServer, type AddressInfo, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createCertificateAuthority } from '../../src/certs/pki.js';
import type { WebhookServer } from '../../src/http/webhook-server.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { configMapRequest } from '../support/bundle-files.js';
import { webhookApp } from '../support/webhook-app.js';

const LIMITS = { handshakeTimeoutMs: 1000, headersTimeoutMs: 1000, requestTimeoutMs: 1500, maxConnections: 6 };
/** The server must have acted by then; past it the test's client gives up. */
const BOUND_MS = 6000;
const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: configMapRequest({ deny: 'true' }) });

interface Ending {
  /** Who closed: the server (the outcome under test) or the client giving up at BOUND_MS. */
  readonly by: 'server' | 'client';
  readonly ms: number;
  /** Bytes the server answered (decrypted for TLS clients). */
  readonly answer: string;
}

/** Waits for a socket to close; the client destroys it itself after BOUND_MS. */
function ending(socket: Socket, started: number, stop: () => void = () => undefined): Promise<Ending> {
  return new Promise((resolve) => {
    let answer = '';
    let by: Ending['by'] = 'server';
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.on('error', () => undefined);
    const giveUp = setTimeout(() => {
      by = 'client';
      socket.destroy();
    }, BOUND_MS);
    socket.on('close', () => {
      clearTimeout(giveUp);
      stop();
      resolve({ by, ms: Date.now() - started, answer });
    });
  });
}

/** Writes `text` one byte every `everyMs` while the socket is open. */
function trickle(socket: Socket, text: string, everyMs: number): () => void {
  let i = 0;
  const timer = setInterval(() => {
    if (i < text.length && socket.writable) socket.write(text.charAt(i++));
  }, everyMs);
  return () => clearInterval(timer);
}

/** The bytes a real TLS client opens with (its ClientHello), captured from a plain TCP listener. */
async function clientHello(): Promise<Buffer> {
  const capture = netServer();
  await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
  const hello = new Promise<Buffer>((resolve) => capture.once('connection', (s: Socket) => s.once('data', (d: Buffer) => (resolve(d), s.destroy()))));
  const client = tlsConnect({ host: '127.0.0.1', port: (capture.address() as AddressInfo).port, rejectUnauthorized: false });
  client.on('error', () => undefined);
  const bytes = await hello;
  client.destroy();
  capture.close();
  return bytes;
}

describe('connection limits', () => {
  let app: WebhookServer;
  let port: number;
  let caPem: string;
  const metrics = createMetrics({ defaultMetrics: false });
  /** bouncer_connections_closed_total for one reason. */
  const closed = async (reason: string): Promise<number> => (await metrics.registry.getSingleMetric('bouncer_connections_closed_total')?.get())?.values.find((v) => v.labels.reason === reason)?.value ?? 0;

  beforeAll(async () => {
    const ca = await createCertificateAuthority('limits-test-ca');
    caPem = ca.certPem;
    const leaf = await ca.issue({ commonName: 'bouncer', ipAddresses: ['127.0.0.1'], usage: 'server' });
    app = await webhookApp(
      { basic: inject('bundles').basic as string },
      { tls: { cert: leaf.certPem, key: leaf.keyPem }, ...LIMITS, metrics },
    );
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  /** A normal review over a fresh TLS connection: still served. */
  const review = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/validate', method: 'POST', ca: caPem, agent: new Agent(), headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(body);
    });

  const tlsClient = (onSecure: (socket: Socket) => void): Socket => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: caPem }, () => onSecure(socket));
    return socket;
  };

  it('closes a TCP connection that never starts TLS after the handshake timeout', async () => {
    const started = Date.now();
    const end = await ending(netConnect(port, '127.0.0.1'), started);
    expect(end).toMatchObject({ by: 'server', answer: '' });
    expect(end.ms).toBeGreaterThanOrEqual(LIMITS.handshakeTimeoutMs - 100);
    expect(await closed('handshake_timeout')).toBe(1);
    expect(await review()).toBe(200);
  });

  it('closes a connection that trickles its ClientHello a byte at a time (the deadline is absolute, not idle)', async () => {
    const hello = await clientHello();
    const started = Date.now();
    const socket = netConnect(port, '127.0.0.1');
    const stop = trickle(socket, hello.toString('latin1'), 100);
    const end = await ending(socket, started, stop);
    expect(end.by).toBe('server');
    expect(end.ms).toBeLessThan(BOUND_MS);
    expect(await review()).toBe(200);
  });

  it('answers 408 and closes a client that trickles its request headers', async () => {
    const started = Date.now();
    let stop = () => undefined as void;
    const socket = tlsClient((s) => {
      s.write('POST /validate HTTP/1.1\r\n');
      stop = trickle(s, 'Host: x\r\nContent-Type: application/json\r\n'.repeat(50), 100);
    });
    const end = await ending(socket, started, () => stop());
    expect(end.by).toBe('server');
    expect(end.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(await closed('request_timeout')).toBe(1);
    expect(await review()).toBe(200);
  });

  it('answers 408 and closes a client that trickles its body', async () => {
    const started = Date.now();
    let stop = () => undefined as void;
    const socket = tlsClient((s) => {
      s.write(`POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
      stop = trickle(s, body, 100);
    });
    const end = await ending(socket, started, () => stop());
    expect(end.by).toBe('server');
    expect(end.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(await review()).toBe(200);
  });

  it('refuses connections beyond the limit at once, and serves again when they close', async () => {
    const holders = Array.from({ length: LIMITS.maxConnections }, () => netConnect(port, '127.0.0.1').on('error', () => undefined));
    await Promise.all(holders.map((h) => new Promise((resolve) => h.once('connect', resolve))));
    // Accepted by the server, not only by the kernel, before the next one comes.
    await expect.poll(() => new Promise((resolve) => app.server.getConnections((_e, n) => resolve(n)))).toBe(LIMITS.maxConnections);
    const started = Date.now();
    let secured = false;
    const beyond = tlsClient(() => (secured = true));
    const end = await ending(beyond, started);
    expect(secured).toBe(false);
    expect(end.by).toBe('server');
    expect(end.ms).toBeLessThan(LIMITS.handshakeTimeoutMs);
    expect(await closed('limit')).toBe(1);
    for (const h of holders) h.destroy();
    await expect.poll(() => new Promise((resolve) => app.server.getConnections((_e, n) => resolve(n)))).toBe(0);
    expect(await review()).toBe(200);
  });
});
