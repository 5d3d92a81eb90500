// What one client connection may cost the webhook port, which every pod in the cluster can
// reach: a bounded number of connections, each with a bounded time to finish its TLS
// handshake, its request headers and its whole request. Past a bound the connection is
// closed (handshake), answered 408 and closed (headers, body), or refused at accept (limit),
// so slow or idle clients cannot hold memory or file descriptors for long.
//
// Node's own timeouts are used where they are absolute deadlines: `headersTimeout` and
// `requestTimeout` run from the first byte of a request and are checked every
// `connectionsCheckingInterval` (30 s by default, which let a trickling client hold a
// connection for 30–90 s past a 10 s request timeout). TLS's `handshakeTimeout` is an idle
// timer (a client sending a byte now and then keeps it from firing), so the handshake also
// gets an absolute deadline here, from accept to the secure connection.
// https://nodejs.org/docs/latest-v20.x/api/http.html#serverrequesttimeout
import type { Server as NetServer, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

export interface ConnectionLimits {
  /** From TCP accept to an established TLS session. */
  readonly handshakeTimeoutMs: number;
  /** From a request's first byte to the end of its headers. */
  readonly headersTimeoutMs: number;
  /** From a request's first byte to the end of its body. */
  readonly requestTimeoutMs: number;
  /** Open connections (handshaking, idle or busy); beyond it new ones are closed at accept. */
  readonly maxConnections: number;
  /** How long an idle kept-alive connection stays open between requests. */
  readonly keepAliveTimeoutMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 10_000,
  // A handful of API server replicas keep a few connections each; 1024 leaves room for bursts
  // and costs at most ~45 MiB (an idle TLS connection measured ~45 KiB of RSS on Node 20).
  maxConnections: 1024,
  // Longer than the idle timeout of the API server's Go client (90 s): the client, not bouncer,
  // closes an idle connection, so a POST never races a close from this side (Go does not retry it).
  keepAliveTimeoutMs: 95_000,
};

export type ConnectionClosedReason = 'limit' | 'handshake_timeout' | 'request_timeout';

/** The Node server options that carry the limits (for `https.createServer`). */
export function serverTimeoutOptions(limits: ConnectionLimits): {
  handshakeTimeout: number;
  headersTimeout: number;
  requestTimeout: number;
  connectionsCheckingInterval: number;
  keepAliveTimeout: number;
} {
  const headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  return {
    handshakeTimeout: limits.handshakeTimeoutMs,
    headersTimeout,
    requestTimeout: limits.requestTimeoutMs,
    // The deadlines above are only as precise as this check.
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
    keepAliveTimeout: limits.keepAliveTimeoutMs,
  };
}

/**
 * Applies the connection limit and the absolute handshake deadline to a listening-to-be TLS
 * server, and reports each connection it closes.
 */
export function guardConnections(server: NetServer, limits: ConnectionLimits, onClosed: (reason: ConnectionClosedReason) => void): void {
  server.maxConnections = limits.maxConnections;
  server.on('drop', () => onClosed('limit'));
  // Keyed by the raw socket: Node's TLSSocket keeps the one it wraps as _parent. (Not by the
  // peer address: https.Server's own tlsClientError listener runs first and destroys the
  // socket, and on Node 24 a destroyed socket no longer reports its peer.)
  const handshaking = new Map<Socket, NodeJS.Timeout>();
  const rawOf = (s: Socket): Socket => (s as unknown as { _parent?: Socket })._parent ?? s;
  server.on('connection', (raw: Socket) => {
    const timer = setTimeout(() => {
      handshaking.delete(raw);
      onClosed('handshake_timeout');
      raw.destroy();
    }, limits.handshakeTimeoutMs);
    timer.unref();
    handshaking.set(raw, timer);
    raw.once('close', () => {
      if (handshaking.get(raw) === timer) {
        clearTimeout(timer);
        handshaking.delete(raw);
      }
    });
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    const raw = rawOf(socket);
    clearTimeout(handshaking.get(raw));
    handshaking.delete(raw);
  });
  // Node's idle handshake timer (a client that stopped sending) may fire first; counted once.
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    const raw = rawOf(socket);
    if (err.code !== 'ERR_TLS_HANDSHAKE_TIMEOUT' || !handshaking.has(raw)) return;
    clearTimeout(handshaking.get(raw));
    handshaking.delete(raw);
    onClosed('handshake_timeout');
  });
  server.on('clientError', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') onClosed('request_timeout');
  });
}
