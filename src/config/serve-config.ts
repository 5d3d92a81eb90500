// The only reader of settings for `bouncer serve`: flags win over environment variables,
// which win over defaults. The result is checked and frozen; nothing else reads
// process.env or argv.
import { parseArgs } from 'node:util';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import { BouncerError } from '../errors/errors.js';
import { cpuBudget } from './cpu-budget.js';

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
  readonly requestTimeoutMs: number;
  /** After SIGTERM: not ready at once, but keep serving this long so endpoints drop the pod first. */
  readonly shutdownDelayMs: number;
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
  /** Watch bundle ConfigMaps in this namespace (the in-cluster mode). */
  readonly watchNamespace?: string;
  readonly kubeconfig?: string;
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
}

export const SERVE_USAGE = `usage: bouncer serve (--watch-namespace NS | --bundle [NAME=]FILE ... | --policies DIR) --tls-cert FILE --tls-key FILE [options]
  --watch-namespace NS   load bundles from ConfigMaps in NS and hot-swap them   env BOUNCER_NAMESPACE
  --kubeconfig FILE      cluster credentials (default $KUBECONFIG, ~/.kube/config, in-cluster)
  --replica NAME         this replica's name in bundle status annotations   env POD_NAME (default host name)
  --require-bundle NAME  not ready until NAME is active (repeatable)          env BOUNCER_REQUIRED_BUNDLES (comma-separated)
  --verification-key F   require bundles signed by this PEM public key       env BOUNCER_VERIFICATION_KEY
  --verification-alg A   signature algorithm (default RS256)                env BOUNCER_VERIFICATION_ALG
  --verification-key-id  require this key id (kid) in the signature
  --manage-certs         generate and rotate the webhook CA and serving certificate (Secret, caBundle injection,
                         leader-elected) instead of --tls-cert/--tls-key     env BOUNCER_MANAGE_CERTS=true
  --cert-secret NAME     Secret holding them (default bouncer-tls), in --watch-namespace
  --service-name NAME    Service the API server calls (default bouncer): the certificate's DNS names
  --webhook-name NAME    webhook configurations whose caBundle is kept current (default bouncer)
  --cert-sans LIST       extra DNS names or IP addresses, comma-separated
  --ca-validity D, --cert-validity D, --cert-overlap D, --cert-check-interval D
                         durations like 8760h, 720h, 10m, 10s (defaults 8760h, 720h, 10m, 10s)
  --bundle [NAME=]FILE   serve a bundle built by 'bouncer build' (repeatable; NAME defaults to the file name)
  --policies DIR         build DIR with the OPA CLI at startup and serve it as bundle "local"
  --tls-cert, --tls-key  serving certificate and key (PEM)      env BOUNCER_TLS_CERT, BOUNCER_TLS_KEY
  --client-ca FILE       require client certificates signed by this CA (mTLS) env BOUNCER_CLIENT_CA
  --host ADDR            listen address (default 0.0.0.0)       env BOUNCER_HOST
  --port N               webhook HTTPS port (default 8443)      env BOUNCER_PORT
  --health-port N        /healthz, /readyz, /metrics over HTTP (default 8080)  env BOUNCER_HEALTH_PORT
  --log-level LEVEL      trace|debug|info|warn|error (default info)            env BOUNCER_LOG_LEVEL
  --opa PATH             OPA CLI for --policies                 env OPA_BIN
  --workers N            evaluation worker threads (default: the CPUs allowed by affinity and the cgroup CPU
                         quota, at least 1; 0 = main thread, no time budgets)
  --policy-timeout D     one policy's time budget; past it the policy fails by its failure mode (default 1s)
  --review-timeout D     answer every review within this (default 3s; keep it under the webhook timeout)
  --max-queue N          reviews waiting for a worker; beyond it they fail fast as overloaded (default 1024)
  --decision-cache-size N  cache the outcomes of up to N distinct review contents (default 0: off); pays only
                         when the same content is reviewed again (retries, unchanged re-applies)
  --decision-cache-ttl D   how long a cached outcome is used (default 60s; bounds policies that read the clock)
  --decision-log-url URL       deliver decision events to this HTTP sink (gzipped JSON arrays, OPA's format)   env BOUNCER_DECISION_LOG_URL
  --decision-log-spool DIR     on-disk spool while the sink is down (default /tmp/bouncer-decision-spool)
  --decision-log-spool-max-mb  spool bound; beyond it events are dropped and counted (default 256)
  --decision-log-input         include the request objects, masked (Secret data, env values, --decision-log-mask)
  --decision-log-mask PTR      another JSON pointer to mask in objects, e.g. /spec/token (repeatable)
  --shutdown-delay D     after SIGTERM, keep serving (not ready) this long before closing (default 5s)
  --max-memory-mb N      WASM memory cap per bundle instance (default 256)      env BOUNCER_MAX_MEMORY_MB`;

function invalid(message: string): BouncerError {
  return new BouncerError('CONFIG_INVALID', `${message}\n${SERVE_USAGE}`);
}

function port(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw invalid(`${name} must be a port number (0-65535), got ${JSON.stringify(text)}`);
  return n;
}

function count(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw invalid(`${name} must be an integer from ${min} to ${max}`);
  return n;
}

/** "90s", "10m", "720h", "2d" → seconds. */
function duration(name: string, text: string | undefined, fallbackSeconds: number): number {
  if (text === undefined) return fallbackSeconds;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text);
  if (!match) throw invalid(`${name} must be a duration like 30s, 10m, 720h or 2d`);
  return Number(match[1]) * { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
}

function bundleFile(spec: string): BundleFile {
  const eq = spec.indexOf('=');
  const name = eq > 0 ? spec.slice(0, eq) : basename(spec).replace(/\.tar\.gz$|\.tgz$/, '');
  const file = eq > 0 ? spec.slice(eq + 1) : spec;
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name)) throw invalid(`bundle name ${JSON.stringify(name)} must be a DNS label; use --bundle NAME=FILE`);
  return { name, file };
}

/** `cpus`: the CPUs this process may use (default: affinity capped by the cgroup quota). */
export function loadServeConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, cpus: () => number = cpuBudget): ServeConfig {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        bundle: { type: 'string', multiple: true },
        policies: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'client-ca': { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        'health-port': { type: 'string' },
        'log-level': { type: 'string' },
        opa: { type: 'string' },
        'max-memory-mb': { type: 'string' },
        'watch-namespace': { type: 'string' },
        kubeconfig: { type: 'string' },
        replica: { type: 'string' },
        'require-bundle': { type: 'string', multiple: true },
        'verification-key': { type: 'string' },
        'verification-alg': { type: 'string' },
        'verification-key-id': { type: 'string' },
        'manage-certs': { type: 'boolean' },
        'cert-secret': { type: 'string' },
        'service-name': { type: 'string' },
        'webhook-name': { type: 'string' },
        'cert-sans': { type: 'string' },
        'ca-validity': { type: 'string' },
        'cert-validity': { type: 'string' },
        'cert-overlap': { type: 'string' },
        'cert-check-interval': { type: 'string' },
        'shutdown-delay': { type: 'string' },
        workers: { type: 'string' },
        'decision-cache-size': { type: 'string' },
        'decision-cache-ttl': { type: 'string' },
        'policy-timeout': { type: 'string' },
        'review-timeout': { type: 'string' },
        'max-queue': { type: 'string' },
        'decision-log-url': { type: 'string' },
        'decision-log-spool': { type: 'string' },
        'decision-log-spool-max-mb': { type: 'string' },
        'decision-log-input': { type: 'boolean' },
        'decision-log-mask': { type: 'string', multiple: true },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (cause) {
    throw invalid((cause as Error).message);
  }
  const certFile = values['tls-cert'] ?? env.BOUNCER_TLS_CERT;
  const keyFile = values['tls-key'] ?? env.BOUNCER_TLS_KEY;
  const manageCerts = values['manage-certs'] === true || env.BOUNCER_MANAGE_CERTS === 'true';
  if (manageCerts && (certFile || keyFile)) throw invalid('--manage-certs and --tls-cert/--tls-key exclude each other');
  if (!manageCerts && (!certFile || !keyFile)) throw invalid('a serving certificate is required (--tls-cert and --tls-key, or --manage-certs)');
  const bundles = (values.bundle ?? []).map(bundleFile);
  const policiesDir = values.policies;
  const watchNamespace = values['watch-namespace'] ?? env.BOUNCER_NAMESPACE;
  if (bundles.length === 0 && !policiesDir && !watchNamespace) throw invalid('nothing to serve: give --watch-namespace NS, --bundle FILE or --policies DIR');
  const names = new Set(bundles.map((b) => b.name));
  if (names.size !== bundles.length) throw invalid('two --bundle flags have the same name');
  const logLevel = values['log-level'] ?? env.BOUNCER_LOG_LEVEL ?? 'info';
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(logLevel)) throw invalid(`unknown log level ${logLevel}`);
  const memoryMb = Number(values['max-memory-mb'] ?? env.BOUNCER_MAX_MEMORY_MB ?? 256);
  if (!Number.isInteger(memoryMb) || memoryMb < 4 || memoryMb > 4096) throw invalid('--max-memory-mb must be an integer between 4 and 4096');
  const clientCaFile = values['client-ca'] ?? env.BOUNCER_CLIENT_CA;
  const opa = values.opa ?? env.OPA_BIN;
  const requiredBundles = values['require-bundle'] ?? (env.BOUNCER_REQUIRED_BUNDLES ? env.BOUNCER_REQUIRED_BUNDLES.split(',').map((s) => s.trim()).filter(Boolean) : []);
  const verificationKeyFile = values['verification-key'] ?? env.BOUNCER_VERIFICATION_KEY;
  const algorithm = values['verification-alg'] ?? env.BOUNCER_VERIFICATION_ALG ?? 'RS256';
  if (!/^(RS|PS|ES)(256|384|512)$|^EdDSA$/.test(algorithm)) throw invalid(`unsupported verification algorithm ${algorithm}`);
  const keyId = values['verification-key-id'];
  const decisionLogUrl = values['decision-log-url'] ?? env.BOUNCER_DECISION_LOG_URL;
  if (decisionLogUrl && !/^https?:\/\//.test(decisionLogUrl)) throw invalid('--decision-log-url must be an http(s) URL');
  const spoolMb = Number(values['decision-log-spool-max-mb'] ?? 256);
  if (!Number.isFinite(spoolMb) || spoolMb <= 0) throw invalid('--decision-log-spool-max-mb must be a positive number');
  for (const p of values['decision-log-mask'] ?? []) if (!p.startsWith('/')) throw invalid(`--decision-log-mask ${p} must be a JSON pointer starting with /`);
  let managedCerts: ServeConfig['managedCerts'];
  if (manageCerts) {
    if (!watchNamespace) throw invalid('--manage-certs needs --watch-namespace (where the Secret and Lease live)');
    const service = values['service-name'] ?? 'bouncer';
    const sans = (values['cert-sans'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const isIp = (s: string) => /^[\d.]+$|:/.test(s);
    managedCerts = Object.freeze({
      namespace: watchNamespace,
      secretName: values['cert-secret'] ?? 'bouncer-tls',
      webhookName: values['webhook-name'] ?? 'bouncer',
      dnsNames: [service, `${service}.${watchNamespace}`, `${service}.${watchNamespace}.svc`, `${service}.${watchNamespace}.svc.cluster.local`, ...sans.filter((s) => !isIp(s))],
      ipAddresses: sans.filter(isIp),
      caValiditySeconds: duration('--ca-validity', values['ca-validity'], 8760 * 3600),
      leafValiditySeconds: duration('--cert-validity', values['cert-validity'], 720 * 3600),
      overlapSeconds: duration('--cert-overlap', values['cert-overlap'], 600),
      checkIntervalMs: duration('--cert-check-interval', values['cert-check-interval'], 10) * 1000,
    });
  }
  return Object.freeze({
    host: values.host ?? env.BOUNCER_HOST ?? '0.0.0.0',
    port: port('--port', values.port ?? env.BOUNCER_PORT, 8443),
    healthPort: port('--health-port', values['health-port'] ?? env.BOUNCER_HEALTH_PORT, 8080),
    ...(certFile && keyFile ? { tls: Object.freeze({ certFile, keyFile, ...(clientCaFile ? { clientCaFile } : {}) }) } : {}),
    ...(managedCerts ? { managedCerts } : {}),
    bundles: Object.freeze(bundles),
    ...(policiesDir ? { policiesDir } : {}),
    ...(opa ? { opa } : {}),
    logLevel,
    bodyLimitBytes: 8 * 1024 * 1024,
    requestTimeoutMs: 10_000,
    ...(decisionLogUrl
      ? {
          decisionLog: Object.freeze({
            url: decisionLogUrl,
            spoolDir: values['decision-log-spool'] ?? env.BOUNCER_DECISION_LOG_SPOOL ?? '/tmp/bouncer-decision-spool',
            maxSpoolBytes: spoolMb * 1024 * 1024,
            includeInput: values['decision-log-input'] === true,
            maskPointers: Object.freeze([...(values['decision-log-mask'] ?? [])]),
          }),
        }
      : {}),
    workers: count('--workers', values.workers ?? env.BOUNCER_WORKERS, cpus(), 0, 64),
    policyTimeoutMs: duration('--policy-timeout', values['policy-timeout'], 1) * 1000,
    reviewTimeoutMs: duration('--review-timeout', values['review-timeout'], 3) * 1000,
    maxQueue: count('--max-queue', values['max-queue'], 1024, 1, 1_000_000),
    decisionCacheSize: count('--decision-cache-size', values['decision-cache-size'], 0, 0, 10_000_000),
    decisionCacheTtlMs: duration('--decision-cache-ttl', values['decision-cache-ttl'], 60) * 1000,
    shutdownDelayMs: duration('--shutdown-delay', values['shutdown-delay'] ?? env.BOUNCER_SHUTDOWN_DELAY, 5) * 1000,
    maxMemoryPages: memoryMb * 16,
    ...(watchNamespace ? { watchNamespace } : {}),
    ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
    replica: values.replica ?? env.POD_NAME ?? hostname(),
    requiredBundles: Object.freeze(requiredBundles),
    ...(verificationKeyFile ? { verification: Object.freeze({ keyFile: verificationKeyFile, algorithm, ...(keyId ? { keyId } : {}) }) } : {}),
  });
}
