// The inventory replicator (src/cluster/inventory-replicator.ts) and store
// (src/inventory/store.ts) against the real kube-apiserver: objects created before and after
// start, updates and deletes, a relist after 410 Gone keeping the store exact, a missing CRD
// (an error, picked up once created, an error again once deleted), RBAC forbidding one kind,
// the byte budget (over-budget, an Event, recovery when room is made), and the memory of N
// replicated ConfigMaps (measured, printed).
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { KubeConfig } from '@kubernetes/client-node';
import { restartApiserver } from '../../hack/lib/control-plane.js';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createEventRecorder } from '../../src/cluster/event-recorder.js';
import { createInventoryReplicator, inventoryReplicator, type InventoryReplicator, type ReplicatedKind } from '../../src/cluster/inventory-replicator.js';
import { kubeInventoryTransport, type InventoryTransport } from '../../src/cluster/inventory-transport.js';
import { createInventoryStore, type InventoryStore } from '../../src/inventory/store.js';
import type { GroupVersionKind, InventoryEvent } from '../../src/inventory/types.js';
import { kubectl } from '../support/kubectl.js';
import { createNamespace, kubeFor, uniqueName, waitFor } from '../support/kube.js';

const CM: ReplicatedKind = { group: '', version: 'v1', kind: 'ConfigMap', status: false };
const SECRET: ReplicatedKind = { group: '', version: 'v1', kind: 'Secret', status: false };

function quietLogger() {
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  const at = (level: string) => (obj: object, msg: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { lines, logger: { info: at('info'), warn: at('warn') } };
}

const decode = (json: Uint8Array) => JSON.parse(new TextDecoder().decode(json)) as { metadata: { name: string; resourceVersion: string; labels?: Record<string, string> }; data?: Record<string, string> };

/**
 * name → resourceVersion of the kind's objects in one namespace, as the store holds them; less
 * the ConfigMap a real cluster's controller-manager puts in every namespace (kube-root-ca.crt),
 * which the local plane, having no controller-manager, never has.
 */
function storedIn(store: InventoryStore, kind: GroupVersionKind, namespace: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of store.objects(kind)) if (o.namespace === namespace && o.name !== 'kube-root-ca.crt') out[o.name] = decode(o.json).metadata.resourceVersion;
  return out;
}

async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await work(items[next++] as T);
  }));
}

/** The test control plane's kubeconfig, acting as `user` (impersonation). */
function kubeConfigAs(file: string, user: string): KubeConfig {
  const base = new KubeConfig();
  base.loadFromFile(file);
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: base.clusters, contexts: base.contexts, currentContext: base.currentContext, users: base.users.map((u) => ({ ...u, impersonateUser: user })) });
  return kc;
}

const crd = (group: string, plural: string, kind: string) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${plural}.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: { plural, singular: plural.slice(0, -1), kind, listKind: `${kind}List` },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
});

describe('inventory replication on a real API server', () => {
  const state = inject('controlPlane');
  const external = inject('externalCluster');
  const kube = kubeFor(state);
  const namespaces: string[] = [];
  const replicators: InventoryReplicator[] = [];
  const fast = { initialBackoffMs: 100, maxBackoffMs: 1000, tickMs: 200 };

  const newNamespace = async () => {
    const name = uniqueName('inv');
    await createNamespace(kube, name);
    namespaces.push(name);
    return name;
  };
  const configMap = (namespace: string, name: string, data: Record<string, string> = {}) =>
    kube.core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data } });
  const replicate = (store: InventoryStore, kinds: readonly ReplicatedKind[], extra: Partial<Parameters<typeof createInventoryReplicator>[0]> = {}) => {
    const log = quietLogger();
    const r = createInventoryReplicator({ kubeConfig: kube.kc, store, logger: log.logger, ...fast, ...extra });
    replicators.push(r);
    r.require(kinds);
    return { replicator: r, log };
  };

  afterAll(async () => {
    for (const r of replicators) await r.close();
    for (const ns of namespaces) await kube.core.deleteNamespace({ name: ns }).catch(() => undefined);
  });

  it('replicates objects created before and after start, their updates and deletes, projected', async () => {
    const ns = await newNamespace();
    await configMap(ns, 'before', { a: '1' });
    const store = createInventoryStore({ maxBytes: 64 << 20, maxStalenessMs: 60_000 });
    const events: InventoryEvent[] = [];
    store.subscribe((batch) => events.push(...batch));
    const { replicator } = replicate(store, [CM]);
    expect(replicator.readiness().ready).toBe(false);
    await waitFor(() => replicator.synced(), 10_000, 'the initial list');
    expect(replicator.readiness()).toEqual({ ready: true, reasons: [] });
    expect(store.health(CM)).toEqual({ state: 'synced' });
    expect(Object.keys(storedIn(store, CM, ns))).toEqual(['before']);
    expect(events[0]).toEqual({ type: 'reset', kind: { group: '', version: 'v1', kind: 'ConfigMap' } });

    // Applied with kubectl: the last-applied annotation and managedFields are not stored.
    const applied = kubectl(state, ['apply', '-n', ns, '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after', labels: { l: 'x' } }, data: { b: '2' } }));
    expect(applied.code, applied.stderr).toBe(0);
    await waitFor(() => 'after' in storedIn(store, CM, ns), 10_000, 'the new ConfigMap replicated');
    const after = [...store.objects(CM)].find((o) => o.namespace === ns && o.name === 'after');
    const object = decode(after!.json) as Record<string, unknown> & ReturnType<typeof decode>;
    expect(object).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', data: { b: '2' }, metadata: { name: 'after', namespace: ns, labels: { l: 'x' } } });
    expect(JSON.stringify(object)).not.toMatch(/managedFields|last-applied-configuration/);

    await kube.core.replaceNamespacedConfigMap({ namespace: ns, name: 'before', body: { metadata: { name: 'before' }, data: { a: 'changed' } } });
    await waitFor(() => [...store.objects(CM)].some((o) => o.name === 'before' && o.namespace === ns && decode(o.json).data?.a === 'changed'), 10_000, 'the update replicated');
    await kube.core.deleteNamespacedConfigMap({ namespace: ns, name: 'before' });
    await waitFor(() => !('before' in storedIn(store, CM, ns)), 10_000, 'the delete replicated');
    expect(events.some((e) => e.type === 'delete' && e.name === 'before' && e.namespace === ns)).toBe(true);

    // The same kind required again (another policy): one watch, nothing relisted; dropped: forgotten.
    replicator.require([CM, { ...CM }]);
    expect(store.health(CM).state).toBe('synced');
    replicator.require([]);
    expect([...store.objects(CM)]).toEqual([]);
    expect(replicator.readiness()).toEqual({ ready: true, reasons: [] });
  });

  it('a kind whose CRD is missing is an error, picked up once the CRD is created, an error again once it is deleted', async () => {
    const group = `${uniqueName('repl')}.bouncer.test`;
    const widget: ReplicatedKind = { group, version: 'v1', kind: 'Widget', status: false };
    const store = createInventoryStore({ maxBytes: 64 << 20, maxStalenessMs: 60_000 });
    const { replicator, log } = replicate(store, [widget, CM]);
    await waitFor(() => store.health(widget).state === 'error', 10_000, 'the missing kind an error');
    expect(store.health(widget)).toMatchObject({ code: 'INVENTORY_KIND_UNAVAILABLE' });
    expect(store.health(widget).reason).toContain(`does not serve ${group}/v1`);
    expect(replicator.readiness().ready).toBe(false);
    expect(replicator.readiness().reasons.join('\n')).toMatch(new RegExp(`${group}/v1/Widget: error \\(INVENTORY_KIND_UNAVAILABLE\\)`));
    expect(log.lines.some((l) => l.obj.code === 'INVENTORY_KIND_UNAVAILABLE' && l.level === 'warn')).toBe(true);

    const created = kubectl(state, ['apply', '-f', '-'], JSON.stringify(crd(group, 'widgets', 'Widget')));
    expect(created.code, created.stderr).toBe(0);
    try {
      expect(kubectl(state, ['wait', '--for=condition=Established', `crd/widgets.${group}`, '--timeout=30s']).code).toBe(0);
      const ns = await newNamespace();
      const w = kubectl(state, ['apply', '-n', ns, '-f', '-'], JSON.stringify({ apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3 }, status: { phase: 'dropped' } }));
      expect(w.code, w.stderr).toBe(0);
      await waitFor(() => store.health(widget).state === 'synced' && 'w1' in storedIn(store, widget, ns), 30_000, 'the kind synced once its CRD exists');
      expect(replicator.readiness()).toEqual({ ready: true, reasons: [] });
      const stored = [...store.objects(widget)][0]!;
      expect(decode(stored.json)).toMatchObject({ apiVersion: `${group}/v1`, kind: 'Widget', spec: { size: 3 } });
    } finally {
      expect(kubectl(state, ['delete', 'crd', `widgets.${group}`, '--wait=true', '--timeout=60s']).code).toBe(0);
    }
    await waitFor(() => store.health(widget).state === 'error', 30_000, 'the kind an error once its CRD is deleted');
    expect(store.health(widget).code).toBe('INVENTORY_KIND_UNAVAILABLE');
    expect(store.health(CM).state).toBe('synced');
  }, 120_000);

  it.skipIf(external)('RBAC forbidding one kind: that kind is an error naming the verb and resource, the others replicate', async () => {
    const user = uniqueName('inventory-reader');
    const rbac = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: user }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'] }] },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: { name: user },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: user },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
        },
      ],
    };
    expect(kubectl(state, ['apply', '-f', '-'], JSON.stringify(rbac)).code).toBe(0);
    try {
      const store = createInventoryStore({ maxBytes: 64 << 20, maxStalenessMs: 60_000 });
      const { replicator, log } = replicate(store, [CM, SECRET], { kubeConfig: kubeConfigAs(state.kubeconfig, user) });
      await waitFor(() => store.health(SECRET).state === 'error' && store.health(CM).state === 'synced', 10_000, 'secrets forbidden, configmaps synced');
      const h = store.health(SECRET);
      expect(h.code).toBe('INVENTORY_KIND_FORBIDDEN');
      expect(h.reason).toContain('may not list secrets in API group ""');
      expect(h.reason).toContain('resources: ["secrets"], verbs: ["list", "watch"]');
      console.log(`inventory: the health of a forbidden kind: ${JSON.stringify(h)}`);
      expect(replicator.readiness().ready).toBe(false);
      expect(log.lines.some((l) => l.obj.code === 'INVENTORY_KIND_FORBIDDEN')).toBe(true);
    } finally {
      kubectl(state, ['delete', 'clusterrolebinding,clusterrole', user, '--ignore-not-found']);
    }
  });

  it('past the byte budget: objects refused, over-budget with an Event, usable again once room is made', async () => {
    const ns = await newNamespace();
    // What the kind holds elsewhere in the cluster, so the budget is set relative to it.
    const probe = createInventoryStore({ maxBytes: 64 << 20, maxStalenessMs: 60_000 });
    const { replicator: p } = replicate(probe, [CM]);
    await waitFor(() => p.synced(), 10_000);
    const base = probe.stats().bytes;
    await p.close();
    const big = 'x'.repeat(2000);
    await configMap(ns, 'one', { big });
    const store = createInventoryStore({ maxBytes: base + 3000, maxStalenessMs: 60_000 });
    const events = createEventRecorder({ kubeConfig: kube.kc, involvedObject: { apiVersion: 'v1', kind: 'Namespace', namespace: ns, name: ns }, component: 'bouncer-e2e', logger: quietLogger().logger });
    const { replicator, log } = replicate(store, [CM], { events });
    await waitFor(() => replicator.synced(), 10_000);
    expect(store.health(CM).state).toBe('synced');
    await configMap(ns, 'two', { big });
    await waitFor(() => store.health(CM).state === 'over-budget', 10_000, 'over-budget');
    expect(store.health(CM)).toMatchObject({ code: 'INVENTORY_OVER_BUDGET' });
    expect(Object.keys(storedIn(store, CM, ns))).toEqual(['one']);
    expect(store.stats().bytes).toBeLessThanOrEqual(base + 3000);
    expect(log.lines.some((l) => l.obj.code === 'INVENTORY_OVER_BUDGET')).toBe(true);
    await waitFor(async () => (await kube.core.listNamespacedEvent({ namespace: ns })).items.some((e) => e.reason === 'InventoryOverBudget' && e.type === 'Warning'), 10_000, 'a Warning Event');
    // Room made: 'one' deleted; the refused 'two' is fetched again by a relist.
    await kube.core.deleteNamespacedConfigMap({ namespace: ns, name: 'one' });
    await waitFor(() => store.health(CM).state === 'synced', 10_000, 'usable again');
    expect(Object.keys(storedIn(store, CM, ns))).toEqual(['two']);
    expect(log.lines.filter((l) => l.msg === 'inventory kind listed').map((l) => l.obj.reason)).toEqual(['initial', 'budget']);
  });

  it('memory of N replicated ConfigMaps (BOUNCER_E2E_INVENTORY_OBJECTS, default 2,000): store bytes and process RSS (measured, printed)', async () => {
    const ns = await newNamespace();
    // Creating ConfigMaps runs at ~40/s on a loaded 2-core machine: 10,000 take ~4 min, so the
    // default is smaller; BOUNCER_E2E_INVENTORY_OBJECTS=10000 for the measurement.
    const n = Number(process.env.BOUNCER_E2E_INVENTORY_OBJECTS ?? 2000);
    const t0 = performance.now();
    const names = Array.from({ length: n }, (_, i) => `cm-${i}`);
    await inParallel(names, 16, (name) => configMap(ns, name, { key: `value-of-${name}` }));
    const createMs = performance.now() - t0;
    // A full GC around each reading, so the deltas are what is retained (the flag set at run time exposes gc).
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage();
    const store = createInventoryStore({ maxBytes: 1 << 30, maxStalenessMs: 60_000 });
    const t1 = performance.now();
    const { replicator } = replicate(store, [CM], { pageSize: 500 });
    await waitFor(() => replicator.synced(), 120_000, 'the initial list');
    const listMs = performance.now() - t1;
    const held = Object.keys(storedIn(store, CM, ns)).length;
    expect(held).toBe(n);
    await new Promise((r) => setTimeout(r, 500));
    gc();
    const after = process.memoryUsage();
    const stats = store.stats();
    const mib = (b: number) => (b / (1 << 20)).toFixed(1);
    console.log(
      `inventory: ${n} ConfigMaps created in ${(createMs / 1000).toFixed(1)} s; listed (pages of 500) and stored in ${listMs.toFixed(0)} ms; ` +
        `store ${stats.bytes} JSON bytes (${(stats.bytes / stats.kinds[0]!.objects).toFixed(0)} per object); ` +
        `process RSS ${mib(before.rss)} -> ${mib(after.rss)} MiB (+${mib(after.rss - before.rss)}), heap used +${mib(after.heapUsed - before.heapUsed)} MiB, ` +
        `arrayBuffers +${mib(after.arrayBuffers - before.arrayBuffers)} MiB (after a full GC; the replicator and its transport included)`,
    );
    expect(stats.bytes).toBeGreaterThan(n * 100);
    await replicator.close();
    await inParallel(names, 16, (name) => kube.core.deleteNamespacedConfigMap({ namespace: ns, name }).catch(() => undefined));
  }, 900_000);
  // Last: restarts the shared kube-apiserver.
  it.skipIf(external)('relists after 410 Gone and the store is exact again (changes made while away, then a kube-apiserver restart)', async () => {
    const ns = await newNamespace();
    await configMap(ns, 'kept');
    await configMap(ns, 'deleted-while-away');
    // The real transport, but the first watch waits until the test has changed objects and
    // restarted the kube-apiserver: its new watch cache starts past the list's resourceVersion,
    // so the watch from it is answered 410 Gone (what a long disconnection or compaction gives).
    const real = kubeInventoryTransport(kube.kc);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let watches = 0;
    const transport: InventoryTransport = {
      resources: (gv) => real.resources(gv),
      list: (path, query, signal) => real.list(path, query, signal),
      watch(path, query, handlers) {
        if (watches++ > 0) return real.watch(path, query, handlers);
        let abort: (() => void) | undefined;
        void released.then(() => (abort = real.watch(path, query, handlers)));
        return () => abort?.();
      },
    };
    const store = createInventoryStore({ maxBytes: 64 << 20, maxStalenessMs: 60_000 });
    const log = quietLogger();
    const replicator = inventoryReplicator(transport, { store, logger: log.logger, ...fast });
    replicators.push(replicator);
    replicator.require([CM]);
    await waitFor(() => replicator.synced(), 10_000, 'the initial list');
    expect(Object.keys(storedIn(store, CM, ns)).sort()).toEqual(['deleted-while-away', 'kept']);
    await configMap(ns, 'created-while-away');
    await kube.core.deleteNamespacedConfigMap({ namespace: ns, name: 'deleted-while-away' });
    await kube.core.replaceNamespacedConfigMap({ namespace: ns, name: 'kept', body: { metadata: { name: 'kept' }, data: { v: 'new' } } });
    await restartApiserver(state.dir, 500);
    release();
    await waitFor(() => log.lines.some((l) => l.msg.includes('410 Gone')), 30_000, 'the watch answered 410 Gone');
    const sorted = (o: Record<string, string>) => JSON.stringify(Object.entries(o).sort());
    const truth = async () => Object.fromEntries((await kube.core.listNamespacedConfigMap({ namespace: ns })).items.map((c) => [c.metadata!.name!, c.metadata!.resourceVersion!]));
    await waitFor(async () => sorted(storedIn(store, CM, ns)) === sorted(await truth()), 30_000, 'the store equal to the API server after the relist');
    expect(Object.keys(storedIn(store, CM, ns)).sort()).toEqual(['created-while-away', 'kept']);
    expect(store.health(CM).state).toBe('synced');
    expect(log.lines.filter((l) => l.msg === 'inventory kind listed').map((l) => l.obj.reason)).toEqual(['initial', 'gone']);
    // And the watch after the relist works.
    await configMap(ns, 'after-relist');
    await waitFor(() => 'after-relist' in storedIn(store, CM, ns), 10_000, 'a ConfigMap created after the relist');
  }, 120_000);
});
