// The replicated cluster objects, as the replicator (src/cluster/inventory-replicator.ts)
// writes them and policies' data (the inventory data feed) and health checks read them.
//
// - Objects are kept as their projected JSON bytes only: nothing parsed is retained, so the
//   store's size is what it says (its budget counts exactly those bytes).
// - Budget (maxBytes): the sum of the stored JSON's byte lengths. Past it a new object, or a
//   grown version of a stored one, is refused: it is not stored (a grown object's older
//   version is removed, so the store never serves a version it knows is old), the kind is
//   'over-budget' and stays so until every refused object of the kind was stored after all
//   (its next version fitted), deleted, or the kind was relisted with room for all of it.
//   What is not counted: the per-object bookkeeping (key, Map entry, StoredObject, the
//   Uint8Array's own header) and the parsed copy each WASM instance holds of the kinds it
//   declared. Measured (bench/inventory-memory.ts, ConfigMaps of ~260 JSON bytes, after a GC):
//   the store costs 2.5-5x its JSON bytes in RSS (100k objects: 25 MiB of JSON, +62 MiB RSS;
//   ~300 B of heap per object on top of its bytes), and one OPA WASM instance holding them as
//   data ~8.9x (100k: 223 MiB of linear memory). So the process needs about
//   maxBytes x (3 + 9 x instances holding the kinds); the budget counts the JSON bytes
//   because that is what an operator can reason about and what grows with the cluster.
// - Staleness (maxStalenessMs): a kind is 'stale' when nothing confirmed it current (a list,
//   a watch event or bookmark, a watch accepted by the API server: markSynced) for longer
//   than the bound. Computed when read, from the clock given.
// - Health order: error, then syncing (never listed), then over-budget, then stale, else
//   synced. Only 'synced' may be evaluated on.
// - Events: every change is told to subscribers as it happens (one array per write), after
//   the store holds it; a reset means "what objects(kind) holds now is the truth".
import type { GroupVersionKind, InventoryEvent, InventoryView, KindHealth, KindState, StoredObject } from './types.js';
import { kindKey } from './types.js';

export interface InventoryStoreOptions {
  /** Bound on the stored JSON bytes of every kind together. */
  readonly maxBytes: number;
  /** A kind not confirmed current for longer than this is 'stale'. */
  readonly maxStalenessMs: number;
  readonly now?: () => number;
}

export interface KindStats {
  readonly kind: GroupVersionKind;
  /** kindKey(kind), the metrics label. */
  readonly key: string;
  readonly objects: number;
  readonly bytes: number;
  /** Objects of the kind refused for the budget and not stored since. */
  readonly refused: number;
  /** Seconds since the kind was last confirmed current (since it was first required if never). */
  readonly stalenessSeconds: number;
  readonly listed: boolean;
  readonly health: KindHealth;
}

export interface InventoryStats {
  readonly bytes: number;
  readonly maxBytes: number;
  readonly kinds: readonly KindStats[];
}

export interface RefusedObject {
  readonly namespace: string;
  readonly name: string;
  readonly size: number;
}

export type InventoryListener = (events: readonly InventoryEvent[]) => void;

/** The write side, used by the replicator. */
export interface InventoryStore extends InventoryView {
  /** Stores (or replaces) an object; false when the budget refused it. */
  put(kind: GroupVersionKind, namespace: string, name: string, json: Uint8Array): boolean;
  delete(kind: GroupVersionKind, namespace: string, name: string): void;
  /**
   * A relist: the kind's objects become exactly these (as many as fit) and the `refused` ones
   * (listed, known not to fit: only their names and sizes were kept); returns how many were refused.
   */
  replaceAll(kind: GroupVersionKind, objects: Iterable<StoredObject>, refused?: Iterable<RefusedObject>): number;
  /** The kind is current as of now (a list, event, bookmark, or accepted watch); clears an error. */
  markSynced(kind: GroupVersionKind): void;
  /** The kind cannot be listed or watched; objects are kept but the kind is not usable. */
  markError(kind: GroupVersionKind, code: string, reason: string): void;
  /** The kind is no longer required: its objects are dropped (subscribers get a reset). */
  forget(kind: GroupVersionKind): void;
  /** One stored object, or undefined. */
  get(kind: GroupVersionKind, namespace: string, name: string): StoredObject | undefined;
  /** True once the kind was listed (stays true across errors and relists, until forget). */
  listed(kind: GroupVersionKind): boolean;
  /** Bytes free under the budget, the kind's stored bytes, and how many bytes its refused objects need. */
  room(kind: GroupVersionKind): { readonly free: number; readonly kindBytes: number; readonly refusedBytes: number };
  subscribe(listener: InventoryListener): () => void;
  stats(): InventoryStats;
}

interface KindEntry {
  readonly kind: GroupVersionKind;
  readonly objects: Map<string, StoredObject>;
  bytes: number;
  /** Refused object key → its size. */
  readonly refused: Map<string, number>;
  listed: boolean;
  confirmedAt: number;
  error?: { code: string; reason: string };
}

const objectKey = (namespace: string, name: string): string => `${namespace}/${name}`;

export function createInventoryStore(options: InventoryStoreOptions): InventoryStore {
  const now = options.now ?? Date.now;
  const { maxBytes, maxStalenessMs } = options;
  const kinds = new Map<string, KindEntry>();
  const listeners = new Set<InventoryListener>();
  let bytes = 0;

  const entry = (kind: GroupVersionKind): KindEntry => {
    const key = kindKey(kind);
    let e = kinds.get(key);
    if (!e) {
      e = { kind: { group: kind.group, version: kind.version, kind: kind.kind }, objects: new Map(), bytes: 0, refused: new Map(), listed: false, confirmedAt: now() };
      kinds.set(key, e);
    }
    return e;
  };

  const emit = (events: readonly InventoryEvent[]): void => {
    for (const l of listeners) l(events);
  };

  const remove = (e: KindEntry, key: string): StoredObject | undefined => {
    const old = e.objects.get(key);
    if (!old) return undefined;
    e.objects.delete(key);
    e.bytes -= old.json.byteLength;
    bytes -= old.json.byteLength;
    return old;
  };

  const health = (e: KindEntry | undefined): KindHealth => {
    if (!e) return { state: 'syncing', reason: 'the kind is not replicated' };
    if (e.error) return { state: 'error', reason: e.error.reason, code: e.error.code };
    if (!e.listed) return { state: 'syncing', reason: `${kindKey(e.kind)} has not been listed yet` };
    if (e.refused.size > 0) {
      return {
        state: 'over-budget',
        code: 'INVENTORY_OVER_BUDGET',
        reason: `${e.refused.size} object(s) of ${kindKey(e.kind)} were not stored: the replicated data is at its budget of ${maxBytes} bytes`,
      };
    }
    const age = now() - e.confirmedAt;
    if (age > maxStalenessMs) {
      return { state: 'stale', code: 'INVENTORY_STALE', reason: `${kindKey(e.kind)} was last confirmed current ${Math.round(age / 1000)} s ago (bound ${Math.round(maxStalenessMs / 1000)} s)` };
    }
    return { state: 'synced' };
  };

  return {
    objects: (kind) => kinds.get(kindKey(kind))?.objects.values() ?? [],
    health: (kind) => health(kinds.get(kindKey(kind))),
    listed: (kind) => kinds.get(kindKey(kind))?.listed ?? false,
    get: (kind, namespace, name) => kinds.get(kindKey(kind))?.objects.get(objectKey(namespace, name)),

    put(kind, namespace, name, json) {
      const e = entry(kind);
      const key = objectKey(namespace, name);
      const old = e.objects.get(key);
      const growth = json.byteLength - (old?.json.byteLength ?? 0);
      if (growth > 0 && bytes + growth > maxBytes) {
        e.refused.set(key, json.byteLength);
        if (remove(e, key)) emit([{ type: 'delete', kind: e.kind, namespace, name }]);
        return false;
      }
      if (old) remove(e, key);
      e.refused.delete(key);
      e.objects.set(key, { namespace, name, json });
      e.bytes += json.byteLength;
      bytes += json.byteLength;
      emit([{ type: 'put', kind: e.kind, namespace, name, json }]);
      return true;
    },

    delete(kind, namespace, name) {
      const e = kinds.get(kindKey(kind));
      if (!e) return;
      const key = objectKey(namespace, name);
      e.refused.delete(key);
      if (remove(e, key)) emit([{ type: 'delete', kind: e.kind, namespace, name }]);
    },

    replaceAll(kind, objects, refused = []) {
      const e = entry(kind);
      bytes -= e.bytes;
      e.bytes = 0;
      e.objects.clear();
      e.refused.clear();
      for (const o of objects) {
        const key = objectKey(o.namespace, o.name);
        const size = o.json.byteLength;
        const prior = e.objects.get(key)?.json.byteLength ?? 0;
        if (bytes + size - prior > maxBytes) {
          e.refused.set(key, size);
          continue;
        }
        e.objects.set(key, { namespace: o.namespace, name: o.name, json: o.json });
        e.bytes += size - prior;
        bytes += size - prior;
      }
      for (const o of refused) e.refused.set(objectKey(o.namespace, o.name), o.size);
      e.listed = true;
      emit([{ type: 'reset', kind: e.kind }]);
      return e.refused.size;
    },

    markSynced(kind) {
      const e = entry(kind);
      e.confirmedAt = now();
      delete e.error;
    },

    markError(kind, code, reason) {
      entry(kind).error = { code, reason };
    },

    forget(kind) {
      const key = kindKey(kind);
      const e = kinds.get(key);
      if (!e) return;
      bytes -= e.bytes;
      kinds.delete(key);
      emit([{ type: 'reset', kind: e.kind }]);
    },

    room(kind) {
      const e = kinds.get(kindKey(kind));
      let refusedBytes = 0;
      for (const size of e?.refused.values() ?? []) refusedBytes += size;
      return { free: Math.max(0, maxBytes - bytes), kindBytes: e?.bytes ?? 0, refusedBytes };
    },

    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    stats() {
      const t = now();
      const out: KindStats[] = [];
      for (const [key, e] of kinds) {
        out.push({
          kind: e.kind,
          key,
          objects: e.objects.size,
          bytes: e.bytes,
          refused: e.refused.size,
          stalenessSeconds: Math.max(0, (t - e.confirmedAt) / 1000),
          listed: e.listed,
          health: health(e),
        });
      }
      return { bytes, maxBytes, kinds: out };
    },
  };
}

/** The states a kind can be in, for a state gauge that sets one to 1 and the others to 0. */
export const KIND_STATES: readonly KindState[] = ['syncing', 'synced', 'stale', 'over-budget', 'error'];
