// Read-your-own-admissions for referential policies. The replicated objects are eventually
// consistent: between bouncer allowing a write and the watch event for it (milliseconds to
// seconds), a second request does not see the first object, so two Ingresses with the same
// host created back to back could both pass a uniqueness policy. The overlay closes that
// window on this replica: an object bouncer has just allowed (validating, not a dry run) is
// put into the store at once, as the request carried it, and kept until the watch reports
// the object (its event replaces the entry) or `ttlMs` passes without one (another webhook
// or the API server refused the write: the entry is withdrawn).
//
// What it does not close: two replicas admitting conflicting objects within the watch delay
// (each sees only its own admissions), and objects created under generateName (no name yet).
// An allowed write that is later refused elsewhere can make a conflicting write fail for up
// to ttlMs — a false denial, never a false allow.
import type { GroupVersionKind, StoredObject } from './types.js';
import { kindKey } from './types.js';

/** The store operations the overlay needs (the inventory store has them). */
export interface OverlayStore {
  put(kind: GroupVersionKind, namespace: string, name: string, json: Uint8Array): boolean;
  delete(kind: GroupVersionKind, namespace: string, name: string): void;
  get(kind: GroupVersionKind, namespace: string, name: string): StoredObject | undefined;
}

export interface AdmittedWrite {
  readonly kind: GroupVersionKind;
  readonly namespace: string;
  readonly name: string;
  readonly operation: string;
  readonly dryRun: boolean;
  readonly object: unknown;
}

export interface AdmittedOverlay {
  /** An allowed validating review: stores the object if its kind is replicated. */
  admitted(write: AdmittedWrite): void;
  /** Withdraws entries past their time that the watch never confirmed; returns how many. */
  expire(): number;
  /** Entries waiting for their watch event. */
  pending(): number;
}

export interface AdmittedOverlayOptions {
  readonly store: OverlayStore;
  /** The replicated kinds now, with whether status is kept (the projection's input). */
  readonly replicated: (kind: GroupVersionKind) => { readonly status: boolean } | undefined;
  /** The projection the replicator applies, to JSON bytes; undefined when the object is not one. */
  readonly project: (object: unknown, kind: GroupVersionKind, keepStatus: boolean) => Uint8Array | undefined;
  readonly ttlMs: number;
  /** Entries held at most; past it new admissions are not overlaid (the race stays open for them). */
  readonly maxPending?: number;
  readonly now?: () => number;
}

export function createAdmittedOverlay(options: AdmittedOverlayOptions): AdmittedOverlay {
  const now = options.now ?? Date.now;
  const max = options.maxPending ?? 10_000;
  /** key → the bytes put and when they stop counting. */
  const entries = new Map<string, { kind: GroupVersionKind; namespace: string; name: string; json: Uint8Array; expires: number }>();
  return {
    admitted(write) {
      if (write.dryRun || (write.operation !== 'CREATE' && write.operation !== 'UPDATE') || write.name === '') return;
      const replicated = options.replicated(write.kind);
      if (!replicated) return;
      const key = `${kindKey(write.kind)}\u0000${write.namespace}\u0000${write.name}`;
      if (!entries.has(key) && entries.size >= max) return;
      const json = options.project(write.object, write.kind, replicated.status);
      if (!json || !options.store.put(write.kind, write.namespace, write.name, json)) return;
      entries.delete(key);
      entries.set(key, { kind: write.kind, namespace: write.namespace, name: write.name, json, expires: now() + options.ttlMs });
    },
    expire() {
      const t = now();
      let withdrawn = 0;
      for (const [key, e] of entries) {
        // Insertion order is expiry order (same ttl, re-admissions re-inserted).
        if (e.expires > t) break;
        entries.delete(key);
        // Only our own bytes are withdrawn: a watch event since then replaced them with the truth.
        if (options.store.get(e.kind, e.namespace, e.name)?.json === e.json) {
          options.store.delete(e.kind, e.namespace, e.name);
          withdrawn++;
        }
      }
      return withdrawn;
    },
    pending: () => entries.size,
  };
}
