// `bouncer serve`: wiring only. Reads the configuration, builds the parts, starts them in
// order and registers each one started; on SIGTERM/SIGINT, and on a start that fails
// halfway, everything started is closed in reverse order and the process ends (non-zero
// when the start failed), so no replica stays up answering probes without serving.
import { readFileSync } from 'node:fs';
import { buildBundleBytes } from './authoring/build-bytes.js';
import type { LoadedBundle } from './bundles/bundle.js';
import { createBundleLoader } from './bundles/bundle-loader.js';
import { verificationKey } from './bundles/key-file-verifier.js';
import { createPolicyRegistry } from './bundles/registry.js';
import type { CertificateSource } from './certs/serving-certificate.js';
import type { NamespaceCache } from './cluster/namespace-cache.js';
import { cpuBudget } from './config/cpu-budget.js';
import { loadServeConfig, SERVE_USAGE, type ServeConfig } from './config/serve-config.js';
import { inProcessBackend, type EvalBackend } from './engine/backend.js';
import { createWorkerPool } from './engine/worker-pool.js';
import { BouncerError, isBouncerError } from './errors/errors.js';
import { createAdmissionGate, defaultAdmissionLimits } from './http/admission-gate.js';
import { closeWebhookWithin, createConnectionGate, type ConnectionGate } from './http/connection-gate.js';
import { createFileCertificateSource } from './http/file-certificate.js';
import { createHealthServer } from './http/health-server.js';
import { reloadTls } from './http/tls.js';
import { createWebhookServer } from './http/webhook-server.js';
import { createResources } from './lifecycle/resources.js';
import { createDecisionCache, type DecisionCache } from './review/decision-cache.js';
import { decisionRecorder } from './review/decision-recorder.js';
import { createReviewer } from './review/reviewer.js';
import { createReviewRecording } from './serve/review-recording.js';
import { combinedReadiness, type BundleSource } from './sources/bundle-source.js';
import { createBackgroundAudit } from './serve/audit.js';
import { createReplicatedData, type ReplicatedData } from './serve/replicated-data.js';
import { createRolloutLoopsFor, createServeRollout, type ServeRollout } from './serve/rollout.js';
import { createStaticBundleSource, type StaticBundle } from './sources/static-bundle-source.js';
import { createDecisionLog } from './telemetry/decision-log.js';
import { createDecisionShipper } from './telemetry/decision-shipper.js';
import { createLogger, type Logger } from './telemetry/logger.js';
import { createMetrics, type Metrics } from './telemetry/metrics.js';
import type { Tracing } from './telemetry/tracing.js';
import type { KubeConfig } from '@kubernetes/client-node';

type Load = (name: string, bytes: Uint8Array) => Promise<LoadedBundle>;

function evaluationBackend(config: ServeConfig, metrics: Metrics, logger: Logger): EvalBackend {
  if (config.workers === 0) return inProcessBackend();
  return createWorkerPool({
    size: config.workers,
    maxQueue: config.maxQueue,
    policyTimeoutMs: config.policyTimeoutMs,
    log: logger.child({ component: 'workers' }),
    onTimeout: () => metrics.evaluationTimedOut(),
    onOverload: () => metrics.overloaded(),
  });
}

/**
 * Reads, verifies, compiles, instantiates and self-checks each bundle in a loader worker
 * within its time and memory budget, then prepares it on every evaluation worker.
 */
function bundleLoader(config: ServeConfig, prepare: (bundle: LoadedBundle) => Promise<void>): Load {
  return createBundleLoader({
    limits: { maxMemoryPages: config.maxMemoryPages },
    ...(config.verification ? { verify: verificationKey(config.verification) } : {}),
    prepare,
    timeoutMs: config.bundleLoadTimeoutMs,
    maxMemoryMb: config.bundleLoadMemoryMb,
    ...(config.exceptionMaxDays === undefined ? {} : { exceptionMaxDays: config.exceptionMaxDays }),
  });
}

function staticBundles(config: ServeConfig): StaticBundle[] {
  const files = config.bundles.map(({ name, file }) => ({ name, bytes: async () => readFileSync(file) }));
  if (!config.policiesDir) return files;
  const { policiesDir, opa } = config;
  if (!opa) throw new BouncerError('CONFIG_INVALID', '--policies needs the OPA CLI: set OPA_BIN or --opa');
  return [...files, { name: 'local', bytes: () => buildBundleBytes({ policiesDir, opa }) }];
}

async function bundleSources(
  config: ServeConfig,
  kc: KubeConfig | undefined,
  load: Load,
  deps: { registry: ReturnType<typeof createPolicyRegistry>; logger: Logger; metrics: Metrics },
  rollout?: ServeRollout,
): Promise<BundleSource[]> {
  const sources: BundleSource[] = [];
  const fixed = staticBundles(config);
  if (fixed.length > 0) sources.push(createStaticBundleSource({ name: 'bundle files', bundles: fixed, load, registry: deps.registry, log: deps.logger }));
  if (config.watchNamespace && kc) {
    const [{ createBundleWatcher }, { createBundleStore }] = await Promise.all([import('./sources/bundle-watcher.js'), import('./cluster/bundle-store.js')]);
    const store = createBundleStore(kc, config.watchNamespace);
    const watcher = createBundleWatcher({ kc, store, load, replica: config.replica, requiredBundles: config.requiredBundles, ...deps });
    sources.push({ name: `bundle ConfigMaps in ${config.watchNamespace}`, start: () => watcher.start(), stop: () => watcher.stop(), readiness: () => watcher.readiness() });
    if (rollout) {
      const loops = await createRolloutLoopsFor(kc, { store, replica: config.replica, intervalMs: config.rollout.intervalMs, candidates: () => watcher.candidates(), recorder: rollout.recorder, ...deps });
      // Started after the watch (sources start in order): reports and verdicts need the candidates loaded.
      sources.push({ name: 'rollout reports and promotion', start: async () => loops.start(), stop: () => loops.stop(), readiness: () => ({ ready: true }) });
    }
  }
  return sources;
}

async function certificateSource(config: ServeConfig, kc: KubeConfig | undefined, logger: Logger): Promise<CertificateSource> {
  const log = logger.child({ component: 'certificates' });
  if (config.tls) return createFileCertificateSource({ files: config.tls, log });
  const m = config.managedCerts;
  if (!m || !kc) throw new BouncerError('CONFIG_INVALID', 'no serving certificate configured');
  const { createCertificateManager } = await import('./cluster/certificate-manager.js');
  return createCertificateManager({
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
    log,
  });
}

/** Replicated cluster objects for the kinds bundles declare (none without a cluster). */
function replicatedData(config: ServeConfig, kc: KubeConfig | undefined, backend: EvalBackend, logger: Logger, metrics: Metrics): Promise<ReplicatedData> {
  return createReplicatedData({
    kubeConfig: kc,
    backend,
    maxBytes: config.inventory.maxBytes,
    maxStalenessMs: config.inventory.maxStalenessMs,
    listWaitMs: Math.min(10_000, config.bundleLoadTimeoutMs),
    admittedTtlMs: 30_000,
    logger,
    metrics,
    ...(config.watchNamespace ? { pod: { namespace: config.watchNamespace, name: config.replica } } : {}),
  });
}

/** The watch-backed Namespaces for Gatekeeper constraints, in the cluster mode unless switched off. */
async function namespaceCache(config: ServeConfig, kc: KubeConfig | undefined, logger: Logger, metrics: Metrics): Promise<NamespaceCache | undefined> {
  if (!config.namespaceCache || !kc) return undefined;
  const { createNamespaceCache } = await import('./cluster/namespace-cache.js');
  return createNamespaceCache({ kubeConfig: kc, logger: logger.child({ component: 'namespace-cache' }), metrics: metrics.namespaceCache, maxNamespaces: config.maxNamespaces });
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

/** The edge admission gate: the configured limits, the rest derived from the CPU budget. */
function connectionGate(config: ServeConfig, metrics: Metrics, logger: Logger): ConnectionGate {
  const limits = { ...defaultAdmissionLimits(cpuBudget()), ...config.admission };
  return createConnectionGate(createAdmissionGate(limits), {
    onRefused: (reason) => metrics.edge.connectionRefused(reason),
    onHandshake: () => metrics.edge.handshake(),
    onOpen: (open) => metrics.edge.connectionsOpen(open),
    onPaused: (paused) => metrics.edge.listeningPaused(paused),
    onListenError: (err) => {
      metrics.edge.listenFailed();
      logger.error({ err }, 'cannot bind the webhook port again after a pause; retrying');
    },
  });
}

/** Resolves with the first of SIGTERM/SIGINT, whenever it comes (also during startup). */
function stopSignal(): { readonly received: Promise<string>; dispose(): void } {
  let resolve: (signal: string) => void = () => undefined;
  const received = new Promise<string>((r) => (resolve = r));
  const onTerm = () => resolve('SIGTERM');
  const onInt = () => resolve('SIGINT');
  process.once('SIGTERM', onTerm);
  process.once('SIGINT', onInt);
  return {
    received,
    dispose() {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
    },
  };
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
  const metrics = createMetrics({ exemplars: config.tracing !== undefined });
  const logger = createLogger({ level: config.logLevel, onDropped: (lines) => metrics.logLinesDropped(lines) });
  const resources = createResources({ onCloseError: (name, err) => logger.warn({ err, resource: name }, 'closing failed') });
  const signal = stopSignal();
  resources.add('signal handlers', () => signal.dispose());
  let stopping = false;
  try {
    const registry = createPolicyRegistry();
    // The OpenTelemetry SDK is loaded only when tracing is configured: off, it costs nothing.
    const tracing: Tracing | undefined = config.tracing ? (await import('./telemetry/otel-tracing.js')).createOtelTracing({ config: config.tracing }) : undefined;
    if (tracing) resources.add('tracing', () => tracing.shutdown());
    const backend = evaluationBackend(config, metrics, logger);
    resources.add('evaluation backend', () => backend.close());
    // The Kubernetes client (~64 MB of memory once imported) is loaded only when it is used:
    // a deployment serving bundles from files never pays for it.
    const kc = config.watchNamespace ? (await import('./cluster/kubeconfig.js')).loadKubeConfig(config.kubeconfig) : undefined;
    const replicated = await replicatedData(config, kc, backend, logger, metrics);
    resources.add('replicated data', () => replicated.close());
    registry.onChange((set, inUse) => {
      metrics.policySet(set.bundles.map((b) => ({ bundle: b.name, revision: b.revision })));
      // Candidates (shadow, canary) stay prepared on the workers and keep their replicated data.
      backend.retain(new Set(inUse.map((b) => b.key)));
      replicated.activate({ ...set, bundles: inUse });
    });
    const shipper = config.decisionLog
      ? createDecisionShipper({
          url: config.decisionLog.url,
          spoolDir: config.decisionLog.spoolDir,
          maxSpoolBytes: config.decisionLog.maxSpoolBytes,
          metrics: metrics.decisionLog,
          log: logger.child({ component: 'decision-log' }),
        })
      : undefined;
    if (shipper) resources.add('decision-log shipper', () => shipper.stop());
    const namespaces = await namespaceCache(config, kc, logger, metrics);
    const decisionLog = createDecisionLog({ logger, ...(shipper ? { shipper } : {}) });
    const rollout = createServeRollout({
      registry,
      backend,
      maxConcurrent: config.rollout.shadowMaxConcurrency,
      timeoutMs: config.rollout.shadowTimeoutMs,
      ...(namespaces ? { namespaces: namespaces.lookup } : {}),
      inventory: replicated.reviewer,
      metrics,
      decisionLog,
      logger,
    });
    const sources = await bundleSources(config, kc, bundleLoader(config, (bundle) => replicated.prepare(bundle)), { registry, logger, metrics }, rollout);
    const health = createHealthServer({
      metrics,
      readiness: () => {
        if (stopping) return { ready: false, reason: 'shutting down' };
        const r = combinedReadiness(sources);
        if (!r.ready) return r;
        if (namespaces && !namespaces.synced()) return { ready: false, reason: 'Namespaces not listed yet (Gatekeeper constraints match on them)' };
        const data = replicated.readiness();
        if (!data.ready) return data;
        return registry.current() ? { ready: true } : { ready: false, reason: 'no policy set is active yet' };
      },
    });
    // Health first, so probes answer (not ready) while the certificate and the bundles load.
    await health.listen({ host: config.host, port: config.healthPort });
    resources.add('health server', () => health.close());
    const certificate = await certificateSource(config, kc, logger);
    const tls = await certificate.start();
    resources.add('serving certificate', () => certificate.stop());
    const gate = connectionGate(config, metrics, logger);
    const record = decisionRecorder({
      log: decisionLog,
      ...(config.decisionLog?.includeInput ? { input: { maskPointers: config.decisionLog.maskPointers } } : {}),
      onError: (err) => logger.error({ err }, 'a decision could not be recorded in the decision log'),
    });
    const recording = config.recording
      ? createReviewRecording({ ...config.recording, policies: registry.current, replica: config.replica, metrics: metrics.recording, logger })
      : undefined;
    if (recording) resources.add('review recording', () => recording.close());
    const webhook = createWebhookServer({
      reviewer: replicated.serialize(createReviewer({
        policies: registry.current,
        backend,
        reviewBudgetMs: config.reviewTimeoutMs,
        ...decisionCache(config, metrics),
        ...(namespaces ? { namespaces: namespaces.lookup, readNamespace: (name: string) => namespaces.read(name) } : {}),
        inventory: replicated.reviewer,
        ...(recording ? { clockNs: recording.clockNs } : {}),
        rollout: registry.snapshot,
        ...(rollout.shadow ? { shadow: rollout.shadow } : {}),
        ...(tracing ? { tracing } : {}),
      })),
      metrics,
      logger,
      onDecision: (decision, request) => {
        rollout.recorder.observe(decision);
        record(decision, request);
        recording?.record(decision, request);
      },
      tls,
      bodyLimit: config.bodyLimitBytes,
      requestTimeoutMs: config.requestTimeoutMs,
      headersTimeoutMs: config.headersTimeoutMs,
      handshakeTimeoutMs: config.handshakeTimeoutMs,
      gate,
      ...(tracing ? { tracing } : {}),
    });
    certificate.onChange((material) => reloadTls(webhook.server, material));
    if (namespaces) {
      // Not awaited: the cache retries its list by itself and readiness waits for it.
      namespaces.start().catch((err: unknown) => logger.error({ err }, 'the Namespace cache stopped'));
      resources.add('namespace cache', () => namespaces.close());
    }
    for (const source of sources) {
      await source.start();
      resources.add(source.name, () => source.stop());
    }
    if (config.audit && kc && config.watchNamespace) {
      const audit = await createBackgroundAudit({
        kubeConfig: kc,
        namespace: config.watchNamespace,
        replica: config.replica,
        ...config.audit,
        reviewBudgetMs: config.reviewTimeoutMs,
        policies: registry.current,
        backend,
        ...(namespaces ? { namespaces } : {}),
        decisionLog,
        dataReady: () => replicated.readiness().ready,
        dataVersion: () => String(replicated.reviewer.generation()),
        logger,
        metrics,
      });
      audit.start();
      resources.add('background audit', () => audit.stop());
    }
    await webhook.listen({ host: config.host, port: config.port });
    // Reviews still queued are answered within the review budget (by failure mode if need be);
    // whatever is still open after it is closed, so a storm cannot hold the exit.
    resources.add('webhook server', () =>
      closeWebhookWithin(
        async () => {
          await webhook.stopAccepting(Math.min(1000, config.requestTimeoutMs));
          await webhook.close();
        },
        gate,
        config.reviewTimeoutMs,
      ),
    );
    logger.info({ webhook: webhook.addresses(), health: health.addresses(), policySet: registry.current()?.revision, replica: config.replica }, 'bouncer is serving');

    const received = await signal.received;
    stopping = true;
    // From now on answers carry Connection: close, so kept-alive clients reconnect elsewhere.
    webhook.drain();
    logger.info({ signal: received }, 'shutting down: readiness off, finishing in-flight reviews');
    // Readiness is already off; endpoints need a moment to stop sending to this replica.
    await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
    await resources.closeAll();
    logger.info('stopped');
    return 0;
  } catch (err) {
    stopping = true;
    logger.fatal({ err, code: isBouncerError(err) ? err.code : undefined }, 'bouncer cannot start');
    await resources.closeAll();
    return 1;
  }
}
