// Drills on the real control plane: bouncer is killed under admission load, once behind a
// failurePolicy Fail webhook and once behind Ignore, to show what the API server does in
// each — and that with Fail (bouncer's default for validation) no violating request is
// admitted while bouncer is down.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startBouncer, type BouncerProcess } from '../../hack/lib/bouncer-process.js';
import { freePort } from '../../hack/lib/control-plane.js';
import { apiFailure, createNamespace, deleteWebhooks, kubeFor, uniqueName } from '../support/kube.js';
import { registerUrlWebhook } from '../support/url-webhook.js';

type Tally = { admitted: number; admittedViolating: number; denied: number; webhookFailed: number; other: string[] };

describe.skipIf(inject('externalCluster'))('drills: bouncer killed under load', () => {
  const state = inject('controlPlane');
  const kube = kubeFor(state);
  const basic = inject('bundles').basic as string;
  const hooks: string[] = [];
  const processes: BouncerProcess[] = [];

  afterAll(async () => {
    for (const hook of hooks) await deleteWebhooks(kube, hook);
    await Promise.all(processes.map((p) => p.stop()));
  });

  async function drill(failurePolicy: 'Fail' | 'Ignore'): Promise<{ before: Tally; during: Tally; after: Tally }> {
    const ns = uniqueName(`drill-${failurePolicy.toLowerCase()}`);
    const hook = uniqueName('drill');
    hooks.push(hook);
    await createNamespace(kube, ns);
    const port = await freePort();
    let bouncer = await startBouncer({ basic }, ['--port', String(port)]);
    processes.push(bouncer);
    const register = (b: BouncerProcess) => registerUrlWebhook({ kube, name: hook, bundleFile: basic, namespace: ns, failurePolicy, timeoutSeconds: 2 }, b);
    await register(bouncer);
    const load = async (ms: number, tag: string): Promise<Tally> => {
      const t: Tally = { admitted: 0, admittedViolating: 0, denied: 0, webhookFailed: 0, other: [] };
      const until = Date.now() + ms;
      for (let i = 0; Date.now() < until && i < 2000; i++) {
        const violating = i % 2 === 0;
        try {
          await kube.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: `${tag}-${i}`, labels: violating ? { deny: 'true' } : {} } }, dryRun: 'All' });
          t.admitted++;
          if (violating) t.admittedViolating++;
        } catch (err) {
          const f = apiFailure(err);
          if (f.message.includes('carries the deny label')) t.denied++;
          else if (f.message.includes('failed calling webhook')) t.webhookFailed++;
          else t.other.push(`${f.code} ${f.message}`);
        }
      }
      return t;
    };
    const before = await load(1500, 'before');
    await bouncer.stop('SIGKILL');
    const during = await load(2500, 'during');
    bouncer = await startBouncer({ basic }, ['--port', String(port)]);
    processes.push(bouncer);
    await register(bouncer);
    const after = await load(1500, 'after');
    console.log(`drill failurePolicy=${failurePolicy}: before ${JSON.stringify(before)} during ${JSON.stringify(during)} after ${JSON.stringify(after)}`);
    return { before, during, after };
  }

  it('with failurePolicy Fail: while bouncer is down every write is refused, so no violating request is admitted', async () => {
    const { before, during, after } = await drill('Fail');
    expect(before.admittedViolating).toBe(0);
    expect(before.denied).toBeGreaterThan(0);
    expect(during.admitted).toBe(0);
    expect(during.admittedViolating).toBe(0);
    expect(during.webhookFailed).toBeGreaterThan(0);
    expect(during.other).toEqual([]);
    expect(after.admittedViolating).toBe(0);
    expect(after.admitted).toBeGreaterThan(0);
  }, 60_000);

  it('with failurePolicy Ignore: while bouncer is down the API server admits everything, violating requests included', async () => {
    const { before, during, after } = await drill('Ignore');
    expect(before.admittedViolating).toBe(0);
    expect(during.webhookFailed).toBe(0);
    expect(during.admittedViolating).toBeGreaterThan(0);
    expect(after.admittedViolating).toBe(0);
  }, 60_000);
});
