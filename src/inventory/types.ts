// The replicated cluster objects policies read (Gatekeeper's data.inventory): which kinds a
// bundle declares, the events a replicator produces, and the read side of the store.
// Layout, as Gatekeeper's target stores synced objects (pkg/target/target.go):
//   cluster-scoped   data.inventory.cluster[<groupVersion>][<kind>][<name>]
//   namespaced       data.inventory.namespace[<namespace>][<groupVersion>][<kind>][<name>]

export interface GroupVersionKind {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

/** "v1" for the core group, else "group/version" (an object's apiVersion). */
export function groupVersion(gvk: GroupVersionKind): string {
  return gvk.group === '' ? gvk.version : `${gvk.group}/${gvk.version}`;
}

/** A kind's stable key: "<groupVersion>/<Kind>", e.g. "v1/Service", "networking.k8s.io/v1/Ingress". */
export function kindKey(gvk: GroupVersionKind): string {
  return `${groupVersion(gvk)}/${gvk.kind}`;
}

/** A kind some policies of a bundle read from the inventory. */
export interface InventoryRequirement extends GroupVersionKind {
  /** Keep the objects' `status` (dropped by default: it is most of an object's churn). */
  readonly status: boolean;
  /** Who declared it: native policy ids and ConstraintTemplate kinds. */
  readonly readers: { readonly policies: readonly string[]; readonly templates: readonly string[] };
  /**
   * The resource (plural) to list and watch, e.g. "ingresses": written by `bouncer build` from
   * the table of built-in kinds, or given in a native policy's requires for a custom kind;
   * absent for a custom kind without it (discovery names it, as `bouncer manifests --cluster` does).
   */
  readonly resource?: string;
}

/** A bundle's replicated kinds, as its manifest carries them (metadata.bouncer.inventory). */
export interface InventoryRequirements {
  readonly kinds: readonly InventoryRequirement[];
}

/**
 * What a replicator reports, after projection (managedFields, the last-applied annotation and,
 * unless asked for, status removed). `json` is the projected object's JSON text.
 */
export type InventoryEvent =
  | { readonly type: 'put'; readonly kind: GroupVersionKind; readonly namespace: string; readonly name: string; readonly json: Uint8Array }
  | { readonly type: 'delete'; readonly kind: GroupVersionKind; readonly namespace: string; readonly name: string }
  /** The kind's objects were replaced wholesale (a relist); what the store holds for it now is the truth. */
  | { readonly type: 'reset'; readonly kind: GroupVersionKind };

/**
 * Whether a kind's replicated objects can be relied on. Anything but 'synced' makes the
 * policies reading the kind fail by their failure mode (never evaluate on partial data).
 */
export type KindState =
  | 'syncing' // not listed once yet
  | 'synced'
  | 'stale' // not confirmed current for longer than the staleness bound
  | 'over-budget' // objects were refused: the memory budget is full
  | 'error'; // cannot be listed or watched (RBAC, a missing CRD, repeated failures)

export interface KindHealth {
  readonly state: KindState;
  /** Why, when not synced: what an operator reads in readiness, status and logs. */
  readonly reason?: string;
  /** A stable code for the reason (an ErrorCode), when not synced. */
  readonly code?: string;
}

/** One replicated object, as stored. */
export interface StoredObject {
  readonly namespace: string;
  readonly name: string;
  readonly json: Uint8Array;
}

/** The read side of the replicated objects (seeding a new policy instance, health checks). */
export interface InventoryView {
  /** The kind's objects now (empty for a kind not replicated). */
  objects(kind: GroupVersionKind): Iterable<StoredObject>;
  health(kind: GroupVersionKind): KindHealth;
}
