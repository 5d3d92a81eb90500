// Bundles that never finish loading, through the real API server: the revisions are
// real ConfigMaps, bouncer runs as its own process, and decisions are API server requests.
// The poisoned revision is a validly signed bundle whose policy.wasm start function loops
// forever; bouncer must refuse it within its load budget (BUNDLE_LOAD_TIMEOUT) while its
// probes keep answering, and on a cold start with the poisoned revision active serve the
// newest good revision of the history — or, with none, stay not ready and say why.
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startBouncer, type BouncerProcess } from '../../hack/lib/bouncer-process.js';
import { buildBundle } from '../../src/authoring/build.js';
import { webhookConfigurations } from '../../src/authoring/webhook-config.js';
import { loadBundle } from '../../src/bundles/bundle.js';
import { STATUS_PREFIX, pointerName, type ReplicaStatus } from '../../src/cluster/bundle-objects.js';
import { createBundleStore, type BundleStore } from '../../src/cluster/bundle-store.js';
import { neverLoadingBundle } from '../support/poisoned-bundles.js';
import { apiFailure, createNamespace, deleteWebhooks, kubeFor, uniqueName, waitFor } from '../support/kube.js';

const BUNDLE = 'colors';

describe.skipIf(inject('externalCluster'))('bundle load budget', () => {
  const state = inject('controlPlane');
  const kube = kubeFor(state);
  const keys = inject('signingKeys');
  const system = uniqueName('bouncer-load');
  const apps = uniqueName('apps-load');
  const hook = uniqueName('load-budget');
  const work = mkdtempSync(join(tmpdir(), 'bouncer-load-e2e-'));
  const signer = readFileSync(keys.signerPrivateFile, 'utf8');
  const files = { v1: join(work, 'v1.tar.gz'), v2: join(work, 'v2.tar.gz') };
  const started: BouncerProcess[] = [];
  let store: BundleStore;
  let poisoned: Buffer;

  const serve = async (namespace: string, replica: string, required: string) => {
    writeFileSync(join(work, 'signer.pub'), keys.signerPublic);
    const args = ['--watch-namespace', namespace, '--kubeconfig', state.kubeconfig, '--replica', replica, '--require-bundle', required, '--verification-key', join(work, 'signer.pub')];
    // 'healthy': /healthz answers. While the event loop is blocked by a load it never would.
    const proc = await startBouncer({}, args, { waitFor: 'healthy' });
    started.push(proc);
    return proc;
  };

  const decide = async (color: string): Promise<'allowed' | 'denied'> => {
    try {
      await kube.core.createNamespacedConfigMap({ namespace: apps, body: { metadata: { name: uniqueName('probe'), labels: { color } } }, dryRun: 'All' });
      return 'allowed';
    } catch (err) {
      const failure = apiFailure(err);
      if (failure.code === 403 && failure.message.includes('is not allowed')) return 'denied';
      throw err;
    }
  };

  const status = async (namespace: string, bundle: string, replica: string): Promise<ReplicaStatus | undefined> => {
    const cm = await kube.core.readNamespacedConfigMap({ namespace, name: pointerName(bundle) });
    const value = cm.metadata?.annotations?.[`${STATUS_PREFIX}${replica}`];
    return value ? (JSON.parse(value) as ReplicaStatus) : undefined;
  };

  /** /readyz within 1 s (status 0 when it does not answer: a blocked event loop). */
  const readyz = (proc: BouncerProcess) =>
    fetch(`${proc.healthUrl}/readyz`, { signal: AbortSignal.timeout(1000) }).then(async (r) => ({ status: r.status, body: await r.text() }), () => ({ status: 0, body: '' }));

  /** Counts /healthz answers (each within 1 s) until `done` holds. */
  const healthAnswersUntil = async (proc: BouncerProcess, done: () => Promise<boolean>, timeoutMs: number) => {
    const answers: number[] = [];
    const deadline = Date.now() + timeoutMs;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`not done after ${timeoutMs} ms; /healthz answered ${answers.length} times`);
      answers.push(await fetch(`${proc.healthUrl}/healthz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.status, () => 0));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return answers;
  };

  beforeAll(async () => {
    for (const [version, denied] of [['v1', 'blue'], ['v2', 'red']] as const) {
      const dir = join(work, version);
      cpSync('test/fixtures/policy-sets/colors', dir, { recursive: true });
      writeFileSync(join(dir, 'color-gate', 'data.json'), JSON.stringify({ denied: [denied] }));
      await buildBundle({ policiesDir: dir, output: files[version], opa: inject('opa'), revision: version, signing: { keyFile: keys.signerPrivateFile, algorithm: 'RS256' } });
    }
    poisoned = await neverLoadingBundle(files.v1, { signingKeyPem: signer });
    await createNamespace(kube, system);
    await createNamespace(kube, apps);
    store = createBundleStore(kube.kc, system);
    // The history before any replica starts: a good revision 1, then the poisoned revision 2 made active.
    await store.push(BUNDLE, readFileSync(files.v1), 'v1');
    await store.push(BUNDLE, poisoned, 'poisoned');
  });

  afterAll(async () => {
    await deleteWebhooks(kube, hook);
    await Promise.all(started.map((p) => p.stop()));
    rmSync(work, { recursive: true, force: true });
  });

  it('cold start with the poisoned revision active: probes answer during the load, then it serves the newest good revision and reports the refusal', async () => {
    const cold = await serve(system, 'cold', BUNDLE);
    const answers = await healthAnswersUntil(cold, async () => (await readyz(cold)).status === 200, 45_000);
    expect(answers.length).toBeGreaterThanOrEqual(3);
    expect(answers.every((s) => s === 200)).toBe(true);
    expect(await status(system, BUNDLE, 'cold')).toMatchObject({ state: 'refused', sequence: 2, code: 'BUNDLE_LOAD_TIMEOUT', serving: 1 });
    expect(cold.logs()).toContain('serving the newest older revision that loads');

    const policies = (await loadBundle(BUNDLE, readFileSync(files.v1))).policies.map((p) => p.meta);
    const configs = webhookConfigurations(policies, {
      name: hook,
      domain: `${hook}.bouncer.dev`,
      clientConfig: (endpoint) => ({ url: `${cold.url}/${endpoint}`, caBundle: Buffer.from(cold.caPem).toString('base64') }),
      excludedNamespaces: [],
      includedNamespaces: [apps],
    });
    await kube.admission.createValidatingWebhookConfiguration({ body: configs.validating as never });
    await waitFor(async () => (await decide('blue')) === 'denied', 15_000, 'revision 1 enforced through the API server');
    expect(await decide('red')).toBe('allowed');
  });

  it('refuses a poisoned push on a running replica with BUNDLE_LOAD_TIMEOUT, keeps serving the last good revision, and its probes keep answering', async () => {
    const [running] = started as [BouncerProcess];
    const good = await store.push(BUNDLE, readFileSync(files.v2), 'v2');
    await waitFor(async () => (await status(system, BUNDLE, 'cold'))?.sequence === good.pointer.sequence, 15_000, 'v2 active');
    await waitFor(async () => (await decide('red')) === 'denied', 15_000, 'v2 enforced');
    const bad = await store.push(BUNDLE, poisoned, 'poisoned-again');
    const answers = await healthAnswersUntil(running, async () => (await status(system, BUNDLE, 'cold'))?.sequence === bad.pointer.sequence, 45_000);
    expect(answers.length).toBeGreaterThanOrEqual(3);
    expect(answers.every((s) => s === 200)).toBe(true);
    expect(await status(system, BUNDLE, 'cold')).toMatchObject({ state: 'refused', code: 'BUNDLE_LOAD_TIMEOUT', serving: good.pointer.sequence });
    expect((await readyz(running)).status).toBe(200);
    expect(await decide('red')).toBe('denied');
    expect(await decide('blue')).toBe('allowed');
  });

  it('checks the published digest before loading: a pointer naming the poisoned revision with another sha256 is refused as corrupt, not loaded', async () => {
    const serving = (await status(system, BUNDLE, 'cold'))?.serving;
    const otherDigest = createHash('sha256').update(readFileSync(files.v1)).digest('hex');
    // Revision 2 holds the poisoned bytes; the pointer claims revision 1's digest for it.
    await kube.core.patchNamespacedConfigMap(
      { namespace: system, name: pointerName(BUNDLE), body: { data: { sequence: '2', revision: 'poisoned', sha256: otherDigest, action: 'rollback', publishedAt: String(Date.now()) } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await waitFor(async () => (await status(system, BUNDLE, 'cold'))?.sequence === 2, 30_000, 'the pointer to revision 2 processed');
    expect(await status(system, BUNDLE, 'cold')).toMatchObject({ state: 'refused', code: 'BUNDLE_CORRUPT', reason: expect.stringContaining('is not the published'), serving });
  });

  it('cold start with no good revision in the history: healthy, not ready, and the reason names the refused revision and its code', async () => {
    const lonely = uniqueName('bouncer-lonely');
    await createNamespace(kube, lonely);
    await createBundleStore(kube.kc, lonely).push('only', poisoned, 'poisoned');
    const proc = await serve(lonely, 'lonely', 'only');
    await waitFor(async () => (await readyz(proc)).body.includes('refused'), 45_000, 'readiness names the refusal');
    expect(await readyz(proc)).toMatchObject({ status: 503, body: expect.stringContaining('only (revision 1 refused: BUNDLE_LOAD_TIMEOUT, and no older revision loads)') });
    expect((await fetch(`${proc.healthUrl}/healthz`, { signal: AbortSignal.timeout(1000) })).status).toBe(200);
    expect(await status(lonely, 'only', 'lonely')).toMatchObject({ state: 'refused', code: 'BUNDLE_LOAD_TIMEOUT' });
  });
});
