// The webhook server over real compiled bundles, for in-process tests (inject() or a local port).
import { createWebhookServer, type WebhookServer, type WebhookServerOptions } from '../../src/http/webhook-server.js';
import { createReviewer } from '../../src/review/reviewer.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { capturingLogger, registryOf } from './reviewing.js';

export async function webhookApp(bundles: Record<string, string>, options: Partial<WebhookServerOptions> = {}): Promise<WebhookServer> {
  const registry = await registryOf(bundles);
  return createWebhookServer({
    reviewer: createReviewer({ policies: registry.current }),
    metrics: createMetrics({ defaultMetrics: false }),
    logger: capturingLogger().logger,
    onDecision: () => undefined,
    ...options,
  });
}
