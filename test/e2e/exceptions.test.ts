// A policy exception end to end, against the real kube-apiserver: a bundle built by
// `bouncer build` from a policy and policies/exceptions/ (the exception expiring ~40 s later)
// is served by `bouncer serve` (decision cache on: it holds outcomes before exceptions apply;
// every create carries a new uid and creationTimestamp, so hits across expiry are proven by the
// unit test, src/review/exemptions.test.ts). While the exception is in force, an
// exempted ConfigMap is admitted with the `exempted-by` audit annotation in the API server's
// audit log, bouncer_exemptions_total counts it and the background audit reports it as a
// skip; another name is denied. Then requests keep flowing (four concurrent writers, creates
// and dry-run creates) across the expiry:
// every request answered before expiresAt was admitted, none sent after it was, and the
// audit run after expiry reports the same objects as violations.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startBouncer, type BouncerProcess } from '../../hack/lib/bouncer-process.js';
import { createAuditor } from '../../src/audit/auditor.js';
import type { AuditRun } from '../../src/audit/types.js';
import { buildBundle } from '../../src/authoring/build.js';
import { loadBundle } from '../../src/bundles/bundle.js';
import { createPolicySet } from '../../src/bundles/policy-set.js';
import { kubeObjectPages } from '../../src/cluster/object-pages.js';
import { kubeResourceDiscovery } from '../../src/cluster/resource-discovery.js';
import { metricValue } from '../support/metrics.js';
import { apiFailure, auditEvents, createNamespace, deleteWebhooks, kubeFor, registerValidatingWebhook, uniqueName, waitFor, waitForAudit } from '../support/kube.js';

const POLICY = [
  '# METADATA',
  '# title: Deny ConfigMaps labelled e2e=deny',
  '# custom:',
  '#   scope:',
  '#     kinds: [ConfigMap]',
  'package policies.no_e2e_deny',
  '',
  'deny contains sprintf("ConfigMap %q is labelled e2e=deny", [input.request.object.metadata.name]) if input.request.object.metadata.labels.e2e == "deny"',
  '',
].join('\n');

/** Longest the setup (build, start, registration) may take before the exception expires. */
const WINDOW_MS = 40_000;
const WRITERS = 4;
const MAX_REQUESTS = 3000;

describe.skipIf(inject('externalCluster'))('a policy exception expiring under load (real API server)', () => {
  const state = inject('controlPlane');
  const kube = kubeFor(state);
  const ns = uniqueName('exc');
  const hook = uniqueName('bouncer-exc');
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-e2e-exceptions-'));
  let bouncer: BouncerProcess | undefined;
  let bundleFile = '';
  let expiresAt = 0;
  const labels = { e2e: 'deny' };
  const create = (name: string, dryRun = false) =>
    kube.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name, labels } }, ...(dryRun ? { dryRun: 'All' } : {}) }).then(
      () => ({ allowed: true, message: '' }),
      (err: unknown) => ({ allowed: false, message: apiFailure(err).message }),
    );
  const audit = async (): Promise<AuditRun> => {
    const set = createPolicySet([await loadBundle('exc', readFileSync(bundleFile))]);
    const logger = { info: () => {}, warn: () => {}, error: () => {} };
    return createAuditor({ policies: () => set, discovery: kubeResourceDiscovery(kube.kc), pager: kubeObjectPages(kube.kc), logger }).run();
  };
  const resultsIn = (run: AuditRun, names: readonly string[]) =>
    run.findings.filter((f) => f.resource.namespace === ns && names.includes(f.resource.name) && f.policy === 'no-e2e-deny').map((f) => `${f.resource.name}:${f.result}`).sort();

  beforeAll(async () => {
    const policies = join(dir, 'policies');
    mkdirSync(join(policies, 'no-e2e-deny'), { recursive: true });
    mkdirSync(join(policies, 'exceptions'), { recursive: true });
    writeFileSync(join(policies, 'no-e2e-deny', 'policy.rego'), POLICY);
    expiresAt = Math.ceil((Date.now() + WINDOW_MS) / 1000) * 1000;
    writeFileSync(
      join(policies, 'exceptions', 'load-window.yaml'),
      [
        'apiVersion: bouncer.dev/v1alpha1',
        'kind: PolicyException',
        'metadata: {name: load-window}',
        'spec:',
        '  policies: [no-e2e-deny]',
        `  match: {namespaces: [${ns}], names: ["exempt-*"]}`,
        '  reason: e2e exception expiring under load',
        '  ticket: E2E-1',
        `  expiresAt: "${new Date(expiresAt).toISOString()}"`,
        '',
      ].join('\n'),
    );
    bundleFile = join(dir, 'bundle.tar.gz');
    await buildBundle({ policiesDir: policies, output: bundleFile, opa: inject('opa'), revision: 'exc-1' });
    await createNamespace(kube, ns);
    bouncer = await startBouncer({ exc: bundleFile }, ['--decision-cache-size', '1000']);
    await registerValidatingWebhook(kube, {
      name: hook,
      url: `${bouncer.url}/validate`,
      caPem: bouncer.caPem,
      rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['configmaps'] }],
      namespaces: [ns],
    });
    await waitFor(async () => (await create(uniqueName('probe'), true)).message.includes('[no-e2e-deny]'), 30_000, `webhook ${hook} in effect`);
  }, 120_000);

  afterAll(async () => {
    await deleteWebhooks(kube, hook);
    await bouncer?.stop();
    await kube.core.deleteNamespace({ name: ns }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('admits the exempted object with the exempted-by annotation, counts it, and the audit reports it as a skip', async () => {
    expect(Date.now(), 'the setup took the whole exception window').toBeLessThan(expiresAt - 10_000);
    expect(await create('exempt-first')).toEqual({ allowed: true, message: '' });
    const denied = await create('not-exempt');
    expect(denied.allowed).toBe(false);
    expect(denied.message).toContain('[no-e2e-deny] ConfigMap "not-exempt" is labelled e2e=deny');
    const event = await waitForAudit(state, (e) => e.verb === 'create' && e.objectRef?.namespace === ns && e.objectRef.name === 'exempt-first');
    const annotations = Object.fromEntries(Object.entries(event.annotations ?? {}).filter(([k]) => k.startsWith(`${hook}.bouncer.test/`)).map(([k, v]) => [k.slice(k.indexOf('/') + 1), v]));
    expect(annotations).toMatchObject({ decision: 'allowed', 'exempted-by': 'no-e2e-deny:load-window' });
    expect(annotations['denied-by']).toBeUndefined();
    expect(metricValue(await (bouncer as BouncerProcess).metrics(), 'bouncer_exemptions_total', { policy: 'no-e2e-deny', exception: 'load-window' })).toBeGreaterThanOrEqual(1);
    const run = await audit();
    expect(Date.now()).toBeLessThan(expiresAt);
    expect(resultsIn(run, ['exempt-first'])).toEqual(['exempt-first:skip']);
    expect(run.findings.find((f) => f.resource.name === 'exempt-first')?.exemption).toEqual({ exception: 'load-window', ticket: 'E2E-1', expiresAt: new Date(expiresAt).toISOString() });
  }, 60_000);

  it('stops applying at expiresAt while requests are flowing: none sent after it is admitted', async () => {
    const results: { sentAt: number; doneAt: number; allowed: boolean; dryRun: boolean }[] = [];
    let n = 0;
    // Load from 5 s before expiresAt to 3 s after it.
    await sleep(Math.max(0, expiresAt - 5000 - Date.now()));
    const stopAt = expiresAt + 3000;
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        while (Date.now() < stopAt && n < MAX_REQUESTS) {
          const i = n++;
          // Every other request is a dry-run create of one name (the API server still calls the webhook).
          const repeated = i % 2 === 1;
          const sentAt = Date.now();
          const r = await create(repeated ? 'exempt-repeated' : `exempt-${w}-${i}`, repeated);
          results.push({ sentAt, doneAt: Date.now(), allowed: r.allowed, dryRun: repeated });
          await sleep(10);
        }
      }),
    );
    const before = results.filter((r) => r.doneAt < expiresAt);
    const after = results.filter((r) => r.sentAt >= expiresAt);
    const straddling = results.length - before.length - after.length;
    console.log(
      `exception expiring under load: ${results.length} requests by ${WRITERS} writers; answered before expiry ${before.length} (admitted ${before.filter((r) => r.allowed).length}), ` +
        `sent after expiry ${after.length} (denied ${after.filter((r) => !r.allowed).length}), straddling ${straddling}`,
    );
    expect(before.length).toBeGreaterThan(20);
    expect(after.length).toBeGreaterThan(20);
    expect(before.filter((r) => !r.allowed)).toEqual([]);
    expect(after.filter((r) => r.allowed)).toEqual([]);
    expect(after.filter((r) => r.dryRun).length).toBeGreaterThan(0);
    // The API server's audit log agrees: no request it received at or after expiresAt carries an exemption.
    const received = (e: object) => Date.parse((e as { requestReceivedTimestamp?: string }).requestReceivedTimestamp ?? '');
    const mine = auditEvents(state, (e) => e.verb === 'create' && e.objectRef?.namespace === ns && received(e) >= expiresAt);
    expect(mine.length).toBeGreaterThan(20);
    expect(mine.filter((e) => e.annotations?.[`${hook}.bouncer.test/exempted-by`] !== undefined)).toEqual([]);
  }, 120_000);

  it('the audit after expiry reports the formerly exempted objects as violations', async () => {
    const run = await audit();
    expect(resultsIn(run, ['exempt-first', 'exempt-0-0'])).toEqual(['exempt-0-0:fail', 'exempt-first:fail']);
  }, 60_000);
});
