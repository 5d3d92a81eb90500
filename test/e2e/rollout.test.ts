// Safe rollout of a bundle on the real API server, two bouncer replicas watching the bundle
// ConfigMaps: a stricter candidate as a shadow (its disagreements seen live, never enforced),
// conflicting pushes refused, a canary on one namespace that denies legitimate traffic rolled
// back automatically within its window without ever denying a request outside its slice, and
// a good canary promoted after its window, a replica restarted mid-canary recovering it from
// the pointer.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startBouncer, type BouncerProcess } from '../../hack/lib/bouncer-process.js';
import { buildBundle } from '../../src/authoring/build.js';
import { webhookConfigurations } from '../../src/authoring/webhook-config.js';
import { loadBundle } from '../../src/bundles/bundle.js';
import { ROLLOUT_PREFIX, pointerName, readPointer } from '../../src/cluster/bundle-objects.js';
import { createBundleStore } from '../../src/cluster/bundle-store.js';
import { DEFAULT_PROMOTION_POLICY } from '../../src/cluster/rollout-objects.js';
import { main as cli } from '../../src/cli/main.js';
import { metricValue } from '../support/metrics.js';
import { apiFailure, createNamespace, deleteWebhooks, kubeFor, uniqueName, waitFor, waitForAudit } from '../support/kube.js';

const BUNDLE = 'colors';

describe.skipIf(inject('externalCluster'))('rollout: shadow, canary, promotion and rollback', () => {
  const state = inject('controlPlane');
  const kube = kubeFor(state);
  const system = uniqueName('bouncer-sys');
  const canaryNs = uniqueName('canary');
  const prodNs = uniqueName('prod');
  const hook = uniqueName('rollout');
  const work = mkdtempSync(join(tmpdir(), 'bouncer-rollout-e2e-'));
  const files: Record<'v1' | 'strict' | 'good', string> = { v1: '', strict: '', good: '' };
  const replicas: Record<string, BouncerProcess> = {};

  const run = async (...args: string[]) => {
    let out = '';
    let err = '';
    const code = await cli(args, { env: { KUBECONFIG: state.kubeconfig }, stdout: (t) => (out += t), stderr: (t) => (err += t) });
    return { code, out, err };
  };

  /** A ConfigMap of this color created through the API server (dry run): the answer the webhook gave. */
  const send = async (namespace: string, color: string, name = uniqueName('cm')): Promise<{ name: string; result: 'allowed' | 'denied' }> => {
    try {
      await kube.core.createNamespacedConfigMap({ namespace, body: { metadata: { name, labels: { color } } }, dryRun: 'All' });
      return { name, result: 'allowed' };
    } catch (err) {
      const failure = apiFailure(err);
      if (failure.code === 403 && failure.message.includes('is not allowed')) return { name, result: 'denied' };
      throw err;
    }
  };

  const pointer = async () => {
    const cm = await kube.core.readNamespacedConfigMap({ namespace: system, name: pointerName(BUNDLE) });
    return { pointer: readPointer(cm), annotations: cm.metadata?.annotations ?? {} };
  };

  const replicaArgs = (replica: string) => [
    '--watch-namespace', system, '--kubeconfig', state.kubeconfig, '--replica', replica, '--require-bundle', BUNDLE,
    '--rollout-interval', '300ms', '--audit', 'off',
  ];
  const start = (replica: string) => startBouncer({}, replicaArgs(replica), { waitFor: 'healthy' });

  beforeAll(async () => {
    for (const [version, denied] of [['v1', ['blue']], ['strict', ['blue', 'red']], ['good', ['blue', 'purple']]] as const) {
      const dir = join(work, version);
      cpSync('test/fixtures/policy-sets/colors', dir, { recursive: true });
      writeFileSync(join(dir, 'color-gate', 'data.json'), JSON.stringify({ denied }));
      files[version] = join(work, `${version}.tar.gz`);
      await buildBundle({ policiesDir: dir, output: files[version], opa: inject('opa'), revision: version });
    }
    await createNamespace(kube, system);
    await createNamespace(kube, canaryNs, { env: 'canary' });
    await createNamespace(kube, prodNs, { env: 'prod' });
    [replicas['replica-1'], replicas['replica-2']] = await Promise.all([start('replica-1'), start('replica-2')]);
    const r1 = replicas['replica-1'] as BouncerProcess;
    const policies = (await loadBundle(BUNDLE, readFileSync(files.v1))).policies.map((p) => p.meta);
    const configs = webhookConfigurations(policies, {
      name: hook,
      domain: `${hook}.bouncer.dev`,
      clientConfig: (endpoint) => ({ url: `${r1.url}/${endpoint}`, caBundle: Buffer.from(r1.caPem).toString('base64') }),
      excludedNamespaces: [],
      includedNamespaces: [canaryNs, prodNs],
    });
    await kube.admission.createValidatingWebhookConfiguration({ body: configs.validating as never });
    const pushed = await run('push', files.v1, '--name', BUNDLE, '-n', system);
    expect(pushed.code).toBe(0);
    await waitFor(async () => (await r1.readyz()).status === 200 && (await replicas['replica-2']?.readyz())?.status === 200, 20_000, 'both replicas ready');
    await waitFor(async () => (await send(prodNs, 'blue')).result === 'denied', 20_000, 'v1 enforced');
  });

  afterAll(async () => {
    await deleteWebhooks(kube, hook);
    await Promise.all(Object.values(replicas).map((r) => r.stop()));
    rmSync(work, { recursive: true, force: true });
  });

  it('a stricter shadow is never enforced; its disagreements are exactly the requests it would newly deny', async () => {
    const r1 = replicas['replica-1'] as BouncerProcess;
    const shadow = await run('push', files.strict, '--name', BUNDLE, '-n', system, '--shadow');
    expect(shadow.err).toBe('');
    expect(JSON.parse(shadow.out)).toMatchObject({ mode: 'shadow', sequence: 2, active: 1 });
    await waitFor(async () => (await r1.metrics()).includes('bouncer_rollout_candidate{bundle="colors",mode="shadow"} 1'), 20_000, 'shadow staged on replica-1');

    const sent: { name: string; color: string; result: string }[] = [];
    for (let i = 0; i < 12; i++) {
      const color = ['red', 'green', 'red', 'yellow'][i % 4] as string;
      sent.push({ ...(await send(i % 2 === 0 ? prodNs : canaryNs, color)), color });
    }
    expect(sent.every((s) => s.result === 'allowed')).toBe(true);
    const red = sent.filter((s) => s.color === 'red').map((s) => s.name).sort();
    await waitFor(async () => metricValue(await r1.metrics(), 'bouncer_shadow_disagreements_total', { policy: 'color-gate', kind: 'denied' }) === red.length, 10_000, 'disagreements counted');
    // Each disagreement is a decision event with both verdicts, for exactly the red requests.
    const events = r1
      .logs()
      .split('\n')
      .filter((l) => l.includes('"role":"shadow"'))
      .map((l) => (JSON.parse(l) as { decision: { request: { name: string }; allowed: boolean; shadow: { sequence: number; compared_with: { allowed: boolean }; disagreements: unknown[] } } }).decision);
    expect(events.map((e) => e.request.name).sort()).toEqual(red);
    for (const e of events) expect(e).toMatchObject({ allowed: false, shadow: { sequence: 2, compared_with: { allowed: true }, disagreements: [{ policy: 'color-gate', kind: 'denied' }] } });
    const rates = `compared ${sent.length}, disagreed ${red.length} (50.00%), newly denied ${red.length} (50.00%), skipped 0, failed 0, timed out 0`;
    await waitFor(async () => (await run('status', '-n', system)).out.includes(rates), 10_000, 'status shows the shadow rates');
    const status = await run('status', '-n', system);
    expect(status.out).toMatch(/shadow: revision 2 \(strict\)/);
    expect(status.out).toMatch(/reported by replica-1, replica-2/);
  });

  it('refuses conflicting pushes while a candidate is in progress, then rolls the shadow back', async () => {
    const canary = await run('push', files.good, '--name', BUNDLE, '-n', system, '--canary', 'percent=10');
    expect(canary.code).toBe(2);
    expect(canary.err).toMatch(/ROLLOUT_CONFLICT: bundle colors: revision 2 \(strict\) is already in progress as a shadow/);
    const plain = await run('push', files.good, '--name', BUNDLE, '-n', system);
    expect(plain.err).toMatch(/ROLLOUT_CONFLICT/);
    expect((await pointer()).pointer).toMatchObject({ sequence: 1, shadow: { sequence: 2 } });
    const rolled = await run('rollback', BUNDLE, '-n', system);
    expect(rolled.code).toBe(0);
    const after = (await pointer()).pointer;
    expect(after?.sequence).toBe(1);
    expect(after?.shadow).toBeUndefined();
    await waitFor(async () => !(await replicas['replica-1']?.metrics())?.includes('bouncer_rollout_candidate{'), 10_000, 'shadow unstaged');
    const history = await run('history', BUNDLE, '-n', system);
    expect(history.out).toMatch(/push +revision 1 \(v1\) by cli/);
    expect(history.out).toMatch(/shadow +revision 2 \(strict\) by cli/);
    expect(history.out).toMatch(/rollback +revision 2 \(strict\) by cli: shadow rolled back by hand/);
  });

  it('a canary candidate that does not load keeps the active revision serving, is reported, and is rolled back', async () => {
    const r1 = replicas['replica-1'] as BouncerProcess;
    // Past the CLI's own check: bytes no replica can load, stored as the store would store any revision.
    const store = createBundleStore(kube.kc, system);
    const { pointer: staged } = await store.push(BUNDLE, Buffer.from('not a bundle'), 'broken', { candidate: { mode: 'canary', slice: { percent: 100 }, policy: { ...DEFAULT_PROMOTION_POLICY, windowMs: 60_000 } } });
    const sequence = staged.canary?.sequence;
    await waitFor(async () => metricValue(await r1.metrics(), 'bouncer_rollout_candidate_refusals_total', { bundle: BUNDLE, code: 'BUNDLE_CORRUPT' }) === 1, 20_000, 'candidate refused');
    expect((await send(prodNs, 'blue')).result).toBe('denied');
    expect((await send(prodNs, 'red')).result).toBe('allowed');
    await waitFor(async () => !(await pointer()).pointer?.canary, 20_000, 'the refused canary rolled back');
    const p = (await pointer()).pointer;
    expect(p?.sequence).toBe(1);
    expect(p?.history?.at(-1)).toMatchObject({ action: 'rollback', sequence, reason: expect.stringMatching(/^the candidate did not load on replica-/) });
    const events = await kube.core.listNamespacedEvent({ namespace: system });
    expect(events.items.some((e) => e.reason === 'CandidateRefused' && e.message?.includes(`canary revision ${sequence} refused by replica-1: BUNDLE_CORRUPT`))).toBe(true);
  });

  it('a canary on one namespace that denies legitimate traffic is rolled back automatically within its window; nothing outside the slice was denied by it', async () => {
    const r1 = replicas['replica-1'] as BouncerProcess;
    const rollbacks = async () =>
      (await Promise.all(Object.values(replicas).map(async (r) => metricValue(await r.metrics(), 'bouncer_rollout_steps_total', { bundle: BUNDLE, action: 'rollback' }) || 0))).reduce((a, b) => a + b, 0);
    const before = await rollbacks();
    // shadow → canary: the shadow's own bytes pushed with --canary turn it into the canary.
    const shadowed = await run('push', files.strict, '--name', BUNDLE, '-n', system, '--shadow');
    const shadowSequence = (JSON.parse(shadowed.out) as { sequence: number }).sequence;
    const started = Date.now();
    const pushed = await run(
      'push', files.strict, '--name', BUNDLE, '-n', system,
      '--canary', `namespaces=env=canary`, '--canary-window', '60s', '--canary-min-reviews', '5', '--canary-max-deny-rate-increase', '0.1',
    );
    expect(pushed.err).toBe('');
    const sequence = (JSON.parse(pushed.out) as { sequence: number }).sequence;
    expect(sequence).toBe(shadowSequence);
    expect((await pointer()).pointer?.history?.at(-1)).toMatchObject({ action: 'canary', sequence, reason: 'the shadow became a canary' });
    await waitFor(async () => (await r1.metrics()).includes('bouncer_rollout_candidate{bundle="colors",mode="canary"} 1'), 20_000, 'canary staged');
    // Red is legitimate traffic the candidate wrongly denies; it is sent in both namespaces until the canary is gone.
    const outside: string[] = [];
    const inside: string[] = [];
    let canaryDenials = 0;
    for (let i = 0; i < 400; i++) {
      const p = (await pointer()).pointer;
      if (!p?.canary) break;
      const a = await send(prodNs, 'red');
      outside.push(a.result);
      const b = await send(canaryNs, 'red');
      inside.push(b.result);
      if (b.result === 'denied') canaryDenials++;
    }
    const p = (await pointer()).pointer;
    expect(p?.canary).toBeUndefined();
    expect(p?.sequence).toBe(1);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(outside.length).toBeGreaterThan(0);
    expect(outside.filter((r) => r === 'denied')).toHaveLength(0);
    expect(canaryDenials).toBeGreaterThanOrEqual(5);
    const step = p?.history?.at(-1);
    expect(step).toMatchObject({ action: 'rollback', sequence, by: expect.stringMatching(/^bouncer\/replica-[12]$/), reason: expect.stringMatching(/deny rate .* exceeds the allowed increase/) });
    // After the rollback, red in the canary namespace is allowed again (v1).
    await waitFor(async () => (await send(canaryNs, 'red')).result === 'allowed', 10_000, 'v1 again in the canary namespace');
    expect((await rollbacks()) - before).toBe(1);
    const events = await kube.core.listNamespacedEvent({ namespace: system });
    expect(events.items.some((e) => e.reason === 'CanaryRolledBack' && e.message?.includes(`canary revision ${sequence} (strict) rolled back`))).toBe(true);
    console.log(`canary rollback: ${inside.length} canary-namespace reviews (${canaryDenials} denied by the candidate), ${outside.length} outside, 0 denied outside; rolled back ${((Date.now() - started) / 1000).toFixed(1)} s after the push`);
  });

  it('a good canary is promoted after its window; a replica restarted mid-canary takes the canary from the pointer', async () => {
    const pushed = await run('push', files.good, '--name', BUNDLE, '-n', system, '--canary', 'namespaces=env=canary', '--canary-window', '4s', '--canary-min-reviews', '5');
    expect(pushed.err).toBe('');
    const sequence = (JSON.parse(pushed.out) as { sequence: number }).sequence;
    // replica-2 crashes and comes back mid-canary.
    await replicas['replica-2']?.stop('SIGKILL');
    replicas['replica-2'] = await start('replica-2');
    await waitFor(async () => {
      const report = (await pointer()).annotations[`${ROLLOUT_PREFIX}replica-2`];
      return report !== undefined && (JSON.parse(report) as { candidate: { sequence: number; state: string } }).candidate.sequence === sequence;
    }, 20_000, 'replica-2 reports the canary after its restart');
    expect(JSON.parse((await pointer()).annotations[`${ROLLOUT_PREFIX}replica-2`] as string)).toMatchObject({ candidate: { mode: 'canary', sequence, state: 'loaded' } });

    const inSlice = await send(canaryNs, 'green');
    expect(inSlice.result).toBe('allowed');
    const audit = await waitForAudit(state, (e) => e.verb === 'create' && e.objectRef?.name === inSlice.name);
    expect(audit.annotations).toMatchObject({ [`validate.${hook}.bouncer.dev/rollout-role`]: 'canary', [`validate.${hook}.bouncer.dev/canary-revisions`]: `colors#${sequence}` });
    for (let i = 0; i < 200; i++) {
      if (!(await pointer()).pointer?.canary) break;
      expect((await send(canaryNs, 'red')).result).toBe('allowed');
      expect((await send(prodNs, 'green')).result).toBe('allowed');
    }
    const p = (await pointer()).pointer;
    expect(p?.history?.at(-1)).toMatchObject({ action: 'promote', sequence, reason: expect.stringMatching(/within thresholds for the whole window/) });
    expect(p).toMatchObject({ sequence, action: 'promote' });
    await waitFor(async () => (await send(prodNs, 'purple')).result === 'denied', 10_000, 'the promoted revision enforced everywhere');
  });
});
