// `bouncer serve`: wiring only. Reads the configuration, builds the logger, metrics,
// policy registry, bundle sources, reviewer and servers, and stops them in order on
// SIGTERM/SIGINT (readiness off first, then in-flight reviews finish).
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle } from './authoring/build.js';
import { loadBundle, type LoadedBundle } from './bundles/bundle.js';
import { createPolicyRegistry, type PolicyRegistry } from './bundles/registry.js';
import { createBundleVerifier } from './bundles/signature.js';
import type { CertificateManager } from './cluster/certificate-manager.js';
import { loadServeConfig, SERVE_USAGE, type ServeConfig } from './config/serve-config.js';
import { inProcessBackend, type EvalBackend } from './engine/backend.js';
import { createWorkerPool } from './engine/worker-pool.js';
import { isBouncerError } from './errors/errors.js';
import { createHealthServer, type Readiness } from './http/health-server.js';
import { loadTls, reloadTls, watchTlsFiles, type TlsMaterial } from './http/tls.js';
import { createWebhookServer } from './http/webhook-server.js';
import { toDecisionEvent } from './review/decision-event.js';
import type { AdmissionRequest } from './admission/types.js';
import type { Decision } from './review/decision.js';
import { createDecisionShipper, type DecisionShipper } from './telemetry/decision-shipper.js';
import { createReviewer } from './review/reviewer.js';
import type { BundleWatcher } from './sources/bundle-watcher.js';
import { createLogger, type Logger } from './telemetry/logger.js';
import { createMetrics, type Metrics } from './telemetry/metrics.js';
import { createDecisionCache, type DecisionCache } from './review/decision-cache.js';

type Load = (name: string, bytes: Uint8Array) => Promise<LoadedBundle>;

/** Loads and checks a bundle on this thread, then prepares it on every evaluation worker. */
function bundleLoader(config: ServeConfig, backend: EvalBackend): Load {
  const verify = config.verification
    ? createBundleVerifier({
        publicKeyPem: readFileSync(config.verification.keyFile, 'utf8'),
        algorithm: config.verification.algorithm,
        ...(config.verification.keyId ? { keyId: config.verification.keyId } : {}),
      })
    : undefined;
  const limits = { maxMemoryPages: config.maxMemoryPages };
  return async (name, bytes) => {
    const bundle = await loadBundle(name, bytes, { limits, ...(verify ? { verify } : {}) });
    await backend.prepare(bundle);
    return bundle;
  };
}

async function loadFileBundles(config: ServeConfig, load: Load, registry: PolicyRegistry, logger: Logger): Promise<void> {
  for (const { name, file } of config.bundles) {
    const bundle = await load(name, readFileSync(file));
    registry.activate(bundle);
    logger.info({ bundle: name, revision: bundle.revision, policies: bundle.policies.length }, 'bundle activated');
  }
  if (config.policiesDir) {
    if (!config.opa) throw new Error('--policies needs the OPA CLI: set OPA_BIN or --opa');
    const output = join(tmpdir(), `bouncer-local-${process.pid}.tar.gz`);
    try {
      await buildBundle({ policiesDir: config.policiesDir, output, opa: config.opa });
      const bundle = await load('local', readFileSync(output));
      registry.activate(bundle);
      logger.info({ bundle: 'local', revision: bundle.revision, policies: bundle.policies.length }, 'bundle built and activated');
    } finally {
      rmSync(output, { force: true });
    }
  }
}

/**
 * Every decision to stdout (container logs) at level info, and to the HTTP sink when one is
 * configured. With neither, no event is built.
 */
function decisionLog(logger: Logger, config: ServeConfig, shipper: DecisionShipper | undefined): (decision: Decision, request: AdmissionRequest) => void {
  const log = logger.child({ log: 'decision' });
  const input = config.decisionLog?.includeInput ? config.decisionLog.maskPointers : undefined;
  if (!shipper && !log.isLevelEnabled('info')) return () => undefined;
  return (decision, request) => {
    const event = toDecisionEvent(decision, new Date(), input ? { request, maskPointers: input } : undefined);
    log.info({ decision: { ...event, input: undefined } }, 'decision');
    shipper?.record(event);
  };
}

function decisionCache(config: ServeConfig, metrics: Metrics): { cache?: DecisionCache } {
  if (config.decisionCacheSize === 0) return {};
  const cache: DecisionCache = createDecisionCache({
    maxEntries: config.decisionCacheSize,
    ttlMs: config.decisionCacheTtlMs,
    onLookup: (hit) => metrics.decisionCacheLookup(hit, cache.size()),
  });
  return { cache };
}

export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${SERVE_USAGE}\n`);
    return 0;
  }
  let config: ServeConfig;
  try {
    config = loadServeConfig(argv, env);
  } catch (err) {
    process.stderr.write(`bouncer serve: ${(err as Error).message}\n`);
    return 2;
  }
  const metrics = createMetrics();
  const logger = createLogger({ level: config.logLevel, onDropped: (lines) => metrics.logLinesDropped(lines) });
  const registry = createPolicyRegistry();
  const backend =
    config.workers > 0
      ? createWorkerPool({
          size: config.workers,
          maxQueue: config.maxQueue,
          policyTimeoutMs: config.policyTimeoutMs,
          log: logger.child({ component: 'workers' }),
          onTimeout: () => metrics.evaluationTimedOut(),
          onOverload: () => metrics.overloaded(),
        })
      : inProcessBackend();
  registry.onChange((set) => {
    metrics.policySet(set.bundles.map((b) => ({ bundle: b.name, revision: b.revision })));
    backend.retain(new Set(set.bundles.map((b) => b.key)));
  });
  let stopping = false;
  let watcher: BundleWatcher | undefined;
  let certificates: CertificateManager | undefined;
  let stopWatchingTls: (() => void) | undefined;
  let reload: (material: { cert: string; key: string }) => void = () => undefined;
  const shipper = config.decisionLog
    ? createDecisionShipper({
        url: config.decisionLog.url,
        spoolDir: config.decisionLog.spoolDir,
        maxSpoolBytes: config.decisionLog.maxSpoolBytes,
        metrics: metrics.decisionLog,
        log: logger.child({ component: 'decision-log' }),
      })
    : undefined;
  try {
    const load = bundleLoader(config, backend);
    await loadFileBundles(config, load, registry, logger);
    // The Kubernetes client (~64 MB of memory once imported) is loaded only when it is used:
    // a deployment serving bundles from files never pays for it.
    const kc = config.watchNamespace ? (await import('./cluster/kubeconfig.js')).loadKubeConfig(config.kubeconfig) : undefined;
    let tls: TlsMaterial | { cert: string; key: string };
    if (config.tls) {
      tls = loadTls(config.tls);
      stopWatchingTls = watchTlsFiles(
        config.tls,
        (material) => {
          reload(material);
          logger.info({ notAfter: material.notAfter }, 'serving certificate reloaded from its files');
        },
        (err) => logger.error({ err }, 'the changed serving certificate files are unusable; keeping the current certificate'),
      );
    } else if (config.managedCerts && kc) {
      const m = config.managedCerts;
      const { createCertificateManager } = await import('./cluster/certificate-manager.js');
      certificates = createCertificateManager({
        kc,
        namespace: m.namespace,
        secretName: m.secretName,
        webhookName: m.webhookName,
        identity: config.replica,
        intervalMs: m.checkIntervalMs,
        policy: {
          commonName: `bouncer.${m.namespace}`,
          dnsNames: m.dnsNames,
          ipAddresses: m.ipAddresses,
          caValiditySeconds: m.caValiditySeconds,
          leafValiditySeconds: m.leafValiditySeconds,
          overlapSeconds: m.overlapSeconds,
        },
        log: logger.child({ component: 'certificates' }),
        onCertificate: (cert) => {
          reload(cert);
          logger.info('serving certificate reloaded from the Secret');
        },
      });
      tls = await certificates.start();
    } else {
      throw new Error('no serving certificate configured');
    }
    if (config.watchNamespace && kc) {
      const [{ createBundleWatcher }, { createBundleStore }] = await Promise.all([import('./sources/bundle-watcher.js'), import('./cluster/bundle-store.js')]);
      watcher = createBundleWatcher({
        kc,
        store: createBundleStore(kc, config.watchNamespace),
        registry,
        load,
        replica: config.replica,
        logger,
        metrics,
        requiredBundles: config.requiredBundles,
      });
    }
    const readiness = (): Readiness => {
      if (stopping) return { ready: false, reason: 'shutting down' };
      if (watcher) return watcher.readiness();
      return registry.current() ? { ready: true } : { ready: false, reason: 'no policy set is active yet' };
    };
    const webhook = createWebhookServer({
      reviewer: createReviewer({ policies: registry.current, backend, reviewBudgetMs: config.reviewTimeoutMs, ...decisionCache(config, metrics) }),
      metrics,
      logger,
      onDecision: decisionLog(logger, config, shipper),
      tls,
      bodyLimit: config.bodyLimitBytes,
      requestTimeoutMs: config.requestTimeoutMs,
    });
    reload = (material) => reloadTls(webhook.server, material);
    const health = createHealthServer({ metrics, readiness });
    // Health first, so probes answer (not ready) while the initial bundles load.
    await health.listen({ host: config.host, port: config.healthPort });
    await webhook.listen({ host: config.host, port: config.port });
    await watcher?.start();
    logger.info({ webhook: webhook.addresses(), health: health.addresses(), policySet: registry.current()?.revision, replica: config.replica }, 'bouncer is serving');

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
    // Readiness is already off; endpoints need a moment to stop sending to this replica.
    await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
    await watcher?.stop();
    certificates?.stop();
    stopWatchingTls?.();
    await webhook.close();
    await shipper?.stop();
    await backend.close();
    await health.close();
    logger.info('stopped');
    return 0;
  } catch (err) {
    logger.fatal({ err, code: isBouncerError(err) ? err.code : undefined }, 'bouncer cannot start');
    await watcher?.stop().catch(() => undefined);
    certificates?.stop();
    stopWatchingTls?.();
    await shipper?.stop();
    await backend.close();
    return 1;
  }
}
