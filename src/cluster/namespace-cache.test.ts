// The Namespace cache over client-node's real ListWatch, with the two API calls (list and
// watch) answered by an in-memory double: the paths a real API server rarely takes on
// demand (410 Gone, a failed list, a stalled connection) are driven here one by one. The
// e2e test (test/e2e/namespace-cache.test.ts) runs the same cache against kube-apiserver.
import type { V1Namespace, V1NamespaceList } from '@kubernetes/client-node';
import { describe, expect, it, vi } from 'vitest';
import { isBouncerError } from '../errors/errors.js';
import { namespaceCache, type NamespaceCacheMetrics, type NamespaceCacheOptions, type NamespaceTransport } from './namespace-cache.js';

interface FakeWatch {
  readonly query: Record<string, unknown>;
  emit(phase: string, obj: unknown): void;
  /** The server ends the watch (null: a clean close). */
  end(err?: unknown): void;
  readonly ended: boolean;
}

function namespaceObject(name: string, resourceVersion: number, labels: Record<string, string> = {}): V1Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, resourceVersion: String(resourceVersion), uid: `uid-${name}`, labels, managedFields: [{ manager: 'kubectl', operation: 'Apply' }] },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

/** The API server's side of list and watch, as far as the cache uses it. */
function apiDouble() {
  const namespaces = new Map<string, V1Namespace>();
  const watches: FakeWatch[] = [];
  let rv = 100;
  let failingLists = 0;
  let lists = 0;
  let reads = 0;
  let readGate: Promise<void> = Promise.resolve();
  let failReads = false;
  const transport: NamespaceTransport = {
    async read(name) {
      reads++;
      await readGate;
      if (failReads) throw Object.assign(new Error('Internal Server Error'), { code: 500 });
      const ns = namespaces.get(name);
      return ns ? structuredClone(ns) : undefined;
    },
    async list(): Promise<V1NamespaceList> {
      lists++;
      if (failingLists > 0) {
        failingLists--;
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
      }
      return { apiVersion: 'v1', kind: 'NamespaceList', metadata: { resourceVersion: String(rv) }, items: [...namespaces.values()].map((n) => structuredClone(n)) };
    },
    async watch(_path, query, callback, done) {
      const controller = new AbortController();
      let ended = false;
      const w: FakeWatch = {
        query,
        emit: (phase, obj) => callback(phase, obj, { type: phase, object: obj }),
        end: (err = null) => {
          if (ended) return;
          ended = true;
          done(err);
        },
        get ended() {
          return ended;
        },
      };
      // As client-node's Watch: aborting ends the watch with the abort error.
      controller.signal.addEventListener('abort', () => w.end(Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' })));
      watches.push(w);
      return controller;
    },
  };
  return {
    transport,
    watches,
    lists: () => lists,
    reads: () => reads,
    holdReads: (gate: Promise<void>) => (readGate = gate),
    failReads: (fail: boolean) => (failReads = fail),
    failNextLists: (n: number) => (failingLists = n),
    /** Stores a Namespace (as the API server would) and returns the object a watch event carries. */
    put(name: string, labels: Record<string, string> = {}): V1Namespace {
      const obj = namespaceObject(name, ++rv, labels);
      namespaces.set(name, obj);
      return obj;
    },
    remove(name: string): V1Namespace {
      const obj = namespaces.get(name) ?? namespaceObject(name, rv);
      namespaces.delete(name);
      return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++rv) } };
    },
    last: (): FakeWatch => {
      const w = watches.at(-1);
      if (!w) throw new Error('no watch started');
      return w;
    },
  };
}

function recorder() {
  const calls: string[] = [];
  let count = -1;
  const metrics: NamespaceCacheMetrics = {
    namespaces: (n) => (count = n),
    watchRestarted: (reason) => calls.push(`restart:${reason}`),
    relisted: (reason) => calls.push(`list:${reason}`),
    synced: () => undefined,
    refused: (reason) => calls.push(`refused:${reason}`),
    read: (result) => calls.push(`read:${result}`),
  };
  const warnings: string[] = [];
  const logger = { info: () => undefined, warn: (_obj: object, msg: string) => warnings.push(msg) };
  return { metrics, logger, calls, warnings, count: () => count };
}

function setup(options: Partial<NamespaceCacheOptions> = {}) {
  const api = apiDouble();
  const rec = recorder();
  const cache = namespaceCache(api.transport, { logger: rec.logger, metrics: rec.metrics, initialBackoffMs: 5, maxBackoffMs: 40, ...options });
  return { api, rec, cache };
}

const until = (check: () => boolean) => vi.waitFor(() => expect(check()).toBe(true), { timeout: 2000, interval: 5 });

describe('namespaceCache', () => {
  it('is not synced, and knows no Namespace, until the initial list is stored', async () => {
    const { api, cache } = setup();
    api.put('apps', { team: 'a' });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const list = api.transport.list;
    api.transport.list = async () => {
      await gate;
      return list();
    };
    const started = cache.start();
    await new Promise((r) => setTimeout(r, 20));
    expect(cache.synced()).toBe(false);
    expect(cache.lookup('apps')).toBeUndefined();
    release();
    await started;
    expect(cache.synced()).toBe(true);
    expect(cache.lookup('apps')).toEqual({ name: 'apps', labels: { team: 'a' } });
    await cache.close();
  });

  it('stores labels and annotations only, and watches from the list resourceVersion with bookmarks and a timeout', async () => {
    const { api, rec, cache } = setup({ watchTimeoutSeconds: () => 321 });
    const obj = api.put('apps', { team: 'a' });
    obj.metadata = { ...obj.metadata, annotations: { owner: 'alice' } };
    await cache.start();
    const info = cache.lookup('apps');
    expect(info).toStrictEqual({ name: 'apps', labels: { team: 'a' }, annotations: { owner: 'alice' } });
    expect(api.last().query).toEqual({ resourceVersion: '101', allowWatchBookmarks: true, timeoutSeconds: 321 });
    expect(rec.calls).toEqual(['list:initial']);
    expect(cache.size()).toBe(1);
    expect(rec.count()).toBe(1);
    await cache.close();
  });

  it('applies ADDED, MODIFIED and DELETED events; bookmarks only move the resourceVersion', async () => {
    const { api, rec, cache } = setup();
    await cache.start();
    api.last().emit('ADDED', api.put('a', { env: 'dev' }));
    expect(cache.lookup('a')?.labels).toEqual({ env: 'dev' });
    api.last().emit('MODIFIED', api.put('a', { env: 'prod' }));
    expect(cache.lookup('a')?.labels).toEqual({ env: 'prod' });
    expect(cache.size()).toBe(1);
    api.last().emit('BOOKMARK', { kind: 'Namespace', metadata: { resourceVersion: '555' } });
    api.last().emit('DELETED', api.remove('a'));
    expect(cache.lookup('a')).toBeUndefined();
    expect(cache.size()).toBe(0);
    expect(rec.count()).toBe(0);
    // A watch the server ends is resumed from the last resourceVersion, without a list.
    const rvAfterDelete = String(api.remove('zz').metadata?.resourceVersion);
    api.last().emit('BOOKMARK', { kind: 'Namespace', metadata: { resourceVersion: rvAfterDelete } });
    api.last().end();
    await until(() => api.watches.length === 2);
    expect(api.last().query.resourceVersion).toBe(rvAfterDelete);
    expect(rec.calls).toEqual(['list:initial', 'restart:closed']);
    await cache.close();
  });

  it.each([
    { case: 'an ERROR event with code 410, then the close', gone: (w: FakeWatch) => (w.emit('ERROR', { kind: 'Status', code: 410, reason: 'Expired' }), w.end()) },
    { case: 'a watch answered 410', gone: (w: FakeWatch) => w.end(Object.assign(new Error('Gone'), { statusCode: 410 })) },
  ])('relists on 410 Gone ($case): Namespaces deleted meanwhile go, new ones come', async ({ gone }) => {
    const { api, rec, cache } = setup();
    api.put('kept', { v: '1' });
    api.put('deleted-meanwhile');
    await cache.start();
    expect(cache.size()).toBe(2);
    api.remove('deleted-meanwhile');
    api.put('kept', { v: '2' });
    api.put('created-meanwhile');
    gone(api.last());
    await until(() => api.watches.length === 2);
    expect(rec.calls).toEqual(['list:initial', 'restart:gone', 'list:gone']);
    expect(cache.lookup('deleted-meanwhile')).toBeUndefined();
    expect(cache.lookup('kept')?.labels).toEqual({ v: '2' });
    expect(cache.lookup('created-meanwhile')).toBeDefined();
    expect(cache.size()).toBe(2);
    expect(cache.synced()).toBe(true);
    await cache.close();
  });

  it('restarts a failed watch after a backoff, from where it was, without a list', async () => {
    const { api, rec, cache } = setup();
    await cache.start();
    api.last().emit('ADDED', api.put('a'));
    const rv = api.last().query.resourceVersion;
    api.last().end(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    await until(() => api.watches.length === 2);
    expect(api.last().query.resourceVersion).not.toBe(rv);
    expect(api.lists()).toBe(1);
    expect(rec.calls).toEqual(['list:initial', 'restart:ECONNRESET']);
    expect(rec.warnings).toEqual(['namespace watch failed; restarting']);
    expect(cache.lookup('a')).toBeDefined();
    await cache.close();
  });

  it('keeps retrying a failing initial list with growing backoff; start resolves once a list succeeds', async () => {
    const { api, rec, cache } = setup({ initialBackoffMs: 5, maxBackoffMs: 20 });
    api.put('apps');
    api.failNextLists(3);
    const t0 = Date.now();
    await cache.start();
    // 5 + 10 + 20 ms of backoff at least.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(30);
    expect(rec.calls).toEqual(['list:initial', 'restart:ECONNREFUSED', 'list:error', 'restart:ECONNREFUSED', 'list:error', 'restart:ECONNREFUSED', 'list:error']);
    expect(cache.lookup('apps')).toBeDefined();
    await cache.close();
  });

  it('takes a watch open past its timeout for dead: aborts it and starts another', async () => {
    const { api, rec, cache } = setup({ watchTimeoutSeconds: () => 0.01, stallGraceMs: 10 });
    await cache.start();
    await until(() => api.watches.length >= 2);
    expect(api.watches[0]?.ended).toBe(true);
    expect(rec.calls.slice(0, 2)).toEqual(['list:initial', 'restart:stalled']);
    expect(rec.warnings).toContain('namespace watch outlived its timeout: taking the connection for dead');
    await cache.close();
  });

  describe('bound (maxNamespaces)', () => {
    it('stores at most maxNamespaces; the rest are unknown (lookups fail closed), counted, logged once', async () => {
      const { api, rec, cache } = setup({ maxNamespaces: 2 });
      for (const name of ['a', 'b', 'c']) api.put(name);
      await cache.start();
      expect(cache.size()).toBe(2);
      expect(cache.lookup('c')).toBeUndefined();
      // Known Namespaces are still kept current while full.
      api.last().emit('MODIFIED', api.put('a', { relabelled: 'yes' }));
      expect(cache.lookup('a')?.labels).toEqual({ relabelled: 'yes' });
      // A new Namespace is not stored, but the watch moves past its event.
      const d = api.put('d');
      api.last().emit('ADDED', d);
      expect(cache.lookup('d')).toBeUndefined();
      expect(rec.calls.filter((c) => c === 'refused:limit')).toHaveLength(2);
      expect(rec.warnings.filter((w) => w.startsWith('namespace cache is full'))).toHaveLength(1);
      api.last().end();
      await until(() => api.watches.length === 2);
      expect(api.last().query.resourceVersion).toBe(d.metadata?.resourceVersion);
      // A deletion makes room for the next Namespace.
      api.last().emit('DELETED', api.remove('b'));
      api.last().emit('ADDED', api.put('e'));
      expect(cache.lookup('e')).toBeDefined();
      expect(cache.size()).toBe(2);
      expect(rec.count()).toBe(2);
      await cache.close();
    });

    it('counts Namespaces cached without their annotations (over the per-Namespace bound)', async () => {
      const { api, rec, cache } = setup({ maxAnnotationChars: 10 });
      const obj = api.put('big', { l: 'v' });
      obj.metadata = { ...obj.metadata, annotations: { note: 'x'.repeat(50) } };
      await cache.start();
      expect(cache.lookup('big')).toStrictEqual({ name: 'big', labels: { l: 'v' } });
      expect(rec.calls).toContain('refused:annotations');
      await cache.close();
    });
  });

  describe('read (a lookup that missed, from the API server)', () => {
    it('reads a Namespace the watch has not delivered yet, projected, without storing it', async () => {
      const { api, rec, cache } = setup();
      await cache.start();
      const obj = api.put('just-created', { team: 'a' });
      obj.metadata = { ...obj.metadata, annotations: { owner: 'o' } };
      expect(cache.lookup('just-created')).toBeUndefined();
      expect(await cache.read('just-created')).toStrictEqual({ name: 'just-created', labels: { team: 'a' }, annotations: { owner: 'o' } });
      expect(cache.lookup('just-created')).toBeUndefined();
      expect(await cache.read('never-created')).toBeUndefined();
      expect(rec.calls.filter((c) => c.startsWith('read:'))).toEqual(['read:found', 'read:missing']);
      await cache.close();
    });

    it('reads each name once at a time, answers undefined past maxReadsInFlight, and undefined (logged) when the read fails', async () => {
      const { api, rec, cache } = setup({ maxReadsInFlight: 2 });
      await cache.start();
      for (const name of ['a', 'b', 'c']) api.put(name);
      let release: () => void = () => undefined;
      api.holdReads(new Promise<void>((r) => (release = r)));
      const burst = [cache.read('a'), cache.read('a'), cache.read('a'), cache.read('b')];
      expect(await cache.read('c')).toBeUndefined();
      release();
      const got = await Promise.all(burst);
      expect(got.map((i) => i?.name)).toEqual(['a', 'a', 'a', 'b']);
      expect(api.reads()).toBe(2);
      expect(rec.calls.filter((c) => c.startsWith('read:')).sort()).toEqual(['read:found', 'read:found', 'read:refused']);
      // Settled reads make room again.
      expect((await cache.read('c'))?.name).toBe('c');
      api.failReads(true);
      expect(await cache.read('a')).toBeUndefined();
      expect(rec.calls.at(-1)).toBe('read:error');
      expect(rec.warnings).toContain('namespace read failed');
      await cache.close();
    });
  });

  it('close stops watching: no restart after it, and a start still waiting is rejected', async () => {
    const { api, cache } = setup();
    api.failNextLists(1000);
    const started = cache.start();
    await until(() => api.lists() >= 1);
    await cache.close();
    await expect(started).rejects.toSatisfy((err: unknown) => isBouncerError(err, 'CLUSTER_FAILED'));
    const lists = api.lists();
    await new Promise((r) => setTimeout(r, 50));
    expect(api.lists()).toBe(lists);

    const second = setup();
    await second.cache.start();
    await second.cache.close();
    expect(second.api.last().ended).toBe(true);
    await new Promise((r) => setTimeout(r, 30));
    expect(second.api.watches).toHaveLength(1);
  });
});
