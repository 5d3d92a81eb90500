import { describe, expect, it } from 'vitest';
import { createInventoryStore, type InventoryStore } from './store.js';
import type { GroupVersionKind, InventoryEvent } from './types.js';

const CM: GroupVersionKind = { group: '', version: 'v1', kind: 'ConfigMap' };
const ING: GroupVersionKind = { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress' };
const bytes = (text: string) => new TextEncoder().encode(text);
/** A JSON document of exactly n bytes. */
const sized = (n: number) => bytes(`"${'x'.repeat(n - 2)}"`);

function setup(maxBytes = 1000, maxStalenessMs = 60_000) {
  let t = 1_000_000;
  const store = createInventoryStore({ maxBytes, maxStalenessMs, now: () => t });
  const events: InventoryEvent[] = [];
  store.subscribe((batch) => events.push(...batch));
  return { store, events, advance: (ms: number) => (t += ms) };
}

const names = (store: InventoryStore, kind: GroupVersionKind) => [...store.objects(kind)].map((o) => `${o.namespace}/${o.name}`).sort();

describe('createInventoryStore', () => {
  it('stores, replaces and deletes objects as JSON bytes, telling subscribers each change', () => {
    const { store, events } = setup();
    store.replaceAll(CM, []);
    store.markSynced(CM);
    expect(store.put(CM, 'a', 'one', bytes('{"v":1}'))).toBe(true);
    expect(store.put(CM, 'a', 'one', bytes('{"v":22}'))).toBe(true);
    expect(store.put(CM, '', 'two', bytes('{}'))).toBe(true);
    expect(names(store, CM)).toEqual(['/two', 'a/one']);
    expect(new TextDecoder().decode([...store.objects(CM)].find((o) => o.name === 'one')?.json)).toBe('{"v":22}');
    expect(store.stats().bytes).toBe(8 + 2);
    store.delete(CM, 'a', 'one');
    store.delete(CM, 'a', 'never-stored');
    expect(names(store, CM)).toEqual(['/two']);
    expect(store.stats().bytes).toBe(2);
    expect(events.map((e) => `${e.type} ${'name' in e ? e.name : ''}`)).toEqual(['reset ', 'put one', 'put one', 'put two', 'delete one']);
    expect(store.objects(ING)).toEqual([]);
  });

  it('replaceAll makes the kind exactly what was listed, other kinds untouched', () => {
    const { store, events } = setup();
    store.replaceAll(ING, [{ namespace: 'x', name: 'i', json: sized(10) }]);
    store.replaceAll(CM, [{ namespace: 'a', name: 'old', json: sized(10) }]);
    store.put(CM, 'a', 'gone-later', sized(10));
    events.length = 0;
    expect(store.replaceAll(CM, [{ namespace: 'a', name: 'new', json: sized(20) }])).toBe(0);
    expect(names(store, CM)).toEqual(['a/new']);
    expect(names(store, ING)).toEqual(['x/i']);
    expect(store.stats().bytes).toBe(30);
    expect(events).toEqual([{ type: 'reset', kind: CM }]);
  });

  it('health: syncing until listed, synced once listed and confirmed, error until confirmed again', () => {
    const { store } = setup();
    expect(store.health(CM).state).toBe('syncing');
    store.markSynced(CM);
    expect(store.health(CM).state).toBe('syncing');
    expect(store.listed(CM)).toBe(false);
    store.replaceAll(CM, []);
    expect(store.health(CM)).toEqual({ state: 'synced' });
    expect(store.listed(CM)).toBe(true);
    store.markError(CM, 'INVENTORY_KIND_FORBIDDEN', 'cannot watch configmaps');
    expect(store.health(CM)).toEqual({ state: 'error', code: 'INVENTORY_KIND_FORBIDDEN', reason: 'cannot watch configmaps' });
    expect(store.listed(CM)).toBe(true);
    store.markSynced(CM);
    expect(store.health(CM).state).toBe('synced');
  });

  it('staleness: stale past the bound without a confirmation, synced again on the next one (fake clock)', () => {
    const { store, advance } = setup(1000, 60_000);
    store.replaceAll(CM, []);
    store.markSynced(CM);
    advance(60_000);
    expect(store.health(CM).state).toBe('synced');
    advance(1);
    expect(store.health(CM)).toMatchObject({ state: 'stale', code: 'INVENTORY_STALE' });
    expect(store.stats().kinds[0]?.stalenessSeconds).toBeCloseTo(60.001, 3);
    store.markSynced(CM);
    expect(store.health(CM).state).toBe('synced');
    expect(store.stats().kinds[0]?.stalenessSeconds).toBe(0);
  });

  describe('the byte budget', () => {
    it('refuses an object past the budget: over-budget until it is deleted', () => {
      const { store, events } = setup(100);
      store.replaceAll(CM, []);
      expect(store.put(CM, 'a', 'fits', sized(60))).toBe(true);
      expect(store.put(CM, 'a', 'too-big', sized(50))).toBe(false);
      expect(names(store, CM)).toEqual(['a/fits']);
      expect(store.stats().bytes).toBe(60);
      expect(store.health(CM)).toMatchObject({ state: 'over-budget', code: 'INVENTORY_OVER_BUDGET' });
      expect(store.health(CM).reason).toMatch(/1 object\(s\) of v1\/ConfigMap were not stored.*100 bytes/);
      expect(store.room(CM)).toEqual({ free: 40, kindBytes: 60, refusedBytes: 50 });
      expect(store.stats().kinds[0]?.refused).toBe(1);
      expect(events.filter((e) => e.type === 'put')).toHaveLength(1);
      // Deleting the refused object: nothing is missing any more.
      store.delete(CM, 'a', 'too-big');
      expect(store.health(CM).state).toBe('synced');
    });

    it('recovers when room is made and the refused object comes again', () => {
      const { store } = setup(100);
      store.replaceAll(CM, []);
      store.put(CM, 'a', 'big', sized(80));
      expect(store.put(CM, 'a', 'late', sized(30))).toBe(false);
      // Room made: not enough by itself, the late object is still missing.
      store.delete(CM, 'a', 'big');
      expect(store.health(CM).state).toBe('over-budget');
      expect(store.put(CM, 'a', 'late', sized(30))).toBe(true);
      expect(store.health(CM).state).toBe('synced');
    });

    it('an object grown past the budget is removed, not kept at its old version', () => {
      const { store, events } = setup(100);
      store.replaceAll(CM, []);
      store.put(CM, 'a', 'other', sized(50));
      store.put(CM, 'a', 'grows', sized(40));
      events.length = 0;
      expect(store.put(CM, 'a', 'grows', sized(60))).toBe(false);
      expect(names(store, CM)).toEqual(['a/other']);
      expect(events).toEqual([{ type: 'delete', kind: CM, namespace: 'a', name: 'grows' }]);
      expect(store.health(CM).state).toBe('over-budget');
      // Shrinking or same size never refuses.
      expect(store.put(CM, 'a', 'other', sized(50))).toBe(true);
    });

    it('a relist stores what fits, counts the rest, and recovers when a later relist fits', () => {
      const { store } = setup(100);
      store.replaceAll(ING, [{ namespace: 'x', name: 'i', json: sized(40) }]);
      const listed = [1, 2, 3].map((i) => ({ namespace: 'a', name: `cm${i}`, json: sized(25) }));
      expect(store.replaceAll(CM, listed)).toBe(1);
      expect(store.stats().bytes).toBe(90);
      expect(store.health(CM).state).toBe('over-budget');
      expect(store.health(ING).state).toBe('synced');
      store.forget(ING);
      expect(store.stats().bytes).toBe(50);
      expect(store.replaceAll(CM, listed)).toBe(0);
      expect(store.health(CM).state).toBe('synced');
      expect(store.stats().bytes).toBe(75);
    });

    it('over-budget comes before stale and after error', () => {
      const { store, advance } = setup(10, 1000);
      store.replaceAll(CM, [{ namespace: '', name: 'x', json: sized(20) }]);
      advance(5000);
      expect(store.health(CM).state).toBe('over-budget');
      store.markError(CM, 'INVENTORY_KIND_FAILED', 'down');
      expect(store.health(CM).state).toBe('error');
    });
  });

  it('forget drops the kind and its bytes, with a reset; stats list every kind', () => {
    const { store, events } = setup();
    store.replaceAll(CM, [{ namespace: 'a', name: 'x', json: sized(10) }]);
    store.replaceAll(ING, [{ namespace: 'a', name: 'y', json: sized(5) }]);
    const stats = store.stats();
    expect(stats).toMatchObject({ bytes: 15, maxBytes: 1000 });
    expect(stats.kinds.map((k) => [k.key, k.objects, k.bytes, k.listed, k.health.state])).toEqual([
      ['v1/ConfigMap', 1, 10, true, 'synced'],
      ['networking.k8s.io/v1/Ingress', 1, 5, true, 'synced'],
    ]);
    events.length = 0;
    store.forget(CM);
    expect(events).toEqual([{ type: 'reset', kind: CM }]);
    expect(store.objects(CM)).toEqual([]);
    expect(store.health(CM).state).toBe('syncing');
    expect(store.stats().bytes).toBe(5);
  });

  it('unsubscribe stops the events', () => {
    const { store } = setup();
    const seen: InventoryEvent[] = [];
    const off = store.subscribe((b) => seen.push(...b));
    store.put(CM, 'a', 'x', sized(4));
    off();
    store.put(CM, 'a', 'y', sized(4));
    expect(seen).toHaveLength(1);
  });
});
