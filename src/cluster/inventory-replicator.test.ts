// The replicator's loop against a scripted transport: the faults a real API server does not
// produce on demand (lines that do not parse, a watch that errors repeatedly, a stalled
// connection, a failing discovery). The real API server paths are in
// test/e2e/inventory-replication.test.ts.
import { describe, expect, it } from 'vitest';
import { createInventoryStore } from '../inventory/store.js';
import { inventoryReplicator, type InventoryMetrics } from './inventory-replicator.js';
import { KubeApiError, type InventoryTransport, type ListPage, type WatchHandlers } from './inventory-transport.js';

const CM = { group: '', version: 'v1', kind: 'ConfigMap', status: false };
const cm = (name: string, rv: string) => ({ metadata: { name, namespace: 'a', resourceVersion: rv }, data: {} });

interface Watch {
  readonly path: string;
  readonly resourceVersion: string;
  readonly handlers: WatchHandlers;
  aborted: boolean;
}

function scripted() {
  const watches: Watch[] = [];
  const lists: string[] = [];
  let items: unknown[] = [cm('one', '10')];
  let listFailure: (() => unknown) | undefined;
  let resources: InventoryTransport['resources'] = async () => [{ name: 'configmaps', kind: 'ConfigMap', namespaced: true }];
  const transport: InventoryTransport = {
    resources: (gv) => resources(gv),
    async list(path): Promise<ListPage> {
      lists.push(path);
      if (listFailure) throw listFailure();
      return { items, resourceVersion: '10', continue: undefined };
    },
    watch(path, query, handlers) {
      const w: Watch = { path, resourceVersion: query.resourceVersion, handlers, aborted: false };
      watches.push(w);
      queueMicrotask(() => handlers.onOpen());
      return () => {
        w.aborted = true;
        const err = new Error('aborted');
        err.name = 'AbortError';
        handlers.onDone(err);
      };
    },
  };
  return {
    transport,
    watches,
    lists,
    setItems: (v: unknown[]) => (items = v),
    failLists: (f: (() => unknown) | undefined) => (listFailure = f),
    setResources: (r: InventoryTransport['resources']) => (resources = r),
    current: () => watches.at(-1)!,
  };
}

function counting() {
  const counts: Record<string, number> = {};
  const bump = (k: string) => (counts[k] = (counts[k] ?? 0) + 1);
  const metrics: InventoryMetrics = {
    objects() {},
    bytes() {},
    staleness() {},
    kindState() {},
    kindError: (_k, code) => bump(`error:${code}`),
    refused: (_k, reason) => bump(`refused:${reason}`),
    relisted: (_k, reason) => bump(`relist:${reason}`),
    watchRestarted: (_k, reason) => bump(`restart:${reason}`),
    forgotten: () => bump('forgotten'),
  };
  return { counts, metrics };
}

function logs() {
  const lines: { obj: Record<string, unknown>; msg: string }[] = [];
  const at = (obj: object, msg: string) => void lines.push({ obj: obj as Record<string, unknown>, msg });
  return { lines, logger: { info: at, warn: at } };
}

async function until(check: () => boolean, what: string, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function setup(extra: Partial<Parameters<typeof inventoryReplicator>[1]> = {}) {
  const t = scripted();
  const store = createInventoryStore({ maxBytes: 1 << 20, maxStalenessMs: 60_000 });
  const m = counting();
  const log = logs();
  const replicator = inventoryReplicator(t.transport, { store, logger: log.logger, metrics: m.metrics, initialBackoffMs: 5, maxBackoffMs: 20, tickMs: 10, ...extra });
  const names = () => [...store.objects(CM)].map((o) => o.name).sort();
  return { t, store, m, log, replicator, names };
}

describe('inventoryReplicator', () => {
  it('lists then watches from the list resourceVersion at the discovered path; events update the store', async () => {
    const { t, store, replicator, names } = setup();
    replicator.require([CM]);
    await until(() => t.watches.length === 1, 'a watch');
    expect(t.lists).toEqual(['/api/v1/configmaps']);
    expect(t.current()).toMatchObject({ path: '/api/v1/configmaps', resourceVersion: '10' });
    expect(names()).toEqual(['one']);
    t.current().handlers.onEvent('ADDED', cm('two', '11'));
    t.current().handlers.onEvent('DELETED', cm('one', '12'));
    expect(names()).toEqual(['two']);
    expect(store.health(CM).state).toBe('synced');
    // Ended by the server: resumed from the last resourceVersion seen, not relisted.
    t.current().handlers.onEvent('BOOKMARK', { metadata: { resourceVersion: '15' } });
    t.current().handlers.onDone(undefined);
    await until(() => t.watches.length === 2, 'a second watch');
    expect(t.current().resourceVersion).toBe('15');
    expect(t.lists).toHaveLength(1);
    await replicator.close();
    expect(t.current().aborted).toBe(true);
  });

  it('skips what does not parse, with INVENTORY_OBJECT_INVALID, and keeps the stream', async () => {
    const { t, m, log, replicator, names } = setup();
    t.setItems([cm('one', '10'), { metadata: {} }, 'junk']);
    replicator.require([CM]);
    await until(() => t.watches.length === 1, 'a watch');
    t.current().handlers.onInvalid('{not json');
    t.current().handlers.onEvent('ADDED', { metadata: { namespace: 'a' } });
    t.current().handlers.onEvent('ADDED', cm('after', '11'));
    expect(names()).toEqual(['after', 'one']);
    expect(m.counts['refused:invalid']).toBe(4);
    expect(log.lines.filter((l) => l.obj.code === 'INVENTORY_OBJECT_INVALID')).toHaveLength(4);
    expect(t.watches).toHaveLength(1);
    await replicator.close();
  });

  it('an ERROR event 410 relists; other watch failures relist after backoff, and become an error only when repeated', async () => {
    const { t, store, m, replicator } = setup({ failuresBeforeError: 2 });
    replicator.require([CM]);
    await until(() => t.watches.length === 1, 'a watch');
    t.current().handlers.onEvent('ERROR', { kind: 'Status', code: 410, message: 'too old resource version' });
    await until(() => t.lists.length === 2, 'a relist');
    expect(m.counts['relist:gone']).toBe(1);
    // The API server failing: the list fails too; the first failure alone is not an outage.
    await until(() => t.watches.length === 2, 'the watch after the relist');
    t.failLists(() => new KubeApiError(500, 'InternalError', 'etcd unavailable'));
    t.current().handlers.onDone(new KubeApiError(500, 'InternalError', 'etcd unavailable'));
    await until(() => t.lists.length >= 3, 'a failed relist');
    await until(() => store.health(CM).state === 'error', 'the kind an error after repeated failures');
    expect(store.health(CM)).toMatchObject({ code: 'INVENTORY_KIND_FAILED' });
    expect(store.health(CM).reason).toContain('etcd unavailable');
    expect(m.counts['error:INVENTORY_KIND_FAILED']).toBeGreaterThanOrEqual(2);
    t.failLists(undefined);
    await until(() => store.health(CM).state === 'synced', 'recovered');
    expect(replicator.readiness()).toEqual({ ready: true, reasons: [] });
    await replicator.close();
  });

  it('a watch open past its timeout is taken for dead and restarted from where it was', async () => {
    const { t, m, replicator } = setup({ watchTimeoutSeconds: () => 0.02, stallGraceMs: 10 });
    replicator.require([CM]);
    await until(() => t.watches.length === 1, 'a watch');
    t.current().handlers.onEvent('MODIFIED', cm('one', '13'));
    await until(() => t.watches.length === 2, 'the stalled watch restarted');
    expect(t.watches[0]?.aborted).toBe(true);
    expect(t.current().resourceVersion).toBe('13');
    expect(m.counts['restart:stalled']).toBeGreaterThanOrEqual(1);
    expect(t.lists).toHaveLength(1);
    await replicator.close();
  });

  it('discovery failing or not finding the kind is an error with a reason, retried until it appears', async () => {
    const { t, store, replicator } = setup();
    t.setResources(async () => [{ name: 'secrets', kind: 'Secret', namespaced: true }]);
    replicator.require([CM]);
    await until(() => store.health(CM).state === 'error', 'an error');
    expect(store.health(CM)).toMatchObject({ code: 'INVENTORY_KIND_UNAVAILABLE', reason: 'the API server serves v1 but no kind ConfigMap in it' });
    expect(replicator.readiness().ready).toBe(false);
    t.setResources(async () => {
      throw new KubeApiError(403, 'Forbidden', 'discovery forbidden');
    });
    await until(() => store.health(CM).code === 'INVENTORY_KIND_FORBIDDEN', 'forbidden');
    expect(store.health(CM).reason).toMatch(/may not discover configmap/);
    t.setResources(async () => [{ name: 'configmaps', kind: 'ConfigMap', namespaced: true }]);
    await until(() => store.health(CM).state === 'synced', 'synced once served');
    await replicator.close();
  });

  it('a list broken mid-way (the API server restarting) leaves the store as it was, then lists again from the start', async () => {
    const t = scripted();
    const pages = [[cm('p1', '20')], [cm('p2', '20')]];
    let brokenOnce = true;
    const continues: (string | undefined)[] = [];
    t.transport.list = async (_path, query) => {
      continues.push(query.continue);
      if (query.continue === 'page-2' && brokenOnce) {
        brokenOnce = false;
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      }
      const last = query.continue === 'page-2';
      return { items: last ? pages[1]! : pages[0]!, resourceVersion: '20', continue: last ? undefined : 'page-2' };
    };
    const store = createInventoryStore({ maxBytes: 1 << 20, maxStalenessMs: 60_000 });
    store.replaceAll(CM, [{ namespace: 'a', name: 'old', json: new TextEncoder().encode('{}') }]);
    const events: string[] = [];
    store.subscribe((b) => events.push(...b.map((e) => e.type)));
    const replicator = inventoryReplicator(t.transport, { store, logger: logs().logger, initialBackoffMs: 5, pageSize: 1 });
    replicator.require([CM]);
    await until(() => t.watches.length === 1, 'a watch after the second list');
    expect(continues).toEqual([undefined, 'page-2', undefined, 'page-2']);
    // One reset, after the complete list: never a half-listed kind.
    expect(events).toEqual(['reset']);
    expect([...store.objects(CM)].map((o) => o.name)).toEqual(['p1', 'p2']);
    expect(store.health(CM).state).toBe('synced');
    await replicator.close();
  });

  it('a list larger than the budget keeps only what fits (names of the rest), over-budget, relisted once room is made', async () => {
    const t = scripted();
    t.setItems([cm('a1', '10'), cm('a2', '10'), cm('a3', '10')]);
    const size = new TextEncoder().encode(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', ...cm('a1', '10') })).byteLength;
    const store = createInventoryStore({ maxBytes: size * 2 + 1, maxStalenessMs: 60_000 });
    const m = counting();
    const log = logs();
    const replicator = inventoryReplicator(t.transport, { store, logger: log.logger, metrics: m.metrics, initialBackoffMs: 5, tickMs: 10 });
    replicator.require([CM]);
    await until(() => t.watches.length === 1, 'a watch');
    expect([...store.objects(CM)].map((o) => o.name)).toEqual(['a1', 'a2']);
    expect(store.health(CM).state).toBe('over-budget');
    expect(m.counts['refused:budget']).toBe(1);
    expect(log.lines.filter((l) => l.obj.code === 'INVENTORY_OVER_BUDGET').length).toBeGreaterThanOrEqual(1);
    // a1 deleted: room for a3; the tick relists and the kind is whole again.
    t.setItems([cm('a2', '11'), cm('a3', '11')]);
    t.current().handlers.onEvent('DELETED', cm('a1', '11'));
    await until(() => store.health(CM).state === 'synced', 'synced after the relist');
    expect(m.counts['relist:budget']).toBe(1);
    expect([...store.objects(CM)].map((o) => o.name).sort()).toEqual(['a2', 'a3']);
    await replicator.close();
  });

  it('require: one runner per kind whoever asks, stops and forgets kinds no longer required, restarts one whose status flag changed', async () => {
    const { t, store, m, replicator } = setup();
    replicator.require([CM, { ...CM }]);
    await until(() => t.watches.length === 1, 'a watch');
    replicator.require([CM]);
    expect(t.watches).toHaveLength(1);
    replicator.require([{ ...CM, status: true }, CM]);
    await until(() => t.watches.length === 2, 'a new watch for the status projection');
    expect(t.watches[0]?.aborted).toBe(true);
    expect(t.lists).toHaveLength(2);
    replicator.require([]);
    expect(t.current().aborted).toBe(true);
    expect([...store.objects(CM)]).toEqual([]);
    expect(m.counts.forgotten).toBe(1);
    expect(replicator.synced()).toBe(true);
    await replicator.close();
  });
});
