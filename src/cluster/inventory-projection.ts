// What the inventory keeps of a replicated object, as JSON bytes: the object as the API
// server sent it, without what no policy reads and what churns most.
// - metadata.managedFields: server-side apply bookkeeping, often half an object's size.
// - the kubectl.kubernetes.io/last-applied-configuration annotation: a second copy of the object.
// - status, unless the requirement asks for it (InventoryRequirement.status): written by
//   controllers, it changes far more often than spec, and each change is an inventory update.
// apiVersion and kind are set from the replicated kind: items of a List of built-in types come
// without them, and Gatekeeper's synced objects carry both (templates read them).
import type { GroupVersionKind } from '../inventory/types.js';
import { groupVersion } from '../inventory/types.js';
import { LAST_APPLIED } from './namespace-projection.js';

export interface ProjectedObject {
  /** '' for a cluster-scoped object. */
  readonly namespace: string;
  readonly name: string;
  readonly resourceVersion: string | undefined;
  readonly json: Uint8Array;
}

const encoder = new TextEncoder();

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The projected object, or undefined when it is not an object with a metadata.name (the caller logs and skips it). */
export function projectObject(object: unknown, kind: GroupVersionKind, keepStatus: boolean): ProjectedObject | undefined {
  if (!isRecord(object) || !isRecord(object.metadata)) return undefined;
  const { managedFields: _managed, annotations, ...metadata } = object.metadata;
  const name = metadata.name;
  if (typeof name !== 'string' || name === '') return undefined;
  const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : '';
  if (isRecord(annotations)) {
    const { [LAST_APPLIED]: _applied, ...kept } = annotations;
    if (Object.keys(kept).length > 0) metadata.annotations = kept;
  }
  const { status: _status, apiVersion: _a, kind: _k, metadata: _m, ...rest } = object;
  const projected = {
    apiVersion: groupVersion(kind),
    kind: kind.kind,
    metadata,
    ...rest,
    ...(keepStatus && object.status !== undefined ? { status: object.status } : {}),
  };
  const resourceVersion = typeof metadata.resourceVersion === 'string' ? metadata.resourceVersion : undefined;
  return { namespace, name, resourceVersion, json: encoder.encode(JSON.stringify(projected)) };
}
