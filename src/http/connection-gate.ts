// Attaches an AdmissionGate (admission-gate.ts) to the webhook's server: every accepted
// connection is asked about before any TLS work, and refused ones are destroyed right after
// accept — a reset costs the client one round trip and the server one accept, where an
// accepted connection would cost a handshake, buffers and a slot it cannot serve.
// It also tracks every open connection, so that shutdown can end them all after a bound
// (see closeWebhookWithin): the server's own close() waits for connections still in their
// handshake or with a request in progress, which after a storm took minutes.
import type { Server, Socket } from 'node:net';
import type { AdmissionGate, ConnectionVerdict } from './admission-gate.js';
import { pausableListening } from './pausable-listening.js';

export interface ConnectionGateEvents {
  /** A connection was refused, and why. */
  readonly onRefused?: (reason: Exclude<ConnectionVerdict, 'admitted'>) => void;
  /** An admitted connection finished its TLS handshake. */
  readonly onHandshake?: () => void;
  /** The number of open connections changed. */
  readonly onOpen?: (open: number) => void;
  /** Accepting stopped (no room: the kernel refuses new connections) or started again. */
  readonly onPaused?: (paused: boolean) => void;
  /** Binding the listening socket again failed (it is retried). */
  readonly onListenError?: (err: Error) => void;
}

export interface ConnectionGate {
  readonly gate: AdmissionGate;
  /** Takes over the server's 'connection' event; call once, before it listens. */
  attach(server: Server): void;
  /** Open connections right now. */
  open(): number;
  /** Shutdown: accepting is never resumed from now on. */
  stop(): void;
  /** Destroys every open connection (shutdown, after the bound). Returns how many. */
  destroyAll(): number;
}

interface Tracked {
  handshaking: boolean;
  /** The TLS socket over the raw one, once the handshake finished. */
  secure?: Socket;
}

export function createConnectionGate(gate: AdmissionGate, events: ConnectionGateEvents = {}, now: () => number = () => performance.now()): ConnectionGate {
  const open = new Map<Socket, Tracked>();
  let tls = false;
  let stopped = false;
  let stopTimers: () => void = () => undefined;
  const stop = () => {
    stopped = true;
    stopTimers();
  };
  return {
    gate,
    attach(server) {
      // With no room the listening socket is closed (pausable-listening.ts): the kernel
      // refuses new connections until a slot frees. Connections accepted before that takes
      // effect (a batch accepted at once) are dropped by Node at accept (maxConnections: closed
      // before a net.Socket exists; 'drop' tells us), and the JavaScript check in 'connection'
      // below stays as the exact one: maxConnections 0 means no limit, and the rate bucket
      // refills between updates.
      let refillTimer: NodeJS.Timeout | undefined;
      let retryTimer: NodeJS.Timeout | undefined;
      const wake = (wait: number) => {
        const timer = setTimeout(() => {
          if (refillTimer === timer) refillTimer = undefined;
          if (retryTimer === timer) retryTimer = undefined;
          update();
        }, wait);
        timer.unref();
        return timer;
      };
      const listening = pausableListening(
        server,
        (paused) => events.onPaused?.(paused),
        (err) => {
          events.onListenError?.(err);
          retryTimer ??= wake(100);
        },
      );
      const update = () => {
        const at = now();
        const room = gate.headroom(at).connections;
        server.maxConnections = Math.max(1, open.size + room);
        if (stopped) return;
        if (room === 0 && !refillTimer) {
          const wait = gate.untilToken(at);
          if (wait > 0) refillTimer = wake(wait);
        }
        if (room === 0) listening.pause();
        else listening.resume();
      };
      stopTimers = () => {
        clearTimeout(refillTimer);
        clearTimeout(retryTimer);
      };
      // Whoever closes the server (fastify's close, a test) closes it for good: a pause must not
      // bind the port again after that.
      const close = server.close.bind(server);
      server.close = (callback?: (err?: Error) => void) => {
        stop();
        return close(callback);
      };
      server.on('drop', () => events.onRefused?.(gate.headroom(now()).reason));
      // The TLS server turns a raw connection into a TLSSocket in its own 'connection'
      // listener; running ours first, and only then theirs, keeps refused connections
      // from ever starting a handshake.
      const listeners = server.listeners('connection') as ((socket: Socket) => void)[];
      tls = listeners.length > 0 && 'setSecureContext' in server;
      update();
      server.removeAllListeners('connection');
      server.on('connection', (socket: Socket) => {
        const verdict = gate.openConnection(now());
        if (verdict !== 'admitted') {
          socket.destroy();
          events.onRefused?.(verdict);
          update();
          return;
        }
        const tracked: Tracked = { handshaking: tls };
        open.set(socket, tracked);
        events.onOpen?.(open.size);
        socket.once('close', () => {
          open.delete(socket);
          gate.connectionClosed(tracked.handshaking);
          tracked.handshaking = false;
          events.onOpen?.(open.size);
          update();
        });
        update();
        for (const listener of listeners) listener.call(server, socket);
      });
      if (tls) {
        server.on('secureConnection', (secure: Socket) => {
          // Node's TLSSocket keeps the raw socket it wraps as _parent.
          const raw = (secure as unknown as { _parent?: Socket })._parent;
          const tracked = raw ? open.get(raw) : undefined;
          if (!tracked || !tracked.handshaking) return;
          tracked.handshaking = false;
          tracked.secure = secure;
          gate.handshakeDone();
          events.onHandshake?.();
          update();
        });
      }
    },
    open: () => open.size,
    stop,
    destroyAll() {
      const n = open.size;
      for (const [raw, tracked] of open) {
        tracked.secure?.destroy();
        raw.destroy();
      }
      return n;
    },
  };
}

/**
 * Closes a webhook server within `boundMs`: stops accepting and closes idle connections at
 * once (the server's close), lets requests in progress finish — every review is answered
 * within the review budget, by its failure mode if it is still queued — and past the bound
 * destroys whatever is still open: connections in a handshake, stalled clients, answers
 * the client does not read. Resolves when the server is closed.
 */
export async function closeWebhookWithin(close: () => Promise<void>, gate: ConnectionGate | undefined, boundMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  // A paused listener must not open again while the server closes.
  gate?.stop();
  const closed = close();
  const bound = new Promise<'bound'>((resolve) => (timer = setTimeout(() => resolve('bound'), boundMs)));
  const first = await Promise.race([closed.then(() => 'closed' as const), bound]);
  clearTimeout(timer);
  if (first === 'bound') {
    gate?.destroyAll();
    await closed;
  }
}
