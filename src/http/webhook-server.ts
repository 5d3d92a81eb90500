// The webhook endpoints over HTTPS. This file owns fastify; the handler behind it
// (review/) never sees HTTP. Body limit: an UPDATE review carries the object and the old
// object, each up to the API server's 3 MiB request limit, plus the envelope — so the
// limit is 8 MiB rather than fastify's 1 MiB default.
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
import type { ConnectionGate } from './connection-gate.js';
import { fromFastifyError, statusBody } from './status.js';
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
  /** Slow or stalled clients are cut off after this long. */
  readonly requestTimeoutMs?: number;
  /** Edge admission control (connection-gate.ts); without it connections and requests are not limited. */
  readonly gate?: ConnectionGate;
}

export function createWebhookServer(options: WebhookServerOptions): FastifyInstance {
  const { reviewer, metrics, logger, onDecision } = options;
  const app = fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    requestTimeout: options.requestTimeoutMs ?? 10_000,
    connectionTimeout: options.requestTimeoutMs ?? 10_000,
    keepAliveTimeout: 65_000,
    return503OnClosing: true,
    ...(options.tls
      ? {
          https: {
            cert: options.tls.cert,
            key: options.tls.key,
            minVersion: 'TLSv1.2' as const,
            ...(options.tls.ca ? { ca: options.tls.ca, requestCert: true, rejectUnauthorized: true } : {}),
          },
        }
      : {}),
  }) as unknown as FastifyInstance;

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

  app.setErrorHandler((err, request, reply) => {
    const endpoint: Endpoint = request.url.startsWith('/mutate') ? 'mutate' : 'validate';
    const failure = isBouncerError(err) ? err : fromFastifyError(err as { code?: string; message: string });
    if (!isBouncerError(err) && (err as { statusCode?: number }).statusCode === undefined) request.log.error({ err }, 'unexpected error handling a review');
    return reject(endpoint, reply, failure);
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
      const decision = shed.has(request) ? reviewer.shed(endpoint, review) : await reviewer.review(endpoint, review, body);
      metrics.decision({
        endpoint,
        allowed: decision.allowed,
        seconds: decision.durationMs / 1000,
        outcomes: decision.outcomes,
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
    onResponse: (_request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      metrics.requestDuration(endpoint, reply.elapsedTime / 1000);
      done();
    },
  });
  app.post('/validate', timed('validate'), handler('validate'));
  app.post('/mutate', timed('mutate'), handler('mutate'));
  return app;
}
