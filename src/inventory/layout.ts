// Where replicated objects live in a policy's data document, and the document's JSON text
// built from stored object bytes: the layout Gatekeeper's target stores synced objects in
// (pkg/target/target.go; frameworks' rego driver puts them under data.inventory):
//   cluster-scoped   data.inventory.cluster[<groupVersion>][<kind>][<name>]
//   namespaced       data.inventory.namespace[<namespace>][<groupVersion>][<kind>][<name>]
// Like Gatekeeper's, a level exists only while something is below it when the document is
// built whole (an empty inventory is `{}`); in-place removes leave emptied parents in place,
// as OPA's store does for Gatekeeper, until the next whole put.
import { groupVersion, kindKey, type GroupVersionKind, type InventoryView, type StoredObject } from './types.js';

/** The data path of the whole inventory. */
export const INVENTORY_PATH: readonly string[] = Object.freeze(['inventory']);

/** The data path of one object (`namespace` '' for a cluster-scoped object). */
export function objectPath(kind: GroupVersionKind, namespace: string, name: string): string[] {
  const gv = groupVersion(kind);
  return namespace === '' ? ['inventory', 'cluster', gv, kind.kind, name] : ['inventory', 'namespace', namespace, gv, kind.kind, name];
}

const encoder = new TextEncoder();
const OPEN = encoder.encode('{');
const CLOSE = encoder.encode('}');
const COMMA = encoder.encode(',');

type Tree = Map<string, Tree | StoredObject>;

/**
 * The JSON text of data.inventory holding the objects of `kinds` (each kind once) as `view`
 * has them now: stored object bytes are copied into place, never parsed. Objects of one
 * kind and namespace with the same name are assumed not to repeat (the store keys them so).
 */
export function inventoryText(kinds: readonly GroupVersionKind[], view: Pick<InventoryView, 'objects'>): Uint8Array {
  const root: Tree = new Map();
  const seen = new Set<string>();
  for (const kind of kinds) {
    const key = kindKey(kind);
    if (seen.has(key)) continue;
    seen.add(key);
    for (const object of view.objects(kind)) {
      const path = objectPath(kind, object.namespace, object.name).slice(1);
      let node = root;
      for (const step of path.slice(0, -1)) {
        let next = node.get(step);
        if (next === undefined) node.set(step, (next = new Map()));
        node = next as Tree;
      }
      node.set(path[path.length - 1] as string, object);
    }
  }
  const parts: Uint8Array[] = [];
  let size = 0;
  const push = (b: Uint8Array) => {
    parts.push(b);
    size += b.byteLength;
  };
  const write = (tree: Tree) => {
    push(OPEN);
    let first = true;
    for (const [key, value] of tree) {
      if (!first) push(COMMA);
      first = false;
      push(encoder.encode(`${JSON.stringify(key)}:`));
      if (value instanceof Map) write(value);
      else push(value.json);
    }
    push(CLOSE);
  };
  write(root);
  const text = new Uint8Array(size);
  let at = 0;
  for (const b of parts) {
    text.set(b, at);
    at += b.byteLength;
  }
  return text;
}
