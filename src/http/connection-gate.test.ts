// The connection gate on a real TLS server on 127.0.0.1: with no room the port stops
// accepting (the kernel refuses connects, nothing reaches the server), it accepts again once a
// slot frees, limits are counted as connections come and go, and shutdown ends connections that
// a plain close() would wait for.
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

async function gatedServer(limits: AdmissionLimits): Promise<{ port: number; gate: ConnectionGate; refused: string[]; pauses: boolean[]; handshakes: () => number; server: Server }> {
  const refused: string[] = [];
  const pauses: boolean[] = [];
  let handshakes = 0;
  const gate = createConnectionGate(createAdmissionGate(limits), { onRefused: (r) => refused.push(r), onHandshake: () => handshakes++, onPaused: (p) => pauses.push(p) });
  const server = createServer({ cert: cert.certPem, key: cert.keyPem }, (_req, res) => res.end('ok'));
  gate.attach(server);
  servers.push({ server, gate });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, gate, refused, pauses, handshakes: () => handshakes, server };
}

/**
 * A TLS client: 'secure' once the handshake finished, 'refused' when the connect itself was
 * refused (nothing listening), 'closed' when the server ended the connection without a handshake.
 */
function tlsClient(port: number): Promise<{ outcome: 'secure' | 'closed' | 'refused'; socket: Socket }> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    socket.once('secureConnect', () => resolve({ outcome: 'secure', socket }));
    socket.once('error', (err: NodeJS.ErrnoException) => resolve({ outcome: err.code === 'ECONNREFUSED' ? 'refused' : 'closed', socket }));
    socket.once('close', () => resolve({ outcome: 'closed', socket }));
  });
}

/** An HTTPS request on an open TLS connection: the status line's code. */
function requestOn(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    socket.once('data', (chunk: Buffer) => resolve(chunk.toString().split(' ')[1] ?? ''));
    socket.write('GET / HTTP/1.1\r\nHost: gate\r\n\r\n');
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
  it('stops accepting when every slot is taken: connects beyond the cap are refused by the kernel, the open ones keep serving, and it accepts again once one closes', async () => {
    const { port, gate, refused, pauses, handshakes, server } = await gatedServer(LIMITS);
    const held = await Promise.all(Array.from({ length: 3 }, () => tlsClient(port)));
    expect(held.map((c) => c.outcome)).toEqual(['secure', 'secure', 'secure']);
    await vi.waitFor(() => expect(server.listening).toBe(false));
    const extra = await Promise.all(Array.from({ length: 20 }, () => tlsClient(port)));
    expect(extra.map((c) => c.outcome)).toEqual(Array.from({ length: 20 }, () => 'refused'));
    // Nothing of them reached the server: no accept, nothing to refuse.
    expect(refused).toEqual([]);
    expect(pauses).toEqual([true]);
    await vi.waitFor(() => expect(handshakes()).toBe(3));
    expect(gate.open()).toBe(3);
    // The connections it has are untouched by the pause.
    expect(await Promise.all(held.map((c) => requestOn(c.socket)))).toEqual(['200', '200', '200']);
    held[0]?.socket.destroy();
    await vi.waitFor(() => expect(server.listening).toBe(true));
    expect(pauses).toEqual([true, false]);
    const again = await tlsClient(port);
    expect(again.outcome).toBe('secure');
    // The server finishes its side of the handshake just after the client.
    await vi.waitFor(() => expect(gate.gate.counts()).toMatchObject({ connections: 3, handshakes: 0 }));
    await vi.waitFor(() => expect(server.listening).toBe(false));
    for (const c of [...held, again]) c.socket.destroy();
  });

  it('limits connections in their TLS handshake: stalled handshakes hold their slots, the next connect is refused', async () => {
    const { port, gate, server } = await gatedServer({ ...LIMITS, maxConnections: 100, maxHandshakes: 2 });
    const stalled = await Promise.all([stalledClient(port), stalledClient(port)]);
    await vi.waitFor(() => expect(server.listening).toBe(false));
    expect((await tlsClient(port)).outcome).toBe('refused');
    expect(gate.gate.counts()).toMatchObject({ connections: 2, handshakes: 2 });
    stalled[0]?.destroy();
    await vi.waitFor(() => expect(gate.gate.counts()).toMatchObject({ connections: 1, handshakes: 1 }));
    await vi.waitFor(() => expect(server.listening).toBe(true));
    expect((await tlsClient(port)).outcome).toBe('secure');
    for (const s of stalled) s.destroy();
  });

  it('limits the rate of new TLS handshakes', async () => {
    const { port, server } = await gatedServer({ ...LIMITS, maxConnections: 100, maxHandshakes: 2, handshakesPerSecond: 0.001 });
    const first = await Promise.all([tlsClient(port), tlsClient(port)]);
    expect(first.map((c) => c.outcome)).toEqual(['secure', 'secure']);
    await vi.waitFor(() => expect(server.listening).toBe(false));
    expect((await tlsClient(port)).outcome).toBe('refused');
    for (const c of first) c.socket.destroy();
  });

  it('serves one of a burst of connects with one slot; the rest are reset in the backlog or refused, none served', async () => {
    const { port, gate, refused, server } = await gatedServer({ ...LIMITS, maxConnections: 1 });
    // Connects issued together complete in the kernel's backlog: the first accepted takes the
    // slot, the listening socket closes, and the kernel resets the rest (or Node drops any
    // accepted in the same batch, counted as refused).
    const all = await Promise.all(Array.from({ length: 8 }, () => tlsClient(port)));
    const outcomes = all.map((c) => c.outcome);
    expect(outcomes.filter((o) => o === 'secure')).toHaveLength(1);
    expect(outcomes.filter((o) => o !== 'secure')).toHaveLength(7);
    expect(refused.every((r) => r === 'connections')).toBe(true);
    expect(gate.open()).toBe(1);
    expect(server.listening).toBe(false);
    for (const c of all) c.socket.destroy();
  });

  it('never resumes accepting once stopped for shutdown', async () => {
    const { port, gate, server } = await gatedServer({ ...LIMITS, maxConnections: 1 });
    const only = await tlsClient(port);
    await vi.waitFor(() => expect(server.listening).toBe(false));
    gate.stop();
    only.socket.destroy();
    await vi.waitFor(() => expect(gate.open()).toBe(0));
    expect(server.listening).toBe(false);
    expect((await tlsClient(port)).outcome).toBe('refused');
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
