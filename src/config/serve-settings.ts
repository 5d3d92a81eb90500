// Every setting of `bouncer serve`, declared once (see settings.ts). The order here is the
// order of the help text and of docs/configuration.md.
import { hostname } from 'node:os';
import { cpuBudget } from './cpu-budget.js';
import { anyText, commaList, integer, matching, multiple, oneOf, parseDuration, portNumber, toggle, value } from './settings.js';
import { fraction } from './tracing-config.js';

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const SOURCES = 'Policy sources';
const TLS = 'Serving certificate';
const SERVING = 'Serving';
const EVALUATION = 'Evaluation';
const DECISIONS = 'Decision log';
const CLUSTER_DATA = 'Cluster data and audit';
const TRACING = 'Tracing (OpenTelemetry)';

/** A sampling rate of recording: more than 0 (0 would be recording off, which is --record-dir unset), at most 1. */
function sampleRate(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !(n > 0 && n <= 1)) throw new Error(`must be a number more than 0 and at most 1, got ${JSON.stringify(text)}`);
  return n;
}

export const SERVE_SETTINGS = {
  watchNamespace: value(SOURCES, matching(DNS_LABEL, 'a namespace name'))({
    flag: 'watch-namespace',
    env: 'BOUNCER_NAMESPACE',
    metavar: 'NS',
    help: 'load bundles from the ConfigMaps of NS and hot-swap them (the in-cluster mode)',
  }),
  bundles: multiple(SOURCES, anyText)({
    flag: 'bundle',
    metavar: '[NAME=]FILE',
    help: "serve a bundle built by 'bouncer build' (NAME defaults to the file name)",
  }),
  policiesDir: value(SOURCES, anyText)({
    flag: 'policies',
    env: 'BOUNCER_POLICIES',
    metavar: 'DIR',
    help: 'build DIR with the OPA CLI at startup and serve it as bundle "local" (development)',
  }),
  opa: value(SOURCES, anyText)({ flag: 'opa', env: 'OPA_BIN', metavar: 'PATH', help: 'the OPA CLI used by --policies' }),
  kubeconfig: value(SOURCES, anyText)({
    flag: 'kubeconfig',
    metavar: 'FILE',
    help: 'cluster credentials; without it $KUBECONFIG, ~/.kube/config, then the in-cluster service account',
  }),
  namespaceCache: value(SOURCES, oneOf(['on', 'off'] as const))({
    flag: 'namespace-cache',
    env: 'BOUNCER_NAMESPACE_CACHE',
    metavar: 'on|off',
    help: "watch the cluster's Namespaces (labels) for Gatekeeper constraints' namespaceSelector and namespaceObject, with --watch-namespace; not ready until listed. off: constraints that need a Namespace fail closed",
    default: 'on',
  }),
  maxNamespaces: value(SOURCES, integer(1, 1_000_000))({
    flag: 'max-namespaces',
    env: 'BOUNCER_MAX_NAMESPACES',
    metavar: 'N',
    help: 'Namespaces the cache holds at most; lookups of others fail closed (counted)',
    default: 10_000,
  }),
  replica: value(SOURCES, anyText)({
    flag: 'replica',
    env: 'POD_NAME',
    metavar: 'NAME',
    help: "this replica's name in bundle status annotations and the certificate Lease",
    default: () => hostname(),
    defaultText: 'the host name',
  }),
  requiredBundles: multiple(SOURCES, matching(DNS_LABEL, 'a bundle name'))({
    flag: 'require-bundle',
    env: 'BOUNCER_REQUIRED_BUNDLES',
    metavar: 'NAME',
    help: 'not ready until bundle NAME is active',
    default: [] as string[],
  }),
  verificationKey: value(SOURCES, anyText)({
    flag: 'verification-key',
    env: 'BOUNCER_VERIFICATION_KEY',
    metavar: 'FILE',
    help: 'require every bundle to be signed by this PEM public key',
  }),
  verificationAlg: value(SOURCES, oneOf(ALGORITHMS))({
    flag: 'verification-alg',
    env: 'BOUNCER_VERIFICATION_ALG',
    metavar: 'ALG',
    help: `signature algorithm (${ALGORITHMS.join(', ')})`,
    default: 'RS256',
  }),
  verificationKeyId: value(SOURCES, anyText)({
    flag: 'verification-key-id',
    env: 'BOUNCER_VERIFICATION_KEY_ID',
    metavar: 'KID',
    help: 'require this key id (kid) in the signature',
  }),
  exceptionMaxDays: value(SOURCES, integer(1, 3650))({
    flag: 'exception-max-days',
    env: 'BOUNCER_EXCEPTION_MAX_DAYS',
    metavar: 'N',
    help: 'a bundle carrying a policy exception that expires more than N days from its load is refused (EXCEPTION_INVALID), as `bouncer build` refuses it',
    default: 90,
  }),

  tlsCert: value(TLS, anyText)({ flag: 'tls-cert', env: 'BOUNCER_TLS_CERT', metavar: 'FILE', help: 'serving certificate (PEM); reloaded when the file changes' }),
  tlsKey: value(TLS, anyText)({ flag: 'tls-key', env: 'BOUNCER_TLS_KEY', metavar: 'FILE', help: 'serving key (PEM)' }),
  clientCa: value(TLS, anyText)({
    flag: 'client-ca',
    env: 'BOUNCER_CLIENT_CA',
    metavar: 'FILE',
    help: 'require client certificates signed by this CA (mutual TLS with the API server)',
  }),
  manageCerts: toggle(TLS)({
    flag: 'manage-certs',
    env: 'BOUNCER_MANAGE_CERTS',
    help: 'generate and rotate the webhook CA and serving certificate (Secret, caBundle injection, leader-elected) instead of --tls-cert/--tls-key; needs --watch-namespace',
  }),
  certSecret: value(TLS, matching(DNS_LABEL, 'a Secret name'))({
    flag: 'cert-secret',
    env: 'BOUNCER_CERT_SECRET',
    metavar: 'NAME',
    help: 'the Secret holding the managed certificates, in --watch-namespace',
    default: 'bouncer-tls',
  }),
  serviceName: value(TLS, matching(DNS_LABEL, 'a Service name'))({
    flag: 'service-name',
    env: 'BOUNCER_SERVICE_NAME',
    metavar: 'NAME',
    help: "the Service the API server calls: the managed certificate's DNS names",
    default: 'bouncer',
  }),
  webhookName: value(TLS, anyText)({
    flag: 'webhook-name',
    env: 'BOUNCER_WEBHOOK_NAME',
    metavar: 'NAME',
    help: 'the webhook configurations whose caBundle is kept current',
    default: 'bouncer',
  }),
  certSans: value(TLS, commaList)({
    flag: 'cert-sans',
    env: 'BOUNCER_CERT_SANS',
    metavar: 'LIST',
    help: 'extra DNS names or IP addresses of the managed serving certificate, comma-separated',
    default: [] as string[],
  }),
  caValidityMs: value(TLS, parseDuration)({ flag: 'ca-validity', env: 'BOUNCER_CA_VALIDITY', metavar: 'D', help: 'lifetime of a managed CA', default: 8760 * 3_600_000, defaultText: '8760h' }),
  certValidityMs: value(TLS, parseDuration)({
    flag: 'cert-validity',
    env: 'BOUNCER_CERT_VALIDITY',
    metavar: 'D',
    help: 'lifetime of a managed serving certificate',
    default: 720 * 3_600_000,
    defaultText: '720h',
  }),
  certOverlapMs: value(TLS, parseDuration)({
    flag: 'cert-overlap',
    env: 'BOUNCER_CERT_OVERLAP',
    metavar: 'D',
    help: 'how long both CAs are trusted during a CA rotation',
    default: 600_000,
    defaultText: '10m',
  }),
  certCheckIntervalMs: value(TLS, parseDuration)({
    flag: 'cert-check-interval',
    env: 'BOUNCER_CERT_CHECK_INTERVAL',
    metavar: 'D',
    help: 'how often the certificate Secret is re-read (and, when leading, rotation planned)',
    default: 10_000,
    defaultText: '10s',
  }),

  host: value(SERVING, anyText)({ flag: 'host', env: 'BOUNCER_HOST', metavar: 'ADDR', help: 'listen address of both ports', default: '0.0.0.0' }),
  port: value(SERVING, portNumber)({ flag: 'port', env: 'BOUNCER_PORT', metavar: 'N', help: 'webhook HTTPS port (POST /validate, /mutate)', default: 8443 }),
  healthPort: value(SERVING, portNumber)({
    flag: 'health-port',
    env: 'BOUNCER_HEALTH_PORT',
    metavar: 'N',
    help: '/healthz, /readyz and /metrics over HTTP; must differ from --port',
    default: 8080,
  }),
  handshakeTimeoutMs: value(SERVING, parseDuration)({
    flag: 'handshake-timeout',
    env: 'BOUNCER_HANDSHAKE_TIMEOUT',
    metavar: 'D',
    help: 'a webhook connection must finish its TLS handshake within this, counted from accept; then it is closed',
    default: 10_000,
    defaultText: '10s',
  }),
  headersTimeoutMs: value(SERVING, parseDuration)({
    flag: 'headers-timeout',
    env: 'BOUNCER_HEADERS_TIMEOUT',
    metavar: 'D',
    help: "a request's headers must arrive within this (never more than --request-timeout); 408 and closed",
    default: 10_000,
    defaultText: '10s',
  }),
  requestTimeoutMs: value(SERVING, parseDuration)({
    flag: 'request-timeout',
    env: 'BOUNCER_REQUEST_TIMEOUT',
    metavar: 'D',
    help: "a request's headers and body must arrive within this; 408 and closed",
    default: 10_000,
    defaultText: '10s',
  }),
  logLevel: value(SERVING, oneOf(LOG_LEVELS))({ flag: 'log-level', env: 'BOUNCER_LOG_LEVEL', metavar: 'LEVEL', help: LOG_LEVELS.join('|'), default: 'info' }),
  shutdownDelayMs: value(SERVING, parseDuration)({
    flag: 'shutdown-delay',
    env: 'BOUNCER_SHUTDOWN_DELAY',
    metavar: 'D',
    help: 'after SIGTERM, keep serving (not ready, answering with Connection: close) this long before closing',
    default: 5000,
    defaultText: '5s',
  }),
  maxConnections: value(SERVING, integer(1, 1_000_000))({
    flag: 'max-connections',
    env: 'BOUNCER_MAX_CONNECTIONS',
    metavar: 'N',
    help: 'webhook connections open at once; at it the port stops accepting until one closes, and the kernel refuses new connects (an idle TLS connection costs ~45 KiB)',
    defaultText: '64 per CPU of the CPU budget, at most 1024',
  }),
  maxInFlight: value(SERVING, integer(1, 1_000_000))({
    flag: 'max-in-flight',
    env: 'BOUNCER_MAX_IN_FLIGHT',
    metavar: 'N',
    help: "webhook requests in progress at once; beyond it a review is answered at once by each policy's failure mode, unevaluated",
    defaultText: '128 per CPU of the CPU budget',
  }),
  maxHandshakes: value(SERVING, integer(1, 1_000_000))({
    flag: 'max-handshakes',
    env: 'BOUNCER_MAX_HANDSHAKES',
    metavar: 'N',
    help: 'TLS handshakes in progress at once (and the burst of --handshake-rate); at it the port stops accepting until one finishes',
    defaultText: '32 per CPU of the CPU budget',
  }),
  handshakeRate: value(SERVING, integer(1, 1_000_000))({
    flag: 'handshake-rate',
    env: 'BOUNCER_HANDSHAKE_RATE',
    metavar: 'N',
    help: 'new TLS handshakes per second; beyond it the port stops accepting until the rate allows one more',
    defaultText: '200 per CPU of the CPU budget',
  }),
  maxBufferedMb: value(SERVING, integer(9, 4096))({
    flag: 'max-buffered-mb',
    env: 'BOUNCER_MAX_BUFFERED_MB',
    metavar: 'N',
    help: 'request bodies held in memory at once, MiB (each counted at its Content-Length); beyond it a request is answered 503 before its body is read',
    default: 64,
  }),

  workers: value(EVALUATION, integer(0, 64))({
    flag: 'workers',
    env: 'BOUNCER_WORKERS',
    metavar: 'N',
    help: 'evaluation worker threads; 0 evaluates on the main thread, without time budgets',
    default: () => cpuBudget(),
    defaultText: 'the CPUs allowed by affinity and the cgroup CPU quota, at least 1',
  }),
  policyTimeoutMs: value(EVALUATION, parseDuration)({
    flag: 'policy-timeout',
    env: 'BOUNCER_POLICY_TIMEOUT',
    metavar: 'D',
    help: "one policy's time budget; past it the policy fails by its failure mode",
    default: 1000,
    defaultText: '1s',
  }),
  reviewTimeoutMs: value(EVALUATION, parseDuration)({
    flag: 'review-timeout',
    env: 'BOUNCER_REVIEW_TIMEOUT',
    metavar: 'D',
    help: 'every review is answered within this; keep it under the webhook timeout',
    default: 3000,
    defaultText: '3s',
  }),
  maxQueue: value(EVALUATION, integer(1, 1_000_000))({
    flag: 'max-queue',
    env: 'BOUNCER_MAX_QUEUE',
    metavar: 'N',
    help: 'reviews waiting for a worker; beyond it they fail fast as overloaded',
    default: 1024,
  }),
  maxMemoryMb: value(EVALUATION, integer(4, 4096))({
    flag: 'max-memory-mb',
    env: 'BOUNCER_MAX_MEMORY_MB',
    metavar: 'N',
    help: 'WASM memory cap per bundle instance, in MiB',
    default: 256,
  }),
  bundleLoadTimeoutMs: value(EVALUATION, parseDuration)({
    flag: 'bundle-load-timeout',
    env: 'BOUNCER_BUNDLE_LOAD_TIMEOUT',
    metavar: 'D',
    help: 'longest one bundle load (untar, signature, compile, instantiate, data, self-check, in a loader worker) may take; beyond it the bundle is refused with BUNDLE_LOAD_TIMEOUT',
    default: 10_000,
    defaultText: '10s',
  }),
  bundleLoadMemoryMb: value(EVALUATION, integer(4, 4096))({
    flag: 'bundle-load-memory-mb',
    env: 'BOUNCER_BUNDLE_LOAD_MEMORY_MB',
    metavar: 'N',
    help: "memory budget of one bundle load in MiB: its WASM memory, plus an eighth of it per JSON file parsed; beyond it BUNDLE_OVER_BUDGET",
    defaultText: 'the --max-memory-mb value',
  }),
  decisionCacheSize: value(EVALUATION, integer(0, 10_000_000))({
    flag: 'decision-cache-size',
    env: 'BOUNCER_DECISION_CACHE_SIZE',
    metavar: 'N',
    help: 'cache the outcomes of up to N distinct review contents (0: off); pays only when the same content is reviewed again',
    default: 0,
  }),
  decisionCacheTtlMs: value(EVALUATION, parseDuration)({
    flag: 'decision-cache-ttl',
    env: 'BOUNCER_DECISION_CACHE_TTL',
    metavar: 'D',
    help: 'how long a cached outcome is used (bounds policies that read the clock)',
    default: 60_000,
    defaultText: '60s',
  }),
  shadowMaxConcurrency: value(EVALUATION, integer(0, 1024))({
    flag: 'shadow-max-concurrency',
    env: 'BOUNCER_SHADOW_MAX_CONCURRENCY',
    metavar: 'N',
    help: "shadow candidates evaluated at the same time, off the answer path and on the same workers; beyond it a review's shadow is skipped and counted (0: shadows never run)",
    default: 2,
  }),
  shadowTimeoutMs: value(EVALUATION, parseDuration)({
    flag: 'shadow-timeout',
    env: 'BOUNCER_SHADOW_TIMEOUT',
    metavar: 'D',
    help: 'time budget of one shadow evaluation; past it the result is ignored and counted as a timeout',
    default: 1000,
    defaultText: '1s',
  }),
  rolloutIntervalMs: value(EVALUATION, parseDuration)({
    flag: 'rollout-interval',
    env: 'BOUNCER_ROLLOUT_INTERVAL',
    metavar: 'D',
    help: "with --watch-namespace: how often each replica writes its candidate window counts on the bundle pointer, and how often the replica holding the rollout Lease judges running canaries (promote or roll back)",
    default: 10_000,
    defaultText: '10s',
  }),

  inventoryMaxMb: value(CLUSTER_DATA, integer(1, 65_536))({
    flag: 'inventory-max-mb',
    env: 'BOUNCER_INVENTORY_MAX_MB',
    metavar: 'N',
    help: "budget of the replicated objects policies declare they read (data.inventory), MiB of their projected JSON; past it objects are refused, the kinds are reported over budget and the policies reading them fail by their failure mode. Each evaluation worker holds a parsed copy in its WASM memory, about 9x the JSON (see --max-memory-mb)",
    default: 16,
  }),
  inventoryMaxStalenessMs: value(CLUSTER_DATA, parseDuration)({
    flag: 'inventory-max-staleness',
    env: 'BOUNCER_INVENTORY_MAX_STALENESS',
    metavar: 'D',
    help: 'a replicated kind not confirmed current (list, watch event or bookmark) for longer than this is stale: the policies reading it fail by their failure mode',
    default: 900_000,
    defaultText: '15m',
  }),
  audit: value(CLUSTER_DATA, oneOf(['on', 'off'] as const))({
    flag: 'audit',
    env: 'BOUNCER_AUDIT',
    metavar: 'on|off',
    help: 'with --watch-namespace: audit the existing objects every --audit-interval in the replica holding the audit Lease, and write reports',
    default: 'on',
  }),
  auditIntervalMs: value(CLUSTER_DATA, parseDuration)({
    flag: 'audit-interval',
    env: 'BOUNCER_AUDIT_INTERVAL',
    metavar: 'D',
    help: 'time between the starts of two audit runs (a run still going delays the next); the BouncerAuditNotRun alert assumes this default',
    default: 3_600_000,
    defaultText: '1h',
  }),
  auditPageSize: value(CLUSTER_DATA, integer(1, 10_000))({
    flag: 'audit-page-size',
    env: 'BOUNCER_AUDIT_PAGE_SIZE',
    metavar: 'N',
    help: 'objects per list page the audit asks for (limit/continue); each page is evaluated and let go',
    default: 500,
  }),
  auditMaxFindings: value(CLUSTER_DATA, integer(1, 10_000_000))({
    flag: 'audit-max-findings',
    env: 'BOUNCER_AUDIT_MAX_FINDINGS',
    metavar: 'N',
    help: 'violations (and errors, skips) one audit run keeps; past it the run is marked truncated and only counted',
    default: 10_000,
  }),
  auditReports: value(CLUSTER_DATA, oneOf(['openreports', 'wgpolicyk8s', 'off'] as const))({
    flag: 'audit-reports',
    env: 'BOUNCER_AUDIT_REPORTS',
    metavar: 'FORMAT',
    help: 'report format the audit writes: openreports (openreports.io/v1alpha1 Report, ClusterReport), wgpolicyk8s (wgpolicyk8s.io/v1alpha2 PolicyReport, ClusterPolicyReport), off',
    default: 'openreports',
  }),
  auditMaxReportResults: value(CLUSTER_DATA, integer(1, 100_000))({
    flag: 'audit-max-report-results',
    env: 'BOUNCER_AUDIT_MAX_REPORT_RESULTS',
    metavar: 'N',
    help: 'results one report holds at most (its summary still counts all)',
    default: 1000,
  }),
  auditExcludedNamespaces: multiple(CLUSTER_DATA, matching(DNS_LABEL, 'a namespace name'))({
    flag: 'audit-exclude-namespace',
    env: 'BOUNCER_AUDIT_EXCLUDE_NAMESPACES',
    metavar: 'NS',
    help: "a namespace the audit skips besides kube-system, kube-node-lease and bouncer's own: give it the namespaces the webhook configurations exclude, so the audit reports what admission would judge",
    default: [] as string[],
  }),

  decisionLogUrl: value(DECISIONS, matching(/^https?:\/\/\S+$/, 'an http(s) URL'))({
    flag: 'decision-log-url',
    env: 'BOUNCER_DECISION_LOG_URL',
    metavar: 'URL',
    help: "deliver decision events to this HTTP sink (gzipped JSON arrays, OPA's decision-log upload format)",
  }),
  decisionLogSpool: value(DECISIONS, anyText)({
    flag: 'decision-log-spool',
    env: 'BOUNCER_DECISION_LOG_SPOOL',
    metavar: 'DIR',
    help: 'on-disk spool while the sink is down: kept private (0700, files 0600) and must be owned by bouncer\'s user, so name a subdirectory of a volume rather than its mount root',
    default: '/tmp/bouncer-decision-spool',
  }),
  decisionLogSpoolMaxMb: value(DECISIONS, integer(1, 1_048_576))({
    flag: 'decision-log-spool-max-mb',
    env: 'BOUNCER_DECISION_LOG_SPOOL_MAX_MB',
    metavar: 'N',
    help: 'spool bound in MiB; beyond it events are dropped and counted',
    default: 256,
  }),
  decisionLogInput: toggle(DECISIONS)({
    flag: 'decision-log-input',
    env: 'BOUNCER_DECISION_LOG_INPUT',
    help: 'include the request objects in decision events, masked: Secret data at any depth, env values, tokens of TokenReview/TokenRequest, every annotation that holds or quotes masked content (last-applied-configuration), and --decision-log-mask',
  }),
  decisionLogMask: multiple(DECISIONS, matching(/^\//, 'a JSON pointer starting with /'))({
    flag: 'decision-log-mask',
    env: 'BOUNCER_DECISION_LOG_MASK',
    metavar: 'PTR',
    help: 'another JSON pointer to mask in logged objects, e.g. /spec/token',
    default: [] as string[],
  }),
  recordDir: value(DECISIONS, anyText)({
    flag: 'record-dir',
    env: 'BOUNCER_RECORD_DIR',
    metavar: 'DIR',
    help: "record reviews (masked as decision events are, with the time policies saw) for 'bouncer replay' into DIR: kept private like the decision log spool; off when not set",
  }),
  recordMaxMb: value(DECISIONS, integer(1, 1_048_576))({
    flag: 'record-max-mb',
    env: 'BOUNCER_RECORD_MAX_MB',
    metavar: 'N',
    help: 'recording bound in MiB; beyond it new records are dropped and counted, admission is unaffected',
    default: 256,
  }),
  recordMaxAgeMs: value(DECISIONS, parseDuration)({
    flag: 'record-max-age',
    env: 'BOUNCER_RECORD_MAX_AGE',
    metavar: 'D',
    help: 'records older than this are deleted (whole segment files)',
    default: 24 * 3_600_000,
    defaultText: '24h',
  }),
  recordSample: value(DECISIONS, sampleRate)({
    flag: 'record-sample',
    env: 'BOUNCER_RECORD_SAMPLE',
    metavar: 'F',
    help: 'fraction of reviews recorded, from 0 (exclusive) to 1',
    default: 1,
  }),
  recordMask: multiple(DECISIONS, matching(/^\//, 'a JSON pointer starting with /'))({
    flag: 'record-mask',
    env: 'BOUNCER_RECORD_MASK',
    metavar: 'PTR',
    help: 'another JSON pointer to mask in recorded objects, e.g. /spec/token',
    default: [] as string[],
  }),
  otlpEndpoint: value(TRACING, matching(/^https?:\/\/\S+$/, 'an http(s) URL'))({
    flag: 'otlp-endpoint',
    env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    metavar: 'URL',
    help: 'export traces over OTLP/HTTP to URL/v1/traces; tracing is off unless this or --otlp-traces-endpoint is set',
  }),
  otlpTracesEndpoint: value(TRACING, matching(/^https?:\/\/\S+$/, 'an http(s) URL'))({
    flag: 'otlp-traces-endpoint',
    env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    metavar: 'URL',
    help: 'export traces over OTLP/HTTP to exactly this URL (wins over --otlp-endpoint)',
  }),
  traceSampler: value(TRACING, oneOf(['parentbased_traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'traceidratio', 'always_on', 'always_off'] as const))({
    flag: 'trace-sampler',
    env: 'OTEL_TRACES_SAMPLER',
    metavar: 'NAME',
    help: "which requests are traced; parentbased_*: follow the API server's sampling decision (traceparent), the rest for requests without one",
    default: 'parentbased_traceidratio',
  }),
  traceSamplerArg: value(TRACING, fraction)({
    flag: 'trace-sampler-arg',
    env: 'OTEL_TRACES_SAMPLER_ARG',
    metavar: 'RATIO',
    help: 'the traceidratio samplers\' ratio, 0 to 1',
    default: 1,
  }),
  otelServiceName: value(TRACING, anyText)({
    flag: 'otel-service-name',
    env: 'OTEL_SERVICE_NAME',
    metavar: 'NAME',
    help: 'service.name of the exported spans',
    default: 'bouncer',
  }),
  otelResourceAttributes: value(TRACING, anyText)({
    flag: 'otel-resource-attributes',
    env: 'OTEL_RESOURCE_ATTRIBUTES',
    metavar: 'K=V,...',
    help: 'more resource attributes of the exported spans (W3C baggage format, values percent-encoded)',
  }),
  otelSdkDisabled: toggle(TRACING)({
    flag: 'otel-sdk-disabled',
    env: 'OTEL_SDK_DISABLED',
    help: 'no tracing even with an endpoint set',
  }),
} as const;

export type ServeSettings = typeof SERVE_SETTINGS;
