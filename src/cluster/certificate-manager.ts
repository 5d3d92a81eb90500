// Self-managed webhook TLS. Every replica follows the Secret and serves its current
// certificate (reloaded without restart); the replica holding the Lease also plans
// rotation (certs/rotation.ts), writes the Secret, and keeps the caBundle of both webhook
// configurations equal to the Secret's bundle. The leader writes the Secret first and the
// caBundle second, and rotation moves the CA only through an overlap in which both CAs are
// trusted, so no request fails while certificates change.
import { AdmissionregistrationV1Api, ApiException, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { planRotation, type RotationPolicy, type TlsState } from '../certs/rotation.js';
import type { CertificateSource, ServingMaterial } from '../certs/serving-certificate.js';
import { BouncerError, describeThrown } from '../errors/errors.js';
import { createLeaderElector } from './lease.js';

export type ServingCertificate = ServingMaterial;

export interface CertificateManagerOptions {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly secretName: string;
  /** Name of the ValidatingWebhookConfiguration and MutatingWebhookConfiguration to inject into. */
  readonly webhookName: string;
  readonly identity: string;
  /** The Lease that elects the one replica writing certificates (default bouncer-certs). */
  readonly leaseName?: string;
  readonly policy: RotationPolicy;
  /** How often to re-read the Secret and, when leading, plan (ms). */
  readonly intervalMs?: number;
  readonly log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** How long start waits for a first certificate (default 60 s). */
  readonly startTimeoutMs?: number;
}

/** A CertificateSource: start resolves with the first serving certificate (waiting for the leader to create one). */
export type CertificateManager = CertificateSource;

const KEYS = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  tlsCert: 'tls.crt',
  tlsKey: 'tls.key',
  caBundle: 'ca-bundle.crt',
  nextCaCert: 'next-ca.crt',
  nextCaKey: 'next-ca.key',
} as const;
const NEXT_SINCE = 'bouncer.dev/next-ca-since';
const DROP_AFTER = 'bouncer.dev/drop-previous-ca-after';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8'));

export function stateFromSecret(secret: V1Secret): TlsState | undefined {
  const d = secret.data ?? {};
  const a = secret.metadata?.annotations ?? {};
  const [caCert, caKey, tlsCert, tlsKey, caBundle] = [d[KEYS.caCert], d[KEYS.caKey], d[KEYS.tlsCert], d[KEYS.tlsKey], d[KEYS.caBundle]].map(unb64);
  if (!caCert || !caKey || !tlsCert || !tlsKey || !caBundle) return undefined;
  const nextCaCert = unb64(d[KEYS.nextCaCert]);
  const nextCaKey = unb64(d[KEYS.nextCaKey]);
  return {
    caCert,
    caKey,
    tlsCert,
    tlsKey,
    caBundle,
    ...(nextCaCert && nextCaKey ? { nextCaCert, nextCaKey } : {}),
    ...(a[NEXT_SINCE] ? { nextCaSince: Number(a[NEXT_SINCE]) } : {}),
    ...(a[DROP_AFTER] ? { dropPreviousAfter: Number(a[DROP_AFTER]) } : {}),
  };
}

function secretFor(name: string, namespace: string, state: TlsState, resourceVersion?: string): V1Secret {
  const data: Record<string, string> = {};
  for (const [field, key] of Object.entries(KEYS)) {
    const value = state[field as keyof typeof KEYS];
    if (value) data[key] = b64(value);
  }
  return {
    metadata: {
      name,
      namespace,
      ...(resourceVersion ? { resourceVersion } : {}),
      labels: { 'app.kubernetes.io/name': 'bouncer', 'app.kubernetes.io/component': 'webhook-tls' },
      annotations: {
        ...(state.nextCaSince !== undefined ? { [NEXT_SINCE]: String(state.nextCaSince) } : {}),
        ...(state.dropPreviousAfter !== undefined ? { [DROP_AFTER]: String(state.dropPreviousAfter) } : {}),
      },
    },
    type: 'kubernetes.io/tls',
    data,
  };
}

export function createCertificateManager(options: CertificateManagerOptions): CertificateManager {
  const { kc, namespace, secretName, log } = options;
  const core = kc.makeApiClient(CoreV1Api);
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  const elector = createLeaderElector(kc, namespace, options.leaseName ?? 'bouncer-certs', options.identity);
  const intervalMs = options.intervalMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  let served: string | undefined;
  let running = false;
  const listeners: ((cert: ServingCertificate) => void)[] = [];

  async function readSecret(): Promise<V1Secret | undefined> {
    try {
      return await core.readNamespacedSecret({ namespace, name: secretName });
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw err;
    }
  }

  async function injectCaBundle(bundle: string): Promise<void> {
    const caBundle = b64(bundle);
    // A JSON Patch touching only caBundle (RBAC grants patch, not update), guarded by a
    // test of each webhook's name so a concurrent edit of the list makes it fail, not misapply.
    const patch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
    const configs = [
      { read: () => admission.readValidatingWebhookConfiguration({ name: options.webhookName }), patch: (body: object[]) => admission.patchValidatingWebhookConfiguration({ name: options.webhookName, body }, patch) },
      { read: () => admission.readMutatingWebhookConfiguration({ name: options.webhookName }), patch: (body: object[]) => admission.patchMutatingWebhookConfiguration({ name: options.webhookName, body }, patch) },
    ];
    for (const config of configs) {
      let current;
      try {
        current = await config.read();
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) continue;
        throw err;
      }
      const webhooks = current.webhooks ?? [];
      if (webhooks.every((w) => w.clientConfig.caBundle === caBundle)) continue;
      await config.patch(
        webhooks.flatMap((w, i) => [
          { op: 'test', path: `/webhooks/${i}/name`, value: w.name },
          { op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: caBundle },
        ]),
      );
      log.info({ webhookConfiguration: options.webhookName, kind: current.kind }, 'webhook caBundle updated');
    }
  }

  /** Leader only: plan, then write the Secret, then the caBundle. */
  async function lead(secret: V1Secret | undefined): Promise<V1Secret | undefined> {
    const current = secret ? stateFromSecret(secret) : undefined;
    const plan = await planRotation(current, options.policy);
    let written = secret;
    if (plan.reasons.length > 0) {
      const body = secretFor(secretName, namespace, plan.state, secret?.metadata?.resourceVersion);
      written = secret ? await core.replaceNamespacedSecret({ namespace, name: secretName, body }) : await core.createNamespacedSecret({ namespace, body });
      log.info({ secret: secretName, reasons: plan.reasons }, 'webhook certificates rotated');
    }
    await injectCaBundle(plan.state.caBundle);
    return written;
  }

  async function tick(): Promise<ServingCertificate | undefined> {
    let secret = await readSecret();
    if (await elector.tryLead()) secret = await lead(secret);
    const state = secret ? stateFromSecret(secret) : undefined;
    if (!state) return undefined;
    if (state.tlsCert !== served) {
      served = state.tlsCert;
      const cert = { cert: state.tlsCert, key: state.tlsKey };
      for (const listener of listeners) listener(cert);
      log.info({ secret: secretName }, 'serving certificate reloaded from the Secret');
      return cert;
    }
    return { cert: state.tlsCert, key: state.tlsKey };
  }

  const loop = () => {
    if (!running) return;
    timer = setTimeout(() => {
      tick()
        .catch((err: unknown) => log.warn({ err }, 'webhook certificate check failed; retrying'))
        .finally(loop);
    }, intervalMs);
  };

  return {
    onChange(listener) {
      listeners.push(listener);
    },
    async start() {
      const timeoutMs = options.startTimeoutMs ?? 60_000;
      running = true;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        try {
          const cert = await tick();
          if (cert) {
            loop();
            return cert;
          }
        } catch (err) {
          log.warn({ err }, 'webhook certificate check failed; retrying');
          if (Date.now() > deadline) throw new BouncerError('TLS_INVALID', `no webhook certificate after ${timeoutMs} ms: ${describeThrown(err)}`, { cause: err });
        }
        if (Date.now() > deadline) throw new BouncerError('TLS_INVALID', `no webhook certificate in Secret ${namespace}/${secretName} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, Math.min(1000, intervalMs)));
      }
    },
    stop() {
      running = false;
      if (timer) clearTimeout(timer);
    },
  };
}
