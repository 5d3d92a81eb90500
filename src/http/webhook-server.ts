// The webhook endpoints over HTTPS. This file owns fastify; the handler behind it
// (review/) never sees HTTP. Body limit: an UPDATE review carries the object and the old
// object, each up to the API server's 3 MiB request limit, plus the envelope — so the
// limit is 8 MiB rather than fastify's 1 MiB default. What a connection may cost is bounded
// in connection-limits.ts. Shutdown is two steps: drain() (answers carry `Connection: close`,
// so kept-alive clients move to new connections, while everything is still served), then
// close() (stop accepting, finish what is in flight).
// https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#request
import { fastify, LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { checkReview, parseBody, uidOf } from '../admission/decode.js';
import { rejectedReview, toReview, type Endpoint } from '../admission/respond.js';
import { BouncerError, isBouncerError } from '../errors/errors.js';
import type { AdmissionRequest } from '../admission/types.js';
import type { Decision } from '../review/decision.js';
import type { Reviewer } from '../review/reviewer.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { RequestTrace, Tracing } from '../telemetry/tracing.js';
import { DEFAULT_CONNECTION_LIMITS, guardConnections, serverTimeoutOptions, type ConnectionLimits } from './connection-limits.js';
import type { ConnectionGate } from './connection-gate.js';
import { fromFastifyError, statusBody } from './status.js';
import { trackFirstRequests } from './stop-accepting.js';
import type { TlsMaterial } from './tls.js';

export const DEFAULT_BODY_LIMIT = 8 * 1024 * 1024;

export interface WebhookServerOptions {
  readonly reviewer: Reviewer;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Receives every decision (the decision log); must not throw or block. Metrics are recorded here already. */
  readonly onDecision: (decision: Decision, request: AdmissionRequest) => void;
  readonly bodyLimit?: number;
  /** Serving certificate; omitted only for in-process tests through inject(). */
  readonly tls?: Pick<TlsMaterial, 'cert' | 'key' | 'ca'>;
  /** A request's headers and body must arrive within this (408 and closed after it). Default 10 s. */
  readonly requestTimeoutMs?: number;
  /** A request's headers must arrive within this. Default 10 s (never more than requestTimeoutMs). */
  readonly headersTimeoutMs?: number;
  /** A connection must finish its TLS handshake within this. Default 10 s. */
  readonly handshakeTimeoutMs?: number;
  /** Open connections when no gate manages them; beyond it new ones are closed at accept. Default 1024. */
  readonly maxConnections?: number;
  /** Edge admission control (connection-gate.ts); without it connections and requests are not limited. */
  readonly gate?: ConnectionGate;
  /** OpenTelemetry spans of each request, joined to the caller's trace (traceparent); none without it. */
  readonly tracing?: Tracing;
}

/** The webhook server: a fastify instance plus the first step of shutdown. */
export type WebhookServer = FastifyInstance & {
  /**
   * Starts the drain before close(): every answer from now on carries `Connection: close`,
   * so kept-alive clients reconnect (to a replica still in the endpoints) instead of
   * finding this one gone; requests keep being served normally. Idempotent.
   */
  drain(): void;
  /**
   * Stops accepting and waits (at most `graceMs`) for the connections just accepted to send
   * their first request, so close() does not reset them (stop-accepting.ts). Then close().
   */
  stopAccepting(graceMs: number): Promise<void>;
};

function limitsOf(options: WebhookServerOptions): ConnectionLimits {
  const d = DEFAULT_CONNECTION_LIMITS;
  const requestTimeoutMs = options.requestTimeoutMs ?? d.requestTimeoutMs;
  return {
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? d.handshakeTimeoutMs,
    headersTimeoutMs: Math.min(options.headersTimeoutMs ?? d.headersTimeoutMs, requestTimeoutMs),
    requestTimeoutMs,
    maxConnections: options.maxConnections ?? d.maxConnections,
    keepAliveTimeoutMs: d.keepAliveTimeoutMs,
  };
}

export function createWebhookServer(options: WebhookServerOptions): WebhookServer {
  const { reviewer, metrics, logger, onDecision } = options;
  const limits = limitsOf(options);
  const timeouts = serverTimeoutOptions(limits);
  const app = fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // fastify sets these on the server after creating it; the same values go in the server
    // options below, where Node also derives its headers deadline and checking interval.
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Requests arriving while close() runs (on a connection that was busy) are still answered,
    // with `Connection: close`, rather than refused with 503.
    return503OnClosing: false,
    ...(options.tls
      ? {
          https: {
            cert: options.tls.cert,
            key: options.tls.key,
            minVersion: 'TLSv1.2' as const,
            ...(options.tls.ca ? { ca: options.tls.ca, requestCert: true, rejectUnauthorized: true } : {}),
            ...timeouts,
          },
        }
      : { http: timeouts }),
  }) as unknown as FastifyInstance;
  if (options.tls) guardConnections(app.server, limits, (reason) => metrics.connectionClosed(reason));

  let draining = false;
  app.addHook('onRequest', (_request, reply, done) => {
    if (draining) reply.header('connection', 'close');
    done();
  });

  // --- tracing: the server span runs from the request's arrival to its answer ---
  const tracing = options.tracing;
  const traces = new WeakMap<FastifyRequest, RequestTrace>();
  if (tracing) {
    app.addHook('onRequest', (request, _reply, done) => {
      const { traceparent, tracestate } = request.headers;
      traces.set(request, tracing.startRequest({ method: request.method, path: request.url.split('?', 1)[0] ?? '', traceparent: single(traceparent), tracestate: single(tracestate) }));
      done();
    });
    app.addHook('onResponse', (request, reply, done) => {
      traces.get(request)?.end(reply.statusCode);
      done();
    });
  }

  // --- edge admission control (admission-gate.ts): before any TLS or body work ---
  const gate = options.gate;
  const shed = new WeakSet<FastifyRequest>();
  if (gate) {
    gate.attach(app.server);
    const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
    app.addHook('onRequest', async (request, reply) => {
      const declared = Number(request.headers['content-length']);
      const ticket = gate.gate.request(Number.isFinite(declared) ? Math.min(declared, bodyLimit) : bodyLimit);
      // The ServerResponse closes when the answer is written or the connection goes.
      reply.raw.once('close', ticket.release);
      if (ticket.verdict === 'admitted') return;
      const endpoint: Endpoint = request.url.startsWith('/mutate') ? 'mutate' : 'validate';
      metrics.edge.requestShed(endpoint, ticket.verdict);
      if (ticket.verdict === 'in-flight') return void shed.add(request);
      const err = new BouncerError('OVERLOADED', 'bouncer is at capacity: too many request bytes buffered; retry later');
      return reply.code(err.status).header('connection', 'close').header('retry-after', '1').send(statusBody(err));
    });
  }

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json'], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const reject = (endpoint: Endpoint, reply: FastifyReply, err: BouncerError, parsed?: unknown): FastifyReply => {
    metrics.malformed(endpoint, err.code);
    const uid = parsed === undefined ? undefined : uidOf(parsed);
    if (uid !== undefined) return reply.code(200).send(rejectedReview(uid, endpoint, err));
    return reply.code(err.status).send(statusBody(err));
  };

  // Errors thrown outside the handler's own catch: fastify's typed body errors (size, content
  // type) are the client's; anything else is ours, a 500 answered with the uid when the body
  // names one.
  app.setErrorHandler((err, request, reply) => {
    const endpoint: Endpoint = request.url.startsWith('/mutate') ? 'mutate' : 'validate';
    const failure = isBouncerError(err) ? err : fromFastifyError(err as { code?: string; statusCode?: number; message: string });
    if (failure.code === 'INTERNAL') request.log.error({ err }, 'unexpected error handling a review; denying');
    return reject(endpoint, reply, failure, failure.code === 'INTERNAL' ? readable(request.body) : undefined);
  });

  const handler = (endpoint: Endpoint) => async (request: FastifyRequest, reply: FastifyReply) => {
    const body = request.body;
    if (!(body instanceof Buffer)) return reject(endpoint, reply, new BouncerError('REVIEW_EMPTY', 'the request body is empty'));
    metrics.requestSize(endpoint, body.byteLength);
    metrics.inFlight(endpoint, 1);
    let parsed: unknown;
    try {
      const parsedBody = parseBody(body);
      parsed = parsedBody.value;
      const review = checkReview(parsed, parsedBody);
      // Only a sampled request's review is run in its trace: an unsampled one records nothing.
      const trace = tracing ? traces.get(request) : undefined;
      trace?.admission(review.request);
      // The budget runs from the request's arrival (fastify's clock starts at onRequest).
      const receivedAt = Date.now() - reply.elapsedTime;
      const decision = shed.has(request)
        ? reviewer.shed(endpoint, review)
        : await (tracing && trace?.sampledTraceId ? tracing.run(trace, () => reviewer.review(endpoint, review, body, receivedAt)) : reviewer.review(endpoint, review, body, receivedAt));
      trace?.response(review.request.uid, decision);
      metrics.decision({
        endpoint,
        allowed: decision.allowed,
        seconds: decision.durationMs / 1000,
        outcomes: decision.outcomes,
        ...(trace?.sampledTraceId ? { traceId: trace.sampledTraceId } : {}),
      });
      onDecision(decision, review.request);
      return reply.send(toReview(review.request.uid, endpoint, review.request.operation, decision));
    } catch (err) {
      if (isBouncerError(err)) return reject(endpoint, reply, err, parsed);
      request.log.error({ err }, 'unexpected error while reviewing; denying');
      return reject(endpoint, reply, new BouncerError('INTERNAL', 'internal error while reviewing', { cause: err }), parsed);
    } finally {
      metrics.inFlight(endpoint, -1);
    }
  };
  const timed = (endpoint: Endpoint) => ({
    onResponse: (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      metrics.requestDuration(endpoint, reply.elapsedTime / 1000, tracing ? traces.get(request)?.sampledTraceId : undefined);
      done();
    },
  });
  app.post('/validate', timed('validate'), handler('validate'));
  app.post('/mutate', timed('mutate'), handler('mutate'));
  const acceptance = trackFirstRequests(app.server);
  return Object.assign(app, {
    drain() {
      draining = true;
    },
    stopAccepting: (graceMs: number) => acceptance.stopAccepting(graceMs),
  });
}

/** A header sent once (a repeated trace context header is ignored, as W3C Trace Context says for traceparent). */
function single(header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' ? header : undefined;
}

/** The parsed body when it is JSON, to find the uid in; undefined otherwise. */
function readable(body: unknown): unknown {
  if (!(body instanceof Buffer)) return undefined;
  try {
    return parseBody(body).value;
  } catch {
    return undefined;
  }
}
