// The metrics of edge admission control (src/http/admission-gate.ts, connection-gate.ts):
// connections open, refused and paused for, TLS handshakes, requests shed: the `edge` member
// of Metrics. Labels are bounded: limit names, endpoints and shed reasons.
import { Counter, Gauge, type Registry } from 'prom-client';

/** Connections and requests at the edge, before any evaluation (admission-gate.ts). */
export interface EdgeMetrics {
  connectionsOpen(open: number): void;
  /** A connection closed right after accept: reason connections, handshakes or handshake-rate. */
  connectionRefused(reason: string): void;
  /** A TLS handshake finished. */
  handshake(): void;
  /** Accepting stopped (no room at the edge: the kernel refuses new connections) or resumed. */
  listeningPaused(paused: boolean): void;
  /** Binding the webhook's listening socket again failed (retried). */
  listenFailed(): void;
  /** A request answered without evaluation: reason in-flight (by failure mode) or memory (503). */
  requestShed(endpoint: string, reason: string): void;
}

export function edgeMetrics(registers: Registry[]): EdgeMetrics {
  const connectionsOpen = new Gauge({ name: 'bouncer_connections_open', help: 'Webhook connections open (admitted by the connection cap), in a TLS handshake or past it.', registers });
  const connectionsRefused = new Counter({
    name: 'bouncer_connections_refused_total',
    help: 'Webhook connections closed right after accept, before TLS, by reason (connections, handshakes, handshake-rate: which limit was reached).',
    labelNames: ['reason'],
    registers,
  });
  const paused = new Gauge({
    name: 'bouncer_listening_paused',
    help: '1 while the webhook port does not accept: every connection slot is taken (or the handshake limits are reached), so the kernel refuses new connections at once.',
    registers,
  });
  const pauses = new Counter({ name: 'bouncer_listening_pauses_total', help: 'Times the webhook port stopped accepting because the edge limits left no room for a connection.', registers });
  let pausedSince: number | undefined;
  const pausedSeconds: Counter = new Counter({
    name: 'bouncer_listening_paused_seconds_total',
    help: 'Time the webhook port spent not accepting, seconds (its rate() is the fraction of time new connections were refused).',
    registers,
    // A pause still going on is counted up to each scrape, so rate() sees it while it lasts.
    collect() {
      if (pausedSince === undefined) return;
      const at = performance.now();
      pausedSeconds.inc((at - pausedSince) / 1000);
      pausedSince = at;
    },
  });
  const listenFailures = new Counter({ name: 'bouncer_listen_failures_total', help: 'Failures to bind the webhook port again after a pause (retried every 100 ms).', registers });
  const handshakes = new Counter({ name: 'bouncer_tls_handshakes_total', help: 'TLS handshakes completed on the webhook port (the handshake rate is its rate()).', registers });
  const shed = new Counter({
    name: 'bouncer_requests_shed_total',
    help: 'Webhook requests answered without evaluation because bouncer was at capacity, by endpoint and reason (in-flight: answered by each policy\'s failure mode; memory: 503, the body would pass the buffered-bytes bound).',
    labelNames: ['endpoint', 'reason'],
    registers,
  });
  for (const reason of ['connections', 'handshakes', 'handshake-rate']) connectionsRefused.inc({ reason }, 0);
  for (const endpoint of ['validate', 'mutate']) for (const reason of ['in-flight', 'memory']) shed.inc({ endpoint, reason }, 0);

  return {
    connectionsOpen: (open) => connectionsOpen.set(open),
    connectionRefused: (reason) => connectionsRefused.inc({ reason }),
    handshake: () => handshakes.inc(),
    listeningPaused(isPaused) {
      paused.set(isPaused ? 1 : 0);
      if (isPaused && pausedSince === undefined) {
        pauses.inc();
        pausedSince = performance.now();
      } else if (!isPaused && pausedSince !== undefined) {
        pausedSeconds.inc((performance.now() - pausedSince) / 1000);
        pausedSince = undefined;
      }
    },
    listenFailed: () => listenFailures.inc(),
    requestShed: (endpoint, reason) => shed.inc({ endpoint, reason }),
  };
}
