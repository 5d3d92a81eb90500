// Admission control at the edge: how much work bouncer takes on before it spends any. Pure
// counting, no sockets (connection-gate.ts attaches it to the TLS server, webhook-server.ts
// asks it about each request), so every limit is testable without timing.
//
// Why: the main thread does TLS and HTTP for every connection before the bounded evaluation
// queue sees a review. A client that opens connections freely (the API server's webhook
// client does not cap them) used to make bouncer accept thousands, starve all of them and
// grow past the pod's memory limit. With the gate, work beyond the limits is refused at the
// cheapest point:
//   - with `maxConnections` open, `maxHandshakes` handshakes in progress or the handshake rate
//     spent, the port stops accepting until there is room again, so the kernel refuses new
//     connects (connection-gate.ts); one accepted in the same batch is closed right after
//     accept, before any TLS work;
//   - a request beyond `maxInFlight` is answered at once by each policy's failure mode
//     (as the worker pool's overload answer), without evaluation;
//   - a request whose body would take the buffered bytes past `maxBufferedBytes` is answered
//     503 before its body is read (there is no uid to answer an AdmissionReview with yet).
// Memory is then bounded by construction: connections × per-connection cost, plus bodies
// ≤ maxBufferedBytes (each body is also ≤ the body limit).

/** Limits of the gate. Every one is a count or a rate, never a time. */
export interface AdmissionLimits {
  /** Open webhook connections (TLS or not, handshake done or not). */
  readonly maxConnections: number;
  /** Connections in their TLS handshake at once. */
  readonly maxHandshakes: number;
  /** TLS handshakes started per second (token bucket, bursts up to maxHandshakes). */
  readonly handshakesPerSecond: number;
  /** Requests between their headers read and their answer written. */
  readonly maxInFlight: number;
  /** Request bodies held in memory at once, bytes (declared Content-Length, or the body limit when undeclared). */
  readonly maxBufferedBytes: number;
}

/**
 * What bouncer's resident memory stays under with the default limits whatever the offered
 * load (test/e2e/overload.test.ts drives far beyond every limit and checks it): below the
 * manifests' pod limit (384Mi, manifests/base/deployment.yaml) with room for the kernel's
 * socket buffers, which are not charged to RSS but are to the cgroup. It is the sum of the
 * idle process with its workers (~130 MB), the connection cap × ~64 KB of TLS and HTTP state,
 * and the buffered-bytes bound with the bodies' parsing.
 */
export const MEMORY_CEILING_BYTES = 320 * 1024 * 1024;

/** A request body may be this large; the buffer budget must hold at least one (default body limit, 8 MiB). */
export const DEFAULT_BUFFERED_BYTES = 64 * 1024 * 1024;

/**
 * Defaults from the CPU budget (cpu-budget.ts). One core answers about 4,000 small reviews/s
 * (docs/performance.md) and already does so with 64 client connections; more connections add
 * no throughput, only work in flight: under a storm from a client that opens connections
 * freely, 128 connections per core held 60-92 % of the capacity and 64 held 92-99 %
 * (docs/performance.md, "Overload"). Idle kept-alive connections count too: an API server's
 * client keeps up to 25 idle per webhook host (client-go's transport default), so a
 * single-CPU replica serving more than two API servers alone wants --max-connections raised.
 * Requests in flight get twice that bound: over HTTP/1.1 a
 * connection carries one request at a time, so shedding by failure mode (which still costs
 * the TLS and HTTP work of the answer) only starts when the connection cap is raised above
 * it; the connection cap is what refuses a storm cheaply. A full TLS handshake costs the main
 * thread about a millisecond: 200/s per core bounds handshakes to a fifth of it under a storm
 * of new connections, and 32 at once per core bounds the memory of half-open handshakes.
 * Buffered bodies are memory, not CPU: one bound for the process.
 */
export function defaultAdmissionLimits(cpus: number): AdmissionLimits {
  const n = Math.max(1, Math.floor(cpus));
  return Object.freeze({
    maxConnections: Math.min(64 * n, 1024),
    maxHandshakes: 32 * n,
    handshakesPerSecond: 200 * n,
    maxInFlight: 128 * n,
    maxBufferedBytes: DEFAULT_BUFFERED_BYTES,
  });
}

export type ConnectionVerdict = 'admitted' | 'connections' | 'handshakes' | 'handshake-rate';

/** What the gate answers for a request: admitted (evaluate it), shed (answer by failure mode) or refused for memory. */
export type RequestVerdict = 'admitted' | 'in-flight' | 'memory';

export interface RequestTicket {
  readonly verdict: RequestVerdict;
  /** Gives the request's slot and bytes back; idempotent (call it when the answer is written or the connection closes). */
  release(): void;
}

export interface GateCounts {
  readonly connections: number;
  readonly handshakes: number;
  readonly inFlight: number;
  readonly bufferedBytes: number;
}

export interface AdmissionGate {
  readonly limits: AdmissionLimits;
  /** A connection was accepted; unless 'admitted' the caller closes it at once. */
  openConnection(nowMs: number): ConnectionVerdict;
  /** An admitted connection finished its TLS handshake (plain connections never call it). */
  handshakeDone(): void;
  /** An admitted connection closed; `handshaking`: before its handshake finished. */
  connectionClosed(handshaking: boolean): void;
  /**
   * How many more connections could be admitted right now, and the limit that binds when
   * none can. The server is told (its maxConnections) so that it drops connections beyond it
   * at accept, before any JavaScript object is made for them: under a storm of new
   * connections a refusal must cost less than the answer it stands for.
   */
  headroom(nowMs: number): { readonly connections: number; readonly reason: Exclude<ConnectionVerdict, 'admitted'> };
  /** Milliseconds until the handshake bucket holds a token again (0 when it does). */
  untilToken(nowMs: number): number;
  /** A request's headers were read; `bodyBytes` is what its body will hold in memory. */
  request(bodyBytes: number): RequestTicket;
  counts(): GateCounts;
}

export function createAdmissionGate(limits: AdmissionLimits, options: { tls?: boolean } = {}): AdmissionGate {
  const tls = options.tls !== false;
  let connections = 0;
  let handshakes = 0;
  let inFlight = 0;
  let buffered = 0;
  // Token bucket of handshakes: full at start, refilled continuously.
  let tokens = limits.maxHandshakes;
  let refilledAt: number | undefined;

  const refill = (nowMs: number): void => {
    if (refilledAt !== undefined) tokens = Math.min(limits.maxHandshakes, tokens + (Math.max(0, nowMs - refilledAt) / 1000) * limits.handshakesPerSecond);
    refilledAt = nowMs;
  };
  const takeToken = (nowMs: number): boolean => {
    refill(nowMs);
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };

  return {
    limits,
    openConnection(nowMs) {
      if (connections >= limits.maxConnections) return 'connections';
      if (tls) {
        if (handshakes >= limits.maxHandshakes) return 'handshakes';
        if (!takeToken(nowMs)) return 'handshake-rate';
        handshakes++;
      }
      connections++;
      return 'admitted';
    },
    headroom(nowMs) {
      const byConnections = limits.maxConnections - connections;
      if (!tls) return { connections: Math.max(0, byConnections), reason: 'connections' };
      refill(nowMs);
      const byHandshakes = limits.maxHandshakes - handshakes;
      const byRate = Math.floor(tokens);
      const least = Math.max(0, Math.min(byConnections, byHandshakes, byRate));
      const reason = byConnections <= least ? 'connections' : byHandshakes <= least ? 'handshakes' : 'handshake-rate';
      return { connections: least, reason };
    },
    untilToken(nowMs) {
      refill(nowMs);
      return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / limits.handshakesPerSecond) * 1000);
    },
    handshakeDone() {
      if (handshakes > 0) handshakes--;
    },
    connectionClosed(handshaking) {
      if (connections > 0) connections--;
      if (handshaking && handshakes > 0) handshakes--;
    },
    request(bodyBytes) {
      const bytes = Math.max(0, bodyBytes);
      if (buffered + bytes > limits.maxBufferedBytes) return { verdict: 'memory', release: () => undefined };
      buffered += bytes;
      const shed = inFlight >= limits.maxInFlight;
      if (!shed) inFlight++;
      let released = false;
      return {
        verdict: shed ? 'in-flight' : 'admitted',
        release() {
          if (released) return;
          released = true;
          buffered -= bytes;
          if (!shed) inFlight--;
        },
      };
    },
    counts: () => ({ connections, handshakes, inFlight, bufferedBytes: buffered }),
  };
}
