// data.inventory in Gatekeeper's layout, from a list of objects (a suite case's inventory):
//   cluster-scoped   data.inventory.cluster[<groupVersion>][<kind>][<name>]
//   namespaced       data.inventory.namespace[<namespace>][<groupVersion>][<kind>][<name>]
// as Gatekeeper's target stores synced objects (pkg/target/target.go processUnstructured).

type Obj = Readonly<Record<string, unknown>>;

export function inventoryData(objects: readonly Obj[]): { cluster: Record<string, unknown>; namespace: Record<string, unknown> } {
  const cluster: Record<string, Record<string, Record<string, unknown>>> = {};
  const namespace: Record<string, Record<string, Record<string, Record<string, unknown>>>> = {};
  for (const o of objects) {
    const meta = (o.metadata ?? {}) as { name?: unknown; namespace?: unknown };
    const gv = typeof o.apiVersion === 'string' ? o.apiVersion : '';
    const kind = typeof o.kind === 'string' ? o.kind : '';
    const name = typeof meta.name === 'string' ? meta.name : '';
    const ns = typeof meta.namespace === 'string' ? meta.namespace : '';
    if (ns === '') ((cluster[gv] ??= {})[kind] ??= {})[name] = o;
    else (((namespace[ns] ??= {})[gv] ??= {})[kind] ??= {})[name] = o;
  }
  return { cluster, namespace };
}
