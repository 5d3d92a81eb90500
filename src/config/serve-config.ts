// The configuration of `bouncer serve`, made from the declared settings (serve-settings.ts):
// read once, checked (including what involves several settings), frozen. Nothing else reads
// process.env or argv for serve.
import { isIP } from 'node:net';
import { basename } from 'node:path';
import { BouncerError } from '../errors/errors.js';
import { readSettings, usageText } from './settings.js';
import { SERVE_SETTINGS } from './serve-settings.js';
import { tracingConfig, type TracingConfig } from './tracing-config.js';

/** Largest review body accepted (the API server's own request limit is 3 MiB; objects grow with managedFields). */
const BODY_LIMIT_BYTES = 8 * 1024 * 1024;

export interface BundleFile {
  readonly name: string;
  readonly file: string;
}

export interface ServeConfig {
  readonly host: string;
  readonly port: number;
  readonly healthPort: number;
  /** Serving certificate files; absent when bouncer manages its own certificates. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly clientCaFile?: string };
  readonly bundles: readonly BundleFile[];
  /** Build this policies directory at startup (development); needs the OPA CLI. */
  readonly policiesDir?: string;
  readonly opa?: string;
  readonly logLevel: string;
  readonly bodyLimitBytes: number;
  /** Headers and body of a request must arrive within this. */
  readonly requestTimeoutMs: number;
  readonly headersTimeoutMs: number;
  /** From TCP accept to an established TLS session. */
  readonly handshakeTimeoutMs: number;
  /** After SIGTERM: not ready at once, but keep serving this long so endpoints drop the pod first. */
  readonly shutdownDelayMs: number;
  /**
   * Edge admission limits given by flags (see src/http/admission-gate.ts); the ones left out
   * are derived from the CPU budget by defaultAdmissionLimits.
   */
  readonly admission: {
    readonly maxConnections?: number;
    readonly maxInFlight?: number;
    readonly maxHandshakes?: number;
    readonly handshakesPerSecond?: number;
    readonly maxBufferedBytes: number;
  };
  /** Evaluation worker threads (0: evaluate on the main thread, without time budgets). */
  readonly workers: number;
  /** Decision cache entries; 0 = no cache. */
  readonly decisionCacheSize: number;
  readonly decisionCacheTtlMs: number;
  readonly policyTimeoutMs: number;
  readonly reviewTimeoutMs: number;
  readonly maxQueue: number;
  /** Decision-log delivery to an HTTP sink (OPA's upload format) through an on-disk spool. */
  readonly decisionLog?: { readonly url: string; readonly spoolDir: string; readonly maxSpoolBytes: number; readonly includeInput: boolean; readonly maskPointers: readonly string[] };
  readonly maxMemoryPages: number;
  /** The review recording for `bouncer replay`; absent when off. */
  readonly recording?: { readonly dir: string; readonly maxBytes: number; readonly maxAgeMs: number; readonly sample: number; readonly maskPointers: readonly string[] };
  /** One bundle load's time and memory budgets (in the loader worker). */
  readonly bundleLoadTimeoutMs: number;
  readonly bundleLoadMemoryMb: number;
  /** Policy exceptions in a loaded bundle may expire at most this many days ahead (docs/exceptions.md). */
  readonly exceptionMaxDays?: number;
  /** Watch bundle ConfigMaps in this namespace (the in-cluster mode). */
  readonly watchNamespace?: string;
  readonly kubeconfig?: string;
  /** Watch Namespaces for Gatekeeper constraints (with watchNamespace), holding at most maxNamespaces. */
  readonly namespaceCache: boolean;
  readonly maxNamespaces: number;
  /** Replicated objects (data.inventory) for the kinds bundles declare, with watchNamespace. */
  readonly inventory: { readonly maxBytes: number; readonly maxStalenessMs: number };
  /** The background audit (with watchNamespace); absent when off. */
  readonly audit?: {
    readonly intervalMs: number;
    readonly pageSize: number;
    readonly maxFindings: number;
    /** Namespaces skipped besides kube-system, kube-node-lease and bouncer's own. */
    readonly excludedNamespaces: readonly string[];
    /** Absent: no reports are written. */
    readonly reports?: { readonly format: 'openreports' | 'wgpolicyk8s'; readonly maxResultsPerReport: number };
  };
  /** This replica's name in bundle status annotations. */
  readonly replica: string;
  readonly requiredBundles: readonly string[];
  /** When set, every bundle must carry a valid signature by this key. */
  readonly verification?: { readonly keyFile: string; readonly algorithm: string; readonly keyId?: string };
  /** Self-managed webhook TLS (instead of --tls-cert/--tls-key). */
  readonly managedCerts?: {
    readonly namespace: string;
    readonly secretName: string;
    readonly webhookName: string;
    readonly dnsNames: readonly string[];
    readonly ipAddresses: readonly string[];
    readonly caValiditySeconds: number;
    readonly leafValiditySeconds: number;
    readonly overlapSeconds: number;
    readonly checkIntervalMs: number;
  };
  /** Shadow evaluation's budget, and the interval of rollout reports and promotion checks. */
  readonly rollout: { readonly shadowMaxConcurrency: number; readonly shadowTimeoutMs: number; readonly intervalMs: number };
  /** OpenTelemetry traces (tracing-config.ts); absent when off. */
  readonly tracing?: TracingConfig;
}

const HEADER = `usage: bouncer serve (--watch-namespace NS | --bundle [NAME=]FILE ... | --policies DIR) (--tls-cert FILE --tls-key FILE | --manage-certs) [options]

Every flag can also be set by its environment variable; a flag wins over its variable.`;

export const SERVE_USAGE = usageText(HEADER, SERVE_SETTINGS);

function invalid(message: string): BouncerError {
  return new BouncerError('CONFIG_INVALID', `${message}\n${SERVE_USAGE}`);
}

function bundleFile(spec: string): BundleFile {
  const eq = spec.indexOf('=');
  const name = eq > 0 ? spec.slice(0, eq) : basename(spec).replace(/\.tar\.gz$|\.tgz$/, '');
  const file = eq > 0 ? spec.slice(eq + 1) : spec;
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) throw invalid(`bundle name ${JSON.stringify(name)} must be a DNS label; use --bundle NAME=FILE`);
  if (file === '') throw invalid(`--bundle ${spec} names no file`);
  return { name, file };
}

const isIp = (s: string) => isIP(s) !== 0;

/**
 * Reads, checks and freezes the serve configuration. Settings are read by their declarations
 * (serve-settings.ts); what is checked here is what involves more than one setting.
 * `cpus` overrides the CPU budget that sizes the worker pool by default (tests).
 */
export function loadServeConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, cpus?: () => number): ServeConfig {
  const { values: v, given } = readSettings(SERVE_SETTINGS, argv, env, SERVE_USAGE);
  const workers = !given.has('workers') && cpus ? cpus() : v.workers;
  const manageCerts = v.manageCerts === true;
  if (manageCerts && (v.tlsCert || v.tlsKey)) throw invalid('--manage-certs and --tls-cert/--tls-key exclude each other');
  if (!manageCerts && (!v.tlsCert || !v.tlsKey)) throw invalid('a serving certificate is required (--tls-cert and --tls-key, or --manage-certs)');
  if (manageCerts && v.clientCa) throw invalid('--client-ca needs --tls-cert/--tls-key (it is not used with --manage-certs)');
  const bundles = (v.bundles ?? []).map(bundleFile);
  if (bundles.length === 0 && !v.policiesDir && !v.watchNamespace) throw invalid('nothing to serve: give --watch-namespace NS, --bundle FILE or --policies DIR');
  if (new Set(bundles.map((b) => b.name)).size !== bundles.length) throw invalid('two --bundle flags have the same name');
  if (v.policiesDir && bundles.some((b) => b.name === 'local')) throw invalid('--policies serves bundle "local"; give the --bundle of that name another name');
  if (v.port !== 0 && v.port === v.healthPort) throw invalid(`--port and --health-port are both ${v.port}: the webhook and the health server need a port each`);
  if (v.verificationKeyId && !v.verificationKey) throw invalid('--verification-key-id needs --verification-key');
  if (v.reviewTimeoutMs <= 0 || v.policyTimeoutMs <= 0) throw invalid('--review-timeout and --policy-timeout must be more than 0');
  if (v.requestTimeoutMs <= 0 || v.handshakeTimeoutMs <= 0 || v.headersTimeoutMs <= 0) throw invalid('--request-timeout, --headers-timeout and --handshake-timeout must be more than 0');
  if (given.has('decisionLogInput') || given.has('decisionLogSpool') || given.has('decisionLogMask') || given.has('decisionLogSpoolMaxMb')) {
    if (!v.decisionLogUrl) throw invalid('the --decision-log-* settings need --decision-log-url');
  }
  if (!v.recordDir && (given.has('recordMaxMb') || given.has('recordMaxAgeMs') || given.has('recordSample') || given.has('recordMask'))) {
    throw invalid('the --record-* settings need --record-dir');
  }
  let tracing: ReturnType<typeof tracingConfig>;
  try {
    tracing = tracingConfig(v);
  } catch (err) {
    throw invalid((err as Error).message);
  }
  let managedCerts: ServeConfig['managedCerts'];
  if (manageCerts) {
    const namespace = v.watchNamespace;
    if (!namespace) throw invalid('--manage-certs needs --watch-namespace (where the Secret and Lease live)');
    const service = v.serviceName;
    if (v.certOverlapMs * 2 >= v.caValidityMs) throw invalid('--cert-overlap must be less than half of --ca-validity');
    managedCerts = Object.freeze({
      namespace,
      secretName: v.certSecret,
      webhookName: v.webhookName,
      dnsNames: Object.freeze([service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`, ...v.certSans.filter((s) => !isIp(s))]),
      ipAddresses: Object.freeze(v.certSans.filter(isIp)),
      caValiditySeconds: v.caValidityMs / 1000,
      leafValiditySeconds: v.certValidityMs / 1000,
      overlapSeconds: v.certOverlapMs / 1000,
      checkIntervalMs: v.certCheckIntervalMs,
    });
  }
  const tls = v.tlsCert && v.tlsKey ? Object.freeze({ certFile: v.tlsCert, keyFile: v.tlsKey, ...(v.clientCa ? { clientCaFile: v.clientCa } : {}) }) : undefined;
  return Object.freeze({
    host: v.host,
    port: v.port,
    healthPort: v.healthPort,
    ...(tls ? { tls } : {}),
    ...(managedCerts ? { managedCerts } : {}),
    bundles: Object.freeze(bundles),
    ...(v.policiesDir ? { policiesDir: v.policiesDir } : {}),
    ...(v.opa ? { opa: v.opa } : {}),
    logLevel: v.logLevel,
    bodyLimitBytes: BODY_LIMIT_BYTES,
    requestTimeoutMs: v.requestTimeoutMs,
    headersTimeoutMs: v.headersTimeoutMs,
    handshakeTimeoutMs: v.handshakeTimeoutMs,
    ...(v.decisionLogUrl
      ? {
          decisionLog: Object.freeze({
            url: v.decisionLogUrl,
            spoolDir: v.decisionLogSpool,
            maxSpoolBytes: v.decisionLogSpoolMaxMb * 1024 * 1024,
            includeInput: v.decisionLogInput === true,
            maskPointers: Object.freeze([...v.decisionLogMask]),
          }),
        }
      : {}),
    workers,
    policyTimeoutMs: v.policyTimeoutMs,
    reviewTimeoutMs: v.reviewTimeoutMs,
    maxQueue: v.maxQueue,
    decisionCacheSize: v.decisionCacheSize,
    decisionCacheTtlMs: v.decisionCacheTtlMs,
    shutdownDelayMs: v.shutdownDelayMs,
    admission: Object.freeze({
      ...(v.maxConnections !== undefined ? { maxConnections: v.maxConnections } : {}),
      ...(v.maxInFlight !== undefined ? { maxInFlight: v.maxInFlight } : {}),
      ...(v.maxHandshakes !== undefined ? { maxHandshakes: v.maxHandshakes } : {}),
      ...(v.handshakeRate !== undefined ? { handshakesPerSecond: v.handshakeRate } : {}),
      maxBufferedBytes: v.maxBufferedMb * 1024 * 1024,
    }),
    maxMemoryPages: v.maxMemoryMb * 16,
    ...(v.recordDir
      ? { recording: Object.freeze({ dir: v.recordDir, maxBytes: v.recordMaxMb * 1024 * 1024, maxAgeMs: v.recordMaxAgeMs, sample: v.recordSample, maskPointers: Object.freeze([...v.recordMask]) }) }
      : {}),
    bundleLoadTimeoutMs: v.bundleLoadTimeoutMs,
    bundleLoadMemoryMb: v.bundleLoadMemoryMb ?? v.maxMemoryMb,
    exceptionMaxDays: v.exceptionMaxDays,
    ...(v.watchNamespace ? { watchNamespace: v.watchNamespace } : {}),
    ...(v.kubeconfig ? { kubeconfig: v.kubeconfig } : {}),
    namespaceCache: v.namespaceCache === 'on' && v.watchNamespace !== undefined,
    maxNamespaces: v.maxNamespaces,
    inventory: Object.freeze({ maxBytes: v.inventoryMaxMb * 1024 * 1024, maxStalenessMs: v.inventoryMaxStalenessMs }),
    ...(v.audit === 'on' && v.watchNamespace !== undefined
      ? {
          audit: Object.freeze({
            intervalMs: v.auditIntervalMs,
            pageSize: v.auditPageSize,
            maxFindings: v.auditMaxFindings,
            excludedNamespaces: Object.freeze([...v.auditExcludedNamespaces]),
            ...(v.auditReports === 'off' ? {} : { reports: Object.freeze({ format: v.auditReports, maxResultsPerReport: v.auditMaxReportResults }) }),
          }),
        }
      : {}),
    replica: v.replica,
    rollout: Object.freeze({ shadowMaxConcurrency: v.shadowMaxConcurrency, shadowTimeoutMs: v.shadowTimeoutMs, intervalMs: v.rolloutIntervalMs }),
    requiredBundles: Object.freeze([...v.requiredBundles]),
    ...tracing,
    ...(v.verificationKey ? { verification: Object.freeze({ keyFile: v.verificationKey, algorithm: v.verificationAlg, ...(v.verificationKeyId ? { keyId: v.verificationKeyId } : {}) }) } : {}),
  });
}
