// Objects as deep as the API server accepts go through bouncer like any other: a custom
// resource (no schema, so no depth limit but the JSON decoder's 10,000 levels) created,
// denied and updated through the real API server, with bouncer as its validating and
// mutating webhook and the decision log carrying the input. Before, /mutate's patch
// combining and the decision log's masking recursed (structuredClone, JSON.stringify) and
// overflowed the stack: the API server got a 500 denial even when no policy was in scope.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startBouncer, type BouncerProcess } from '../../hack/lib/bouncer-process.js';
import { deepChainLeaf, jsonDepth, KUBERNETES_MAX_JSON_DEPTH } from '../support/deep.js';
import { kubectl } from '../support/kubectl.js';
import { createNamespace, deleteWebhooks, kubeFor, registerMutatingWebhook, registerValidatingWebhook, uniqueName, waitFor } from '../support/kube.js';
import { startSink, type Sink } from '../support/sink.js';

const GROUP = 'deep.bouncer.test';

const CRD = JSON.stringify({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `deeps.${GROUP}` },
  spec: {
    group: GROUP,
    scope: 'Namespaced',
    names: { plural: 'deeps', singular: 'deep', kind: 'Deep', listKind: 'DeepList' },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
});

/** A Deep object's JSON text, `depth` levels deep counting its own braces, built as text (JSON.stringify could not). */
function deepText(name: string, depth: number, labels?: Record<string, string>): string {
  const metadata = JSON.stringify({ name, ...(labels ? { labels } : {}) });
  // Levels: the object (1), spec and the chain under it (depth - 2), the innermost {"leaf":true} (1).
  const chain = depth - 2;
  return `{"apiVersion":"${GROUP}/v1","kind":"Deep","metadata":${metadata},"spec":${'{"a":'.repeat(chain)}{"leaf":true}${'}'.repeat(chain)}}`;
}

type Event = {
  endpoint: string;
  allowed: boolean;
  request: { name: string; operation: string };
  policies: { policy: string; action: string; error?: unknown }[];
  input?: { object: { metadata: Record<string, unknown>; spec: unknown } | null; oldObject: { spec: unknown } | null };
};

describe.skipIf(inject('externalCluster'))('objects as deep as the API server accepts', () => {
  const state = inject('controlPlane');
  const kube = kubeFor(state);
  const ns = uniqueName('deep');
  const hook = uniqueName('deep');
  const spool = mkdtempSync(join(tmpdir(), 'bouncer-deep-spool-'));
  const bundle = inject('bundles').deep as string;
  let sink: Sink;
  let bouncer: BouncerProcess;
  const path = (name = '') => `/apis/${GROUP}/v1/namespaces/${ns}/deeps${name ? `/${name}` : ''}`;
  const events = (name: string, operation: string) => (sink.events as unknown as Event[]).filter((e) => e.request.name === name && e.request.operation === operation);

  beforeAll(async () => {
    const crd = kubectl(state, ['apply', '-f', '-'], CRD);
    expect(crd.stderr).toBe('');
    expect(kubectl(state, ['wait', '--for=condition=Established', `crd/deeps.${GROUP}`, '--timeout=30s']).code).toBe(0);
    sink = await startSink();
    await createNamespace(kube, ns);
    bouncer = await startBouncer({ deep: bundle }, ['--decision-log-url', sink.url, '--decision-log-input', '--decision-log-spool', spool]);
    const rules = [{ apiGroups: [GROUP], apiVersions: ['v1'], resources: ['deeps'], operations: ['CREATE', 'UPDATE'] as string[] }];
    const common = { caPem: bouncer.caPem, rules, namespaces: [ns], timeoutSeconds: 10 };
    await registerMutatingWebhook(kube, { name: hook, url: `${bouncer.url}/mutate`, ...common });
    await registerValidatingWebhook(kube, { name: hook, url: `${bouncer.url}/validate`, ...common });
    // Both registrations in effect: a dry-run create is annotated (mutate) and refused for its label (validate).
    await waitFor(
      () => {
        const probe = kubectl(state, ['create', '--raw', `${path()}?dryRun=All`, '-f', '-'], deepText('probe', 5, { deny: 'true' }));
        return probe.stderr.includes('carries the deny label');
      },
      20_000,
      'webhooks in effect',
    );
    await waitFor(() => kubectl(state, ['create', '--raw', `${path()}?dryRun=All`, '-f', '-'], deepText('probe', 5)).stdout.includes('deep.bouncer.test/seen'), 20_000, 'mutating webhook in effect');
  }, 120_000);

  afterAll(async () => {
    await deleteWebhooks(kube, hook);
    await bouncer?.stop();
    await sink?.close();
    kubectl(state, ['delete', 'namespace', ns, '--wait=false']);
    rmSync(spool, { recursive: true, force: true });
  });

  it('creates one at the limit: both mutating policies combined, the decision logged with its input', async () => {
    const text = deepText('deepest', KUBERNETES_MAX_JSON_DEPTH);
    expect(jsonDepth(text)).toBe(KUBERNETES_MAX_JSON_DEPTH);
    // One level more is what the API server refuses itself: this is its limit, not ours.
    const over = kubectl(state, ['create', '--raw', `${path()}?dryRun=All`, '-f', '-'], deepText('over', KUBERNETES_MAX_JSON_DEPTH + 1));
    expect(over.stderr).toContain('exceeded max depth');

    const created = kubectl(state, ['create', '--raw', path(), '-f', '-'], text);
    expect(created.stderr).toBe('');
    const stored = JSON.parse(created.stdout) as { metadata: { annotations?: Record<string, string>; labels?: Record<string, string> }; spec: unknown };
    expect(stored.metadata.annotations).toEqual({ 'deep.bouncer.test/seen': 'true' });
    expect(stored.metadata.labels).toEqual({ 'deep.bouncer.test/checked': 'true' });
    expect(deepChainLeaf(stored.spec)).toEqual({ leaf: true });
    expect(jsonDepth(created.stdout)).toBe(KUBERNETES_MAX_JSON_DEPTH);

    await waitFor(() => events('deepest', 'CREATE').length >= 2, 15_000, 'decision events delivered');
    const logged = events('deepest', 'CREATE');
    expect(logged.map((e) => [e.endpoint, e.allowed]).sort()).toEqual([['mutate', true], ['validate', true]]);
    for (const e of logged) {
      expect(e.policies.filter((p) => p.error !== undefined)).toEqual([]);
      expect(deepChainLeaf(e.input?.object?.spec)).toEqual({ leaf: true });
    }
    expect(logged.find((e) => e.endpoint === 'mutate')?.policies.map((p) => [p.policy, p.action])).toEqual([
      ['deep-annotate', 'mutate'],
      ['deep-label', 'mutate'],
    ]);
  });

  it('denies one at the limit by its policy, not by an error', () => {
    const denied = kubectl(state, ['create', '--raw', path(), '-f', '-'], deepText('denied', KUBERNETES_MAX_JSON_DEPTH, { deny: 'true' }));
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/Deep \\?"denied\\?" carries the deny label/);
    expect(denied.stderr).not.toMatch(/internal error|failed to evaluate/);
  });

  it('updates one at the limit, with no policy in scope', async () => {
    const current = kubectl(state, ['get', '--raw', path('deepest')]);
    expect(current.stderr).toBe('');
    const changed = current.stdout.replace('"deep.bouncer.test/checked":"true"', '"deep.bouncer.test/checked":"true","updated":"yes"');
    expect(changed).not.toBe(current.stdout);
    const updated = kubectl(state, ['replace', '--raw', path('deepest'), '-f', '-'], changed);
    expect(updated.stderr).toBe('');
    expect((JSON.parse(updated.stdout) as { metadata: { labels: Record<string, string> } }).metadata.labels.updated).toBe('yes');

    await waitFor(() => events('deepest', 'UPDATE').length >= 2, 15_000, 'decision events delivered');
    for (const e of events('deepest', 'UPDATE')) {
      expect(e.allowed).toBe(true);
      expect(e.policies).toEqual([]);
      expect(deepChainLeaf(e.input?.oldObject?.spec)).toEqual({ leaf: true });
    }
  });
});
