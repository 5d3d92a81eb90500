// What `bouncer import gatekeeper` keeps of a ConstraintTemplate or Constraint: what its
// author would commit, nothing the source cluster set. Kept: apiVersion, kind,
// metadata.name, metadata.labels, metadata.annotations and spec, each in the order read.
// Left out, and why:
// - status, uid, resourceVersion, generation, creationTimestamp, deletionTimestamp,
//   deletionGracePeriodSeconds, managedFields, selfLink: written by the API server and the
//   Gatekeeper controllers, meaningless anywhere else;
// - namespace: both kinds are cluster-scoped; generateName: the name is set;
// - ownerReferences: they name uids that exist only in the source cluster; re-applied
//   elsewhere, the garbage collector would delete an object whose owner is missing;
// - finalizers: they belong to a controller of the source cluster; re-applied where no
//   controller clears them, they leave the object undeletable (bouncer compiles these
//   objects into bundles and never applies them, so nothing needs them);
// - the annotation kubectl.kubernetes.io/last-applied-configuration: a second copy of the
//   object as last applied, including fields this cleaning removes.
// Server-side defaults (a constraint's `enforcementAction: deny`, a template's
// `legacySchema`) are spec and stay: they are what the cluster enforced.

const DROPPED_ANNOTATIONS: ReadonlySet<string> = new Set(['kubectl.kubernetes.io/last-applied-configuration']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A string map with the given keys left out; undefined when nothing is left. */
function stringMap(value: unknown, drop: ReadonlySet<string> = new Set()): Record<string, unknown> | undefined {
  if (!isObject(value)) return undefined;
  const entries = Object.entries(value).filter(([k]) => !drop.has(k));
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

/** The object as a user would commit it (a new object; the input is not changed). */
export function cleanGatekeeperObject(object: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const meta = isObject(object.metadata) ? object.metadata : {};
  const metadata: Record<string, unknown> = { name: meta.name };
  const labels = stringMap(meta.labels);
  const annotations = stringMap(meta.annotations, DROPPED_ANNOTATIONS);
  if (labels) metadata.labels = labels;
  if (annotations) metadata.annotations = annotations;
  const out: Record<string, unknown> = { apiVersion: object.apiVersion, kind: object.kind, metadata };
  if (object.spec !== undefined) out.spec = structuredClone(object.spec);
  return out;
}
