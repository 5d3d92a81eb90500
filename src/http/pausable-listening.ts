// Stops and resumes accepting on a listening server without touching its connections, so
// that connections beyond the edge limits are refused by the kernel rather than by us.
//
// Why: refusing after accept (close right away, or even Node's own maxConnections drop)
// lets the TCP handshake complete, so the client sends its TLS hello and only then learns
// it was refused. A client that opens connections freely (a Go HTTP client dials for every
// request that finds no idle connection: the API server's webhook client, load generators)
// then spends its CPU on key shares and hellos for refusals, and the requests on the
// connections it already has wait behind them: measured, a one-core client offering twice
// the capacity delivered under a tenth of it. With the listening socket closed, a connect
// is refused with a reset at once, for a fraction of that cost on both sides, and nothing
// on the server: no accept, no JavaScript object, no TLS.
//
// The listening socket is closed with net.Server's own close (http's would also end idle
// connections) and bound again at the same address; http.Server's 'listening' listeners
// (it starts its connection-checking interval on each) are kept to the first listen.
import { Server as NetServer, type Server } from 'node:net';

export interface PausableListening {
  /** Closes the listening socket if it is open; connections already accepted are untouched. */
  pause(): void;
  /** Binds again at the address it had; a failure is reported and retried by the next resume(). */
  resume(): void;
  /** True while paused (or resuming). */
  paused(): boolean;
}

export function pausableListening(server: Server, onPaused: (paused: boolean) => void, onError: (err: Error) => void): PausableListening {
  let address: { host: string; port: number } | undefined;
  let paused = false;
  let resuming = false;
  return {
    pause() {
      if (paused || !server.listening) return;
      const a = server.address();
      if (!a || typeof a === 'string') return;
      address = { host: a.address, port: a.port };
      paused = true;
      NetServer.prototype.close.call(server);
      onPaused(true);
    },
    resume() {
      if (!paused || resuming || !address) return;
      resuming = true;
      const listeners = server.listeners('listening') as ((...args: unknown[]) => void)[];
      server.removeAllListeners('listening');
      const done = (err?: Error) => {
        server.off('error', done);
        server.removeAllListeners('listening');
        for (const l of listeners) server.on('listening', l);
        resuming = false;
        if (err) return onError(err);
        paused = false;
        onPaused(false);
      };
      server.once('error', done);
      server.once('listening', () => done());
      NetServer.prototype.listen.call(server, { host: address.host, port: address.port });
    },
    paused: () => paused,
  };
}
