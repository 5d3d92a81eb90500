// Gatekeeper ConstraintTemplates and Constraints next to a native policy, through the real
// kube-apiserver: one bundle built from test/fixtures/policy-sets/gatekeeper (a template,
// three constraints with different parameters and namespace selectors, a native policy) is
// pushed as a ConfigMap revision, bouncer watches it and the cluster's Namespaces, and the
// webhook is registered with the rules `bouncer manifests` renders from the constraints.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BUILTIN_RESOURCES } from '../../src/authoring/builtin-resources.js';
import { constraintScopes } from '../../src/authoring/constraint-scopes.js';
import { webhookConfigurations } from '../../src/authoring/webhook-config.js';
import { loadBundle } from '../../src/bundles/bundle.js';
import { main as cli } from '../../src/cli/main.js';
import { startBouncer, type BouncerProcess } from '../../hack/lib/bouncer-process.js';
import { apiFailure, createNamespace, deleteWebhooks, kubeFor, uniqueName, waitFor, waitForAudit } from '../support/kube.js';

const BUNDLE = 'gatekeeper';

describe.skipIf(inject('externalCluster'))('Gatekeeper constraints through the real API server', () => {
  const state = inject('controlPlane');
  const kube = kubeFor(state);
  const system = uniqueName('bouncer-gk');
  const nsA = uniqueName('tier-a');
  const nsB = uniqueName('tier-b');
  const nsNone = uniqueName('tier-none');
  const hook = uniqueName('gatekeeper');
  let bouncer: BouncerProcess;

  /** The answer for a ConfigMap with these labels in `namespace` (dry run through the API server). */
  const attempt = async (namespace: string, labels: Record<string, string>) => {
    try {
      const response = await kube.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: uniqueName('cm'), labels } }, dryRun: 'All' });
      return { allowed: true as const, message: '', name: response.metadata?.name ?? '' };
    } catch (err) {
      const failure = apiFailure(err);
      if (failure.code !== 403) throw err;
      return { allowed: false as const, message: failure.message, name: '' };
    }
  };

  beforeAll(async () => {
    const file = inject('bundles')[BUNDLE] as string;
    await createNamespace(kube, system);
    await createNamespace(kube, nsA, { tier: 'a' });
    await createNamespace(kube, nsB, { tier: 'b' });
    await createNamespace(kube, nsNone);
    let out = '';
    const code = await cli(['push', file, '--name', BUNDLE, '-n', system], { env: { KUBECONFIG: state.kubeconfig }, stdout: (t) => (out += t), stderr: (t) => (out += t) });
    expect(code, out).toBe(0);
    bouncer = await startBouncer({}, ['--watch-namespace', system, '--kubeconfig', state.kubeconfig, '--replica', 'gk-1', '--require-bundle', BUNDLE]);
    const bundle = await loadBundle(BUNDLE, readFileSync(file));
    const configs = webhookConfigurations([...bundle.policies.map((p) => p.meta), ...constraintScopes(bundle.manifest.gatekeeper, BUILTIN_RESOURCES)], {
      name: hook,
      domain: `${hook}.bouncer.dev`,
      clientConfig: (endpoint) => ({ url: `${bouncer.url}/${endpoint}`, caBundle: Buffer.from(bouncer.caPem).toString('base64') }),
      excludedNamespaces: [],
      includedNamespaces: [nsA, nsB, nsNone],
    });
    await kube.admission.createValidatingWebhookConfiguration({ body: configs.validating as never });
    await waitFor(async () => !(await attempt(nsA, {})).allowed, 30_000, 'the webhook answering');
  });

  afterAll(async () => {
    await deleteWebhooks(kube, hook);
    await bouncer?.stop();
  });

  it('renders rules from the constraints: ConfigMaps, CREATE and UPDATE', async () => {
    const bundle = await loadBundle(BUNDLE, readFileSync(inject('bundles')[BUNDLE] as string));
    const rules = webhookConfigurations(constraintScopes(bundle.manifest.gatekeeper, BUILTIN_RESOURCES), {
      name: 'x',
      clientConfig: () => ({ url: 'https://127.0.0.1/validate' }),
      excludedNamespaces: [],
    }).validating.webhooks[0]?.rules;
    expect(rules).toEqual([{ apiGroups: [''], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['configmaps'], scope: '*' }]);
  });

  it('decides each namespace by the constraint whose namespaceSelector selects it, with its own parameters', async () => {
    const a = await attempt(nsA, { app: 'x' });
    expect(a.allowed).toBe(false);
    expect(a.message).toContain(`[team-a-owner] `);
    expect(a.message).toContain(`in namespace ${nsA} (team a) is missing labels ["owner"]`);
    expect(a.message).not.toContain('team-b-cost-center');
    expect((await attempt(nsA, { app: 'x', owner: 'me' })).allowed).toBe(true);

    const b = await attempt(nsB, { app: 'x', owner: 'me' });
    expect(b.allowed).toBe(false);
    expect(b.message).toContain(`[team-b-cost-center] `);
    expect(b.message).toContain('(team b) is missing labels ["cost-center"]');
    expect((await attempt(nsB, { app: 'x', 'cost-center': '42' })).allowed).toBe(true);

    // No tier label: no constraint selects the namespace.
    expect((await attempt(nsNone, {})).allowed).toBe(true);
  });

  it('warns under a warn constraint and still denies by the native policy of the same bundle', async () => {
    const created = await kube.core.createNamespacedConfigMap({ namespace: nsA, body: { metadata: { name: uniqueName('warned'), labels: { owner: 'me' } } }, dryRun: 'All' });
    expect(created.metadata?.labels).toEqual({ owner: 'me' });
    const native = await attempt(nsNone, { 'native-deny': 'true' });
    expect(native.allowed).toBe(false);
    expect(native.message).toContain('[native-gate] the native-deny label is set');
  });

  it('names the constraints in the audit log', async () => {
    if (state.auditLog === '') return;
    const name = uniqueName('audited');
    await kube.core.createNamespacedConfigMap({ namespace: nsB, body: { metadata: { name, labels: { owner: 'me' } } } }).catch(() => undefined);
    const event = await waitForAudit(state, (e) => e.objectRef?.name === name && e.objectRef?.namespace === nsB && e.stage === 'ResponseComplete');
    const prefix = `validate.${hook}.bouncer.dev`;
    expect(event.annotations?.[`${prefix}/denied-by`]).toBe('ConfigMapLabels/team-b-cost-center');
    expect(event.annotations?.[`${prefix}/warned-by`]).toBe('ConfigMapLabels/everyone-should-have-app');
  });

  it('follows a Namespace relabelled out of one selector and into another (measured)', async () => {
    const times: number[] = [];
    for (const [from, to] of [['a', 'b'], ['b', 'a'], ['a', 'b'], ['b', 'a'], ['a', 'b'], ['b', 'a']] as const) {
      const before = await attempt(nsA, { app: 'x' });
      expect(before.message).toContain(from === 'a' ? '[team-a-owner]' : '[team-b-cost-center]');
      const started = performance.now();
      await kube.core.patchNamespace({ name: nsA, body: [{ op: 'replace', path: '/metadata/labels/tier', value: to }] });
      const wanted = to === 'a' ? '[team-a-owner]' : '[team-b-cost-center]';
      await waitFor(async () => (await attempt(nsA, { app: 'x' })).message.includes(wanted), 10_000, `decisions in ${nsA} follow tier=${to}`);
      times.push(performance.now() - started);
    }
    times.sort((x, y) => x - y);
    console.log(`namespace relabel → decision change through the API server: median ${times[3]?.toFixed(0)} ms, max ${times[5]?.toFixed(0)} ms (${times.length} relabels)`);
  });
});
