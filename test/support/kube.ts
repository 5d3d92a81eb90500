// Helpers for e2e tests that talk to the real kube-apiserver of the test control plane.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AdmissionregistrationV1Api,
  ApiException,
  CoreV1Api,
  KubeConfig,
  type V1MutatingWebhookConfiguration,
  type V1RuleWithOperations,
  type V1ValidatingWebhookConfiguration,
} from '@kubernetes/client-node';
import type { ControlPlaneState } from '../../hack/lib/control-plane.js';

export interface Kube {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly admission: AdmissionregistrationV1Api;
}

export function kubeFor(state: ControlPlaneState): Kube {
  const kc = new KubeConfig();
  kc.loadFromFile(state.kubeconfig);
  return { kc, core: kc.makeApiClient(CoreV1Api), admission: kc.makeApiClient(AdmissionregistrationV1Api) };
}

/** A random DNS-1123 name with a readable prefix. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}

export async function createNamespace(kube: Kube, name: string, labels: Record<string, string> = {}): Promise<void> {
  await kube.core.createNamespace({ body: { metadata: { name, labels } } });
}

/** The status message and code of a rejected API call, or throws if the call did not fail with an API status. */
export function apiFailure(err: unknown): { code: number; message: string; warnings: string[] } {
  if (!(err instanceof ApiException)) throw err;
  const body: unknown = typeof err.body === 'string' ? safeJson(err.body) : err.body;
  const message = typeof body === 'object' && body && 'message' in body ? String(body.message) : String(err.body);
  return { code: err.code, message, warnings: [] };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Expects `call` to be rejected by the API server; returns the status it answered with. */
export async function expectRejected(call: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await call;
  } catch (err) {
    return apiFailure(err);
  }
  throw new Error('expected the API server to reject the request, but it was accepted');
}

export interface WebhookRegistration {
  readonly name: string;
  readonly url: string;
  readonly caPem: string;
  readonly rules: V1RuleWithOperations[];
  /** Only namespaces carrying this immutable name label are sent (isolates tests from each other). */
  readonly namespaces?: readonly string[];
  readonly failurePolicy?: 'Fail' | 'Ignore';
  readonly timeoutSeconds?: number;
}

function selector(namespaces?: readonly string[]) {
  return namespaces
    ? { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: [...namespaces] }] }
    : { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'kube-public', 'kube-node-lease'] }] };
}

function webhook(reg: WebhookRegistration) {
  return {
    name: `${reg.name}.bouncer.test`,
    admissionReviewVersions: ['v1'],
    sideEffects: 'None',
    failurePolicy: reg.failurePolicy ?? 'Fail',
    matchPolicy: 'Equivalent',
    timeoutSeconds: reg.timeoutSeconds ?? 5,
    clientConfig: { url: reg.url, caBundle: Buffer.from(reg.caPem).toString('base64') },
    rules: reg.rules,
    namespaceSelector: selector(reg.namespaces),
  };
}

export async function registerValidatingWebhook(kube: Kube, reg: WebhookRegistration): Promise<void> {
  const body: V1ValidatingWebhookConfiguration = { metadata: { name: reg.name }, webhooks: [webhook(reg)] };
  await kube.admission.createValidatingWebhookConfiguration({ body });
}

export async function registerMutatingWebhook(kube: Kube, reg: WebhookRegistration): Promise<void> {
  const body: V1MutatingWebhookConfiguration = {
    metadata: { name: reg.name },
    webhooks: [{ ...webhook(reg), reinvocationPolicy: 'IfNeeded' }],
  };
  await kube.admission.createMutatingWebhookConfiguration({ body });
}

export async function deleteWebhooks(kube: Kube, name: string): Promise<void> {
  await kube.admission.deleteValidatingWebhookConfiguration({ name }).catch(() => undefined);
  await kube.admission.deleteMutatingWebhookConfiguration({ name }).catch(() => undefined);
}

/**
 * Webhook registration takes effect asynchronously: retries `probe` (typically a dry-run
 * create that the webhook must see) until `seen()` says the webhook was called.
 */
export async function waitForWebhook(probe: () => Promise<unknown>, seen: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    last = await probe().then(
      () => 'accepted',
      (err: unknown) => err,
    );
    if (seen()) return;
    await sleep(200);
  }
  throw new Error(`the API server did not call the webhook within ${timeoutMs} ms; the last probe answered: ${String(last)}`);
}

export interface AuditEvent {
  readonly auditID: string;
  readonly verb: string;
  readonly stage: string;
  readonly objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  readonly responseStatus?: { code?: number };
  readonly annotations?: Record<string, string>;
}

/** Audit events (ResponseComplete stage) matching `match`, read from the control plane's audit log. */
export function auditEvents(state: ControlPlaneState, match: (e: AuditEvent) => boolean): AuditEvent[] {
  return readFileSync(state.auditLog, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as AuditEvent)
    .filter((e) => e.stage === 'ResponseComplete' && match(e));
}

/** Polls the audit log until an event matches (the log is written as requests complete). */
export async function waitForAudit(state: ControlPlaneState, match: (e: AuditEvent) => boolean, timeoutMs = 10_000): Promise<AuditEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = auditEvents(state, match)[0];
    if (found) return found;
    if (Date.now() > deadline) throw new Error('no matching audit event');
    await sleep(100);
  }
}

/** Polls `check` until it holds; throws after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms${last ? `; last error: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
