// Turns replicator events into per-bundle data changes (src/engine/data-change.ts) for the
// policy instances: each attached bundle gets only the kinds its manifest declares, as
// in-place puts and removes in Gatekeeper's layout (layout.ts). Pure: no Kubernetes, no
// timers; the caller owns ordering.
//
// Contract with the caller: `view` already reflects every event passed to apply() (the store
// applies an event, then the feed hears of it). A seed read at any moment is then the truth
// up to then, and replaying events it already holds converges, because puts and removes are
// idempotent and applied in order.
//
// A reset (a kind relisted) re-puts the whole inventory of each bundle reading the kind
// rather than just that kind's subtrees: relists are rare, a whole put also drops the empty
// parents removes leave behind, and it is how an instance that lost its data
// (INVENTORY_OVER_BUDGET) gets it back.
import type { DataChange } from '../engine/data-change.js';
import { INVENTORY_PATH, inventoryText, objectPath } from './layout.js';
import { kindKey, type GroupVersionKind, type InventoryEvent, type InventoryRequirements, type InventoryView } from './types.js';

export interface InventoryFeedOptions {
  readonly view: InventoryView;
  readonly backend: { updateData(key: string, changes: readonly DataChange[]): void };
}

export interface InventoryFeed {
  /**
   * Starts feeding bundle `key` the kinds it requires (replacing an earlier attach of the key);
   * returns its seed for EvalBackend.prepare: one put of ['inventory'] as the view has it when
   * called, or nothing for a bundle that requires no kinds.
   */
  attach(key: string, requirements: InventoryRequirements): () => readonly DataChange[];
  /** Stops feeding bundle `key` (it left every active set). */
  detach(key: string): void;
  /** Sends each attached bundle the changes `events` make to the kinds it reads, in order, in one batch. */
  apply(events: readonly InventoryEvent[]): void;
  /** Sends bundle `key` (or every attached bundle) its whole inventory again. */
  reseed(key?: string): void;
}

export function createInventoryFeed(options: InventoryFeedOptions): InventoryFeed {
  const { view, backend } = options;
  /** Attached bundle → the kinds it reads. */
  const bundles = new Map<string, readonly GroupVersionKind[]>();
  /** Kind key → bundles reading it. */
  const readers = new Map<string, Set<string>>();

  const whole = (kinds: readonly GroupVersionKind[]): DataChange => ({ op: 'put', path: INVENTORY_PATH, value: inventoryText(kinds, view) });

  const detach = (key: string): void => {
    const kinds = bundles.get(key);
    if (!kinds) return;
    bundles.delete(key);
    for (const kind of kinds) {
      const set = readers.get(kindKey(kind));
      set?.delete(key);
      if (set?.size === 0) readers.delete(kindKey(kind));
    }
  };

  return {
    attach(key, requirements) {
      detach(key);
      const kinds = requirements.kinds.map(({ group, version, kind }) => ({ group, version, kind }));
      if (kinds.length === 0) return () => [];
      bundles.set(key, kinds);
      for (const kind of kinds) {
        let set = readers.get(kindKey(kind));
        if (!set) readers.set(kindKey(kind), (set = new Set()));
        set.add(key);
      }
      return () => [whole(kinds)];
    },
    detach,
    apply(events) {
      const changes = new Map<string, DataChange[]>();
      const reset = new Set<string>();
      for (const event of events) {
        const keys = readers.get(kindKey(event.kind));
        if (!keys) continue;
        if (event.type === 'reset') {
          for (const key of keys) reset.add(key);
          continue;
        }
        const path = objectPath(event.kind, event.namespace, event.name);
        const change: DataChange = event.type === 'put' ? { op: 'put', path, value: event.json } : { op: 'remove', path };
        for (const key of keys) {
          if (reset.has(key)) continue;
          let list = changes.get(key);
          if (!list) changes.set(key, (list = []));
          list.push(change);
        }
      }
      // A whole put is the view now: it holds every change of the batch, before and after the reset.
      for (const key of reset) changes.set(key, [whole(bundles.get(key) ?? [])]);
      for (const [key, list] of changes) backend.updateData(key, list);
    },
    reseed(key) {
      for (const [k, kinds] of bundles) if (key === undefined || k === key) backend.updateData(k, [whole(kinds)]);
    },
  };
}
