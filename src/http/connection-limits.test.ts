import { createServer, type Server } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createCertificateAuthority } from '../certs/pki.js';
import { DEFAULT_CONNECTION_LIMITS, guardConnections, type ConnectionClosedReason } from './connection-limits.js';

describe('guardConnections', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it("counts a handshake timeout when Node's own TLS timer fires first and https.Server has destroyed the socket", async () => {
    const ca = await createCertificateAuthority('limits-unit-ca');
    const leaf = await ca.issue({ commonName: 'bouncer', ipAddresses: ['127.0.0.1'], usage: 'server' });
    // Node's idle handshake timer (300 ms) before the absolute deadline (600 ms); like fastify,
    // the clientError listener destroys the socket before guardConnections sees the error.
    server = createServer({ key: leaf.keyPem, cert: leaf.certPem, handshakeTimeout: 300 });
    server.on('clientError', (_err, socket) => socket.destroy());
    const closed: ConnectionClosedReason[] = [];
    guardConnections(server, { ...DEFAULT_CONNECTION_LIMITS, handshakeTimeoutMs: 600, maxConnections: 10 }, (reason) => closed.push(reason));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await new Promise((resolve) => socket.on('close', resolve));
    // Past the absolute deadline too: counted once, not twice and not never.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(closed).toEqual(['handshake_timeout']);
  });
});
