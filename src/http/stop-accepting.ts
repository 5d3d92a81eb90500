// The first step of closing the webhook port: stop accepting, and give the connections
// accepted just before a moment to deliver their first request. Node's http close() (since
// v19) also destroys every connection without a request in progress — including one accepted
// a millisecond ago whose request is still on its way, which its client sees as a reset of a
// new connection. During the drain every answer carries `Connection: close`, so clients open
// new connections all the time and that race is hit on almost every shutdown.
import { Server as NetServer, type Server, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';

export interface AcceptStopper {
  /**
   * Stops accepting connections, then waits until every connection accepted so far has sent
   * its first request (or ended), at most `graceMs`. The server's own close() comes after.
   */
  stopAccepting(graceMs: number): Promise<void>;
}

/** Follows, on `server`, the connections that have not sent a request yet. Call before it listens. */
export function trackFirstRequests(server: Server): AcceptStopper {
  const waiting = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    waiting.add(socket);
    socket.once('close', () => waiting.delete(socket));
  });
  server.on('request', (request: IncomingMessage) => {
    const socket = request.socket as Socket & { _parent?: Socket };
    // Over TLS the request's socket wraps the accepted one (its _parent).
    waiting.delete(socket._parent ?? socket);
    waiting.delete(socket);
  });
  return {
    async stopAccepting(graceMs) {
      // net.Server's own close: no new connections, and none of http's closing of idle ones.
      if (server.listening) NetServer.prototype.close.call(server);
      const deadline = Date.now() + graceMs;
      while (waiting.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    },
  };
}
