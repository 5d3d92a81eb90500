// Every metric bouncer exports, declared once in its own registry, with typed record
// methods so label names and values are decided here and nowhere else. Labels are
// bounded: endpoints, decisions, policy ids, error codes — never uids or object names.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { observeWithExemplar } from './exemplars.js';
import { clusterDataMetrics, type AuditMetrics, type InventoryMetrics } from './cluster-data-metrics.js';
import { recordingMetrics, type RecordingMetrics } from './recording-metrics.js';

export type { AuditMetrics, InventoryMetrics } from './cluster-data-metrics.js';
import { edgeMetrics, type EdgeMetrics } from './edge-metrics.js';
import { rolloutMetrics, type RolloutMetrics } from './rollout-metrics.js';
export type { DisagreementKind, RolloutMetrics } from './rollout-metrics.js';

/** Sub-millisecond resolution: the API server's own webhook histogram starts at 5 ms. */
export const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const SIZE_BUCKETS = [1024, 4096, 16384, 65536, 262144, 1048576, 4194304];

export interface DecisionSample {
  readonly endpoint: string;
  readonly allowed: boolean;
  readonly seconds: number;
  /** Each evaluated policy's outcome (a PolicyOutcome fits as is). */
  readonly outcomes: readonly {
    readonly policy: string;
    readonly action: string;
    readonly enforcement: string;
    readonly error?: { readonly class: string };
    /** The policy exception that overrode the outcome (action exempt). */
    readonly exemption?: { readonly exception: string };
  }[];
  /** The trace of a sampled request: an exemplar of the latency histogram (with `exemplars`). */
  readonly traceId?: string;
}


export interface Metrics {
  readonly registry: Registry;
  decision(sample: DecisionSample): void;
  malformed(endpoint: string, code: string): void;
  requestSize(endpoint: string, bytes: number): void;
  /** Server-side time of one webhook request, from its headers read to its answer written. */
  requestDuration(endpoint: string, seconds: number, traceId?: string): void;
  inFlight(endpoint: string, delta: 1 | -1): void;
  policySet(revisions: readonly { bundle: string; revision: string }[]): void;
  bundleActivated(bundle: string, propagationSeconds: number | undefined): void;
  bundleRefused(bundle: string, code: string): void;
  bundleRemoved(bundle: string): void;
  watchRestarted(reason: string): void;
  watchRelisted(): void;
  evaluationTimedOut(): void;
  overloaded(): void;
  /** A decision-cache lookup, and the entries held after it. */
  decisionCacheLookup(hit: boolean, entries: number): void;
  /** A webhook connection closed by a limit (limit, handshake_timeout, request_timeout; see http/connection-limits.ts). */
  connectionClosed(reason: string): void;
  /** Log lines stdout dropped because its reader stalled past the buffer. */
  logLinesDropped(lines: number): void;
  /** Edge admission control (src/http/admission-gate.ts). */
  readonly edge: EdgeMetrics;
  /** Decision-log delivery (see decision-shipper.ts). */
  readonly decisionLog: import('./decision-shipper.js').ShipperMetrics;
  /** The Namespace cache (src/cluster/namespace-cache.ts declares the same shape). */
  readonly namespaceCache: NamespaceCacheMetrics;
  /** Replicated cluster objects (src/cluster/inventory-replicator.ts declares the same shape). */
  readonly inventory: InventoryMetrics;
  /** The background audit (src/audit/audit-metrics.ts declares the same shape). */
  readonly audit: AuditMetrics;
  /** The review recording (record-spool.ts). */
  readonly recording: RecordingMetrics;
  /** Shadow, canary, promotion and rollback (rollout-metrics.ts). */
  readonly rollout: RolloutMetrics;
}


export interface NamespaceCacheMetrics {
  namespaces(count: number): void;
  watchRestarted(reason: string): void;
  relisted(reason: string): void;
  synced(): void;
  refused(reason: 'limit' | 'annotations'): void;
  read(result: 'found' | 'missing' | 'error' | 'refused'): void;
}

/**
 * `exemplars`: the registry speaks OpenMetrics (the only text format with exemplars) and the
 * latency histograms keep, per bucket, the trace id of the last sampled request (see
 * exemplars.ts); used when tracing is on.
 */
export function createMetrics(options: { defaultMetrics?: boolean; exemplars?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.exemplars) registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE as never);
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'bouncer_' });
  const registers = [registry];
  const enableExemplars = options.exemplars === true;
  const latency = new Histogram({
    name: 'bouncer_decision_duration_seconds',
    help: 'Time from a decoded review to its decision, by endpoint and decision.',
    labelNames: ['endpoint', 'decision'],
    buckets: LATENCY_BUCKETS,
    registers,
    enableExemplars,
  });
  const decisions = new Counter({
    name: 'bouncer_decisions_total',
    help: 'Reviews answered, by endpoint and decision (allowed, denied).',
    labelNames: ['endpoint', 'decision'],
    registers,
  });
  const policyDecisions = new Counter({
    name: 'bouncer_policy_decisions_total',
    help: 'Policy outcomes by policy, enforcement action and outcome (pass, deny, warn, dryrun, mutate, error, exempt).',
    labelNames: ['policy', 'enforcement', 'outcome'],
    registers,
  });
  const evalErrors = new Counter({
    name: 'bouncer_policy_errors_total',
    help: 'Policy evaluation errors by policy and class.',
    labelNames: ['policy', 'class'],
    registers,
  });
  const exempted = new Counter({
    name: 'bouncer_exemptions_total',
    help: 'Policy outcomes overridden by a policy exception in force (outcome exempt), by policy and exception; both come from bundles, so the labels are bounded.',
    labelNames: ['policy', 'exception'],
    registers,
  });
  const malformed = new Counter({
    name: 'bouncer_requests_rejected_total',
    help: 'Requests rejected before evaluation as malformed, by endpoint and error code.',
    labelNames: ['endpoint', 'code'],
    registers,
  });
  const sizes = new Histogram({
    name: 'bouncer_request_size_bytes',
    help: 'Size of AdmissionReview request bodies.',
    labelNames: ['endpoint'],
    buckets: SIZE_BUCKETS,
    registers,
  });
  const requestDurations = new Histogram({
    name: 'bouncer_request_duration_seconds',
    help: 'Server-side time of webhook requests, from the request headers read to the answer written (body read, decode, evaluation, encoding), by endpoint.',
    labelNames: ['endpoint'],
    buckets: LATENCY_BUCKETS,
    registers,
    enableExemplars,
  });
  const inflight = new Gauge({ name: 'bouncer_requests_in_flight', help: 'Reviews being handled.', labelNames: ['endpoint'], registers });
  let infoSeries: { bundle: string; revision: string }[] = [];
  const bundleInfo = new Gauge({
    name: 'bouncer_bundle_info',
    help: 'The active revision of each bundle (value 1).',
    labelNames: ['bundle', 'revision'],
    registers,
  });

  const activations = new Counter({ name: 'bouncer_bundle_activations_total', help: 'Bundle revisions activated, by bundle.', labelNames: ['bundle'], registers });
  const refusals = new Counter({
    name: 'bouncer_bundle_refusals_total',
    help: 'Bundle revisions refused (the last good revision kept serving), by bundle and error code.',
    labelNames: ['bundle', 'code'],
    registers,
  });
  const removals = new Counter({ name: 'bouncer_bundle_removals_total', help: 'Bundles removed by deleting their pointer.', labelNames: ['bundle'], registers });
  const propagation = new Histogram({
    name: 'bouncer_bundle_propagation_seconds',
    help: 'Time from a revision being published (pointer moved) to it enforcing here.',
    labelNames: ['bundle'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  const lastActivation = new Gauge({
    name: 'bouncer_bundle_last_activation_timestamp_seconds',
    help: 'When the active revision of each bundle was activated.',
    labelNames: ['bundle'],
    registers,
  });
  const watchRestarts = new Counter({ name: 'bouncer_watch_restarts_total', help: 'Restarts of the bundle watch after an error.', labelNames: ['reason'], registers });
  const watchRelists = new Counter({ name: 'bouncer_watch_relists_total', help: 'Full lists of bundle ConfigMaps (startup, 410 Gone, restart).', registers });

  const logEmitted = new Counter({ name: 'bouncer_decision_log_events_emitted_total', help: 'Decision events recorded for delivery.', registers });
  const logDelivered = new Counter({ name: 'bouncer_decision_log_events_delivered_total', help: 'Decision events acknowledged by the sink.', registers });
  const logDropped = new Counter({
    name: 'bouncer_decision_log_events_dropped_total',
    help: 'Decision events dropped, by reason (spool_full, memory_full).',
    labelNames: ['reason'],
    registers,
  });
  const logBuffered = new Gauge({ name: 'bouncer_decision_log_buffered_events', help: 'Decision events waiting for delivery (memory and spool).', registers });
  const logSpoolBytes = new Gauge({ name: 'bouncer_decision_log_spool_bytes', help: 'Bytes of the on-disk decision-log spool.', registers });
  const logFailures = new Counter({ name: 'bouncer_decision_log_delivery_failures_total', help: 'Failed uploads to the decision-log sink.', registers });
  for (const reason of ['spool_full', 'memory_full']) logDropped.inc({ reason }, 0);

  const timeouts = new Counter({ name: 'bouncer_evaluation_timeouts_total', help: 'Policies stopped past their time budget (their worker replaced).', registers });
  const cacheLookups = new Counter({
    name: 'bouncer_decision_cache_lookups_total',
    help: 'Decision-cache lookups (--decision-cache-size), by result (hit, miss); the hit rate is hit / all.',
    labelNames: ['result'],
    registers,
  });
  const cacheEntries = new Gauge({ name: 'bouncer_decision_cache_entries', help: 'Review contents held by the decision cache.', registers });
  const logLinesDropped = new Counter({
    name: 'bouncer_log_lines_dropped_total',
    help: 'Log lines (decision lines included) dropped because the reader of stdout stalled past a 64 MiB buffer.',
    registers,
  });
  const connectionsClosed = new Counter({
    name: 'bouncer_connections_closed_total',
    help: 'Webhook connections closed by a limit, by reason (limit: refused at accept, handshake_timeout, request_timeout: headers or body too slow, answered 408).',
    labelNames: ['reason'],
    registers,
  });
  for (const reason of ['limit', 'handshake_timeout', 'request_timeout']) connectionsClosed.inc({ reason }, 0);
  const overloads = new Counter({ name: 'bouncer_overloaded_total', help: 'Reviews not evaluated because every worker was busy past the queue bound or the deadline.', registers });

  const nsCount = new Gauge({ name: 'bouncer_namespace_cache_namespaces', help: 'Namespaces held by the Namespace cache (namespaceSelector, namespaceObject).', registers });
  const nsRestarts = new Counter({
    name: 'bouncer_namespace_cache_watch_restarts_total',
    help: 'Namespace watches started again, by reason (closed: ended by the API server, gone: 410 Gone, stalled: open past its timeout, or the error code).',
    labelNames: ['reason'],
    registers,
  });
  const nsRelists = new Counter({ name: 'bouncer_namespace_cache_relists_total', help: 'Full lists of Namespaces, by reason (initial, gone: after 410 Gone, error: after a failed list).', labelNames: ['reason'], registers });
  const nsSynced = new Gauge({
    name: 'bouncer_namespace_cache_last_sync_timestamp_seconds',
    help: 'When the Namespace cache was last confirmed current (a list stored, a watch event or bookmark received); its age is time() minus it.',
    registers,
  });
  const nsRefused = new Counter({
    name: 'bouncer_namespace_cache_refused_total',
    help: 'Namespaces not cached, by reason (limit: the cache was at its bound of Namespaces, so their lookups fail closed; annotations: cached without annotations, over the per-Namespace bound).',
    labelNames: ['reason'],
    registers,
  });
  for (const reason of ['limit', 'annotations']) nsRefused.inc({ reason }, 0);
  const nsReads = new Counter({
    name: 'bouncer_namespace_cache_reads_total',
    help: 'Namespaces read from the API server after a cache miss, by result (found, missing, error, refused: too many reads in flight).',
    labelNames: ['result'],
    registers,
  });


  return {
    registry,
    ...clusterDataMetrics(registers),
    recording: recordingMetrics(registers),
    rollout: rolloutMetrics(registers),
    edge: edgeMetrics(registers),
    namespaceCache: {
      namespaces: (count) => nsCount.set(count),
      watchRestarted: (reason) => nsRestarts.inc({ reason }),
      relisted: (reason) => nsRelists.inc({ reason }),
      synced: () => nsSynced.set(Date.now() / 1000),
      refused: (reason) => nsRefused.inc({ reason }),
      read: (result) => nsReads.inc({ result }),
    },
    evaluationTimedOut: () => timeouts.inc(),
    overloaded: () => overloads.inc(),
    connectionClosed: (reason) => connectionsClosed.inc({ reason }),
    logLinesDropped: (lines) => logLinesDropped.inc(lines),
    decisionCacheLookup(hit, entries) {
      cacheLookups.inc({ result: hit ? 'hit' : 'miss' });
      cacheEntries.set(entries);
    },
    decisionLog: {
      emitted: (n) => logEmitted.inc(n),
      delivered: (n) => logDelivered.inc(n),
      dropped: (reason, n) => logDropped.inc({ reason }, n),
      buffered: (events, bytes) => {
        logBuffered.set(events);
        logSpoolBytes.set(bytes);
      },
      deliveryFailed: () => logFailures.inc(),
    },
    bundleActivated(bundle, seconds) {
      activations.inc({ bundle });
      lastActivation.set({ bundle }, Date.now() / 1000);
      if (seconds !== undefined && seconds >= 0) propagation.observe({ bundle }, seconds);
    },
    bundleRefused: (bundle, code) => refusals.inc({ bundle, code }),
    bundleRemoved: (bundle) => removals.inc({ bundle }),
    watchRestarted: (reason) => watchRestarts.inc({ reason }),
    watchRelisted: () => watchRelists.inc(),
    decision(sample) {
      const decision = sample.allowed ? 'allowed' : 'denied';
      if (enableExemplars) observeWithExemplar(latency, { endpoint: sample.endpoint, decision }, sample.seconds, sample.traceId);
      else latency.observe({ endpoint: sample.endpoint, decision }, sample.seconds);
      decisions.inc({ endpoint: sample.endpoint, decision });
      for (const o of sample.outcomes) {
        policyDecisions.inc({ policy: o.policy, enforcement: o.enforcement, outcome: o.action });
        if (o.error) evalErrors.inc({ policy: o.policy, class: o.error.class });
        if (o.exemption) exempted.inc({ policy: o.policy, exception: o.exemption.exception });
      }
    },
    malformed: (endpoint, code) => malformed.inc({ endpoint, code }),
    requestSize: (endpoint, bytes) => sizes.observe({ endpoint }, bytes),
    requestDuration: (endpoint, seconds, traceId) =>
      enableExemplars ? observeWithExemplar(requestDurations, { endpoint }, seconds, traceId) : requestDurations.observe({ endpoint }, seconds),
    inFlight: (endpoint, delta) => inflight.inc({ endpoint }, delta),
    policySet(revisions) {
      // Set the new series before removing the old ones, so no scrape sees a bundle without a revision.
      for (const r of revisions) bundleInfo.set({ bundle: r.bundle, revision: r.revision }, 1);
      const current = new Set(revisions.map((r) => `${r.bundle}\u0000${r.revision}`));
      for (const old of infoSeries) if (!current.has(`${old.bundle}\u0000${old.revision}`)) bundleInfo.remove(old);
      infoSeries = revisions.map((r) => ({ bundle: r.bundle, revision: r.revision }));
    },
  };
}
