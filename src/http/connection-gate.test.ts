// The connection gate on a real TLS server on 127.0.0.1: refused connections never get a
// handshake, limits are counted as connections come and go, and shutdown ends connections
// that a plain close() would wait for.
import { createServer, type Server } from 'node:https';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCertificateAuthority } from '../certs/pki.js';
import { createAdmissionGate, type AdmissionLimits } from './admission-gate.js';
import { closeWebhookWithin, createConnectionGate, type ConnectionGate } from './connection-gate.js';

let cert: { certPem: string; keyPem: string };
beforeAll(async () => {
  const ca = await createCertificateAuthority('gate-test-ca');
  cert = await ca.issue({ commonName: 'gate', ipAddresses: ['127.0.0.1'], dnsNames: [], usage: 'server' });
});

const servers: { server: Server; gate: ConnectionGate }[] = [];
afterEach(async () => {
  for (const { server, gate } of servers.splice(0)) {
    const closed = new Promise((r) => server.close(r));
    gate.destroyAll();
    await closed;
  }
});

const LIMITS: AdmissionLimits = { maxConnections: 3, maxHandshakes: 100, handshakesPerSecond: 1e6, maxInFlight: 100, maxBufferedBytes: 1 << 20 };

async function gatedServer(limits: AdmissionLimits): Promise<{ port: number; gate: ConnectionGate; refused: string[]; handshakes: () => number; server: Server }> {
  const refused: string[] = [];
  let handshakes = 0;
  const gate = createConnectionGate(createAdmissionGate(limits), { onRefused: (r) => refused.push(r), onHandshake: () => handshakes++ });
  const server = createServer({ cert: cert.certPem, key: cert.keyPem }, (_req, res) => res.end('ok'));
  gate.attach(server);
  servers.push({ server, gate });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, gate, refused, handshakes: () => handshakes, server };
}

/** A TLS client: 'secure' once the handshake finished, 'closed' when the server ended the connection without one. */
function tlsClient(port: number): Promise<{ outcome: 'secure' | 'closed'; socket: Socket }> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    socket.once('secureConnect', () => resolve({ outcome: 'secure', socket }));
    socket.once('error', () => resolve({ outcome: 'closed', socket }));
    socket.once('close', () => resolve({ outcome: 'closed', socket }));
  });
}

/** A TCP client that never starts TLS: it holds a handshake slot until the server closes it. */
function stalledClient(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.on('error', () => undefined);
    socket.once('error', reject);
  });
}

const closedByServer = (socket: Socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

describe('connection gate', () => {
  it('refuses connections beyond the cap right after accept, without a TLS handshake, and admits again once one closes', async () => {
    const { port, gate, refused, handshakes } = await gatedServer(LIMITS);
    const held = await Promise.all(Array.from({ length: 3 }, () => tlsClient(port)));
    expect(held.map((c) => c.outcome)).toEqual(['secure', 'secure', 'secure']);
    const extra = await Promise.all(Array.from({ length: 20 }, () => tlsClient(port)));
    expect(extra.every((c) => c.outcome === 'closed')).toBe(true);
    expect(refused).toEqual(Array.from({ length: 20 }, () => 'connections'));
    await vi.waitFor(() => expect(handshakes()).toBe(3));
    expect(gate.open()).toBe(3);
    held[0]?.socket.destroy();
    await vi.waitFor(() => expect(gate.open()).toBe(2));
    const again = await tlsClient(port);
    expect(again.outcome).toBe('secure');
    // The server finishes its side of the handshake just after the client.
    await vi.waitFor(() => expect(gate.gate.counts()).toMatchObject({ connections: 3, handshakes: 0 }));
    for (const c of [...held, again]) c.socket.destroy();
  });

  it('limits connections in their TLS handshake: stalled handshakes hold their slots, the next connection is refused', async () => {
    const { port, gate, refused } = await gatedServer({ ...LIMITS, maxConnections: 100, maxHandshakes: 2 });
    const stalled = await Promise.all([stalledClient(port), stalledClient(port)]);
    const next = await tlsClient(port);
    expect(next.outcome).toBe('closed');
    expect(refused).toEqual(['handshakes']);
    expect(gate.gate.counts()).toMatchObject({ connections: 2, handshakes: 2 });
    stalled[0]?.destroy();
    await vi.waitFor(() => expect(gate.gate.counts()).toMatchObject({ connections: 1, handshakes: 1 }));
    expect((await tlsClient(port)).outcome).toBe('secure');
    for (const s of stalled) s.destroy();
  });

  it('limits the rate of new TLS handshakes', async () => {
    const { port, refused } = await gatedServer({ ...LIMITS, maxConnections: 100, maxHandshakes: 2, handshakesPerSecond: 0.001 });
    const first = await Promise.all([tlsClient(port), tlsClient(port)]);
    expect(first.map((c) => c.outcome)).toEqual(['secure', 'secure']);
    expect((await tlsClient(port)).outcome).toBe('closed');
    expect(refused).toEqual(['handshake-rate']);
    for (const c of first) c.socket.destroy();
  });

  it('shutdown ends connections a plain close would wait for (stalled handshakes, idle TLS) once the bound has passed', async () => {
    const { port, gate, server } = await gatedServer({ ...LIMITS, maxConnections: 100 });
    const stalled = await Promise.all([stalledClient(port), stalledClient(port)]);
    const secure = await tlsClient(port);
    expect(gate.open()).toBe(3);
    const plain = new Promise<'closed'>((resolve) => server.close(() => resolve('closed')));
    const waited = await Promise.race([plain, new Promise<'still open'>((r) => setTimeout(() => r('still open'), 300))]);
    expect(waited).toBe('still open');
    await closeWebhookWithin(() => plain.then(() => undefined), gate, 50);
    await Promise.all([...stalled, secure.socket].map(closedByServer));
    await vi.waitFor(() => expect(gate.gate.counts()).toMatchObject({ connections: 0, handshakes: 0 }));
    expect(gate.open()).toBe(0);
  });
});
