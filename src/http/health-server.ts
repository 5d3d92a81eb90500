// Health, readiness and metrics on a separate plain-HTTP port, so probes and scrapes
// never compete with the API server's TLS connections.
import { fastify, type FastifyInstance } from 'fastify';
import type { Metrics } from '../telemetry/metrics.js';

export interface Readiness {
  readonly ready: boolean;
  /** Why not ready, for the probe's body and the operator. */
  readonly reason?: string;
}

export interface HealthServerOptions {
  readonly metrics: Metrics;
  readonly readiness: () => Readiness;
}

export function createHealthServer(options: HealthServerOptions): FastifyInstance {
  const app = fastify({ logger: false }) as unknown as FastifyInstance;
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const readiness = options.readiness();
    return reply.code(readiness.ready ? 200 : 503).send(readiness.ready ? { status: 'ready' } : { status: 'not ready', reason: readiness.reason });
  });
  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', options.metrics.registry.contentType).send(await options.metrics.registry.metrics()),
  );
  return app;
}
