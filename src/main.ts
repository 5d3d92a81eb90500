// `bouncer serve`: wiring only. Reads the configuration, builds the logger, metrics,
// policy registry, reviewer and servers, and stops them in order on SIGTERM/SIGINT.
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle } from './authoring/build.js';
import { loadBundle } from './bundles/bundle.js';
import { createPolicyRegistry, type PolicyRegistry } from './bundles/registry.js';
import { loadServeConfig, type ServeConfig } from './config/serve-config.js';
import { isBouncerError } from './errors/errors.js';
import { createHealthServer } from './http/health-server.js';
import { loadTls } from './http/tls.js';
import { createWebhookServer } from './http/webhook-server.js';
import { toDecisionEvent } from './review/decision-event.js';
import type { Decision } from './review/decision.js';
import { createReviewer } from './review/reviewer.js';
import { createLogger, type Logger } from './telemetry/logger.js';
import { createMetrics } from './telemetry/metrics.js';

async function loadInitialBundles(config: ServeConfig, registry: PolicyRegistry, logger: Logger): Promise<void> {
  const limits = { maxMemoryPages: config.maxMemoryPages };
  for (const { name, file } of config.bundles) {
    const bundle = await loadBundle(name, readFileSync(file), { limits });
    registry.activate(bundle);
    logger.info({ bundle: name, revision: bundle.revision, policies: bundle.policies.length }, 'bundle activated');
  }
  if (config.policiesDir) {
    if (!config.opa) throw new Error('--policies needs the OPA CLI: set OPA_BIN or --opa');
    const output = join(tmpdir(), `bouncer-local-${process.pid}.tar.gz`);
    try {
      await buildBundle({ policiesDir: config.policiesDir, output, opa: config.opa });
      const bundle = await loadBundle('local', readFileSync(output), { limits });
      registry.activate(bundle);
      logger.info({ bundle: 'local', revision: bundle.revision, policies: bundle.policies.length }, 'bundle built and activated');
    } finally {
      rmSync(output, { force: true });
    }
  }
}

function decisionLog(logger: Logger): (decision: Decision) => void {
  const log = logger.child({ log: 'decision' });
  return (decision) => log.info({ decision: toDecisionEvent(decision) }, 'decision');
}

export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  let config: ServeConfig;
  try {
    config = loadServeConfig(argv, env);
  } catch (err) {
    process.stderr.write(`bouncer serve: ${(err as Error).message}\n`);
    return 2;
  }
  const logger = createLogger({ level: config.logLevel });
  const metrics = createMetrics();
  const registry = createPolicyRegistry();
  registry.onChange((set) => metrics.policySet(set.bundles.map((b) => ({ bundle: b.name, revision: b.revision }))));
  let stopping = false;
  try {
    const tls = loadTls(config.tls);
    await loadInitialBundles(config, registry, logger);
    const reviewer = createReviewer({ policies: registry.current });
    const webhook = createWebhookServer({
      reviewer,
      metrics,
      logger,
      onDecision: decisionLog(logger),
      tls,
      bodyLimit: config.bodyLimitBytes,
      requestTimeoutMs: config.requestTimeoutMs,
    });
    const health = createHealthServer({
      metrics,
      readiness: () =>
        stopping ? { ready: false, reason: 'shutting down' } : registry.current() ? { ready: true } : { ready: false, reason: 'no policy set is active yet' },
    });
    await webhook.listen({ host: config.host, port: config.port });
    await health.listen({ host: config.host, port: config.healthPort });
    logger.info({ webhook: webhook.addresses(), health: health.addresses(), policySet: registry.current()?.revision }, 'bouncer is serving');

    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'shutting down: readiness off, finishing in-flight reviews');
        resolve();
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
    await webhook.close();
    await health.close();
    logger.info('stopped');
    return 0;
  } catch (err) {
    logger.fatal({ err, code: isBouncerError(err) ? err.code : undefined }, 'bouncer cannot start');
    return 1;
  }
}
