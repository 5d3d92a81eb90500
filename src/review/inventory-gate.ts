// Policies that read replicated cluster objects are evaluated only on data that can be relied
// on: a reader of a kind that is not synced (not listed yet, stale, over the memory budget,
// not listable) is not evaluated at all and fails by its failure mode, so a uniqueness policy
// never allows because its inventory is silently empty.
import type { BundleManifest } from '../bundles/manifest.js';
import { isErrorCode, type ErrorCode } from '../errors/errors.js';
import { kindKey, type GroupVersionKind, type InventoryRequirements, type KindHealth } from '../inventory/types.js';

/** Where the health of replicated kinds is read (the inventory store). */
export interface InventoryHealth {
  health(kind: GroupVersionKind): KindHealth;
}

/** Why a reader is not evaluated. */
export interface ReaderBlock {
  readonly code: ErrorCode;
  readonly message: string;
}

export interface BlockedReaders {
  /** By native policy id. */
  readonly policies: ReadonlyMap<string, ReaderBlock>;
  /** By ConstraintTemplate kind. */
  readonly templates: ReadonlyMap<string, ReaderBlock>;
}

const EMPTY: ReadonlyMap<string, ReaderBlock> = new Map();

function block(kind: GroupVersionKind, health: KindHealth): ReaderBlock {
  const code = health.code !== undefined && isErrorCode(health.code) ? health.code : 'INVENTORY_UNAVAILABLE';
  return { code, message: `replicated ${kindKey(kind)} is ${health.state}${health.reason ? `: ${health.reason}` : ''}` };
}

/**
 * The readers of `requirements` whose data is not usable now (the first unusable kind of each
 * names why); undefined when every reader can be evaluated (the common case costs one health
 * read per declared kind).
 */
export function blockedReaders(requirements: InventoryRequirements | undefined, inventory: InventoryHealth): BlockedReaders | undefined {
  if (!requirements || requirements.kinds.length === 0) return undefined;
  let policies: Map<string, ReaderBlock> | undefined;
  let templates: Map<string, ReaderBlock> | undefined;
  for (const kind of requirements.kinds) {
    const health = inventory.health(kind);
    if (health.state === 'synced') continue;
    const why = block(kind, health);
    for (const id of kind.readers.policies) if (!policies?.has(id)) (policies ??= new Map()).set(id, why);
    for (const k of kind.readers.templates) if (!templates?.has(k)) (templates ??= new Map()).set(k, why);
  }
  return policies || templates ? { policies: policies ?? EMPTY, templates: templates ?? EMPTY } : undefined;
}

/** The bundle's declared kinds (none for bundles built before they were declared). */
export function bundleRequirements(manifest: BundleManifest): InventoryRequirements | undefined {
  return (manifest as { readonly inventory?: InventoryRequirements }).inventory;
}
