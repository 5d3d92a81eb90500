// What an API server serves, as webhook rules need it: each kind's resource (plural), its
// subresources with the kind their requests carry, and the admission operations that can
// reach each. Built from discovery, never guessed: the built-in table is generated from the
// pinned Kubernetes version (hack/gen-resource-table.ts), a cluster's from its own discovery
// (`bouncer manifests --cluster`).
import type { Operation } from '../admission/types.js';

export interface SubresourceInfo {
  /** e.g. "exec", "status", "scale". */
  readonly name: string;
  /** The group, version and kind of the object a request to it carries (`input.request.kind`). */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** The admission operations a request to it can have (CONNECT for exec, attach, portforward, proxy). */
  readonly operations: readonly Operation[];
}

export interface ResourceInfo {
  /** API group, '' for the core group. */
  readonly group: string;
  /** Served versions, the preferred one first. */
  readonly versions: readonly string[];
  readonly kind: string;
  /** The resource name webhook rules and `request.resource.resource` use: the plural. */
  readonly resource: string;
  readonly namespaced: boolean;
  /** The admission operations a request to the resource itself can have. */
  readonly operations: readonly Operation[];
  readonly subresources: readonly SubresourceInfo[];
}

export interface ResourceTable {
  /** Where the table comes from, for messages: "Kubernetes v1.35.4" or "the cluster". */
  readonly source: string;
  readonly resources: readonly ResourceInfo[];
}

/** `Pod`, `apps/Deployment`: how a kind is written in a policy scope. */
export function kindName(r: { readonly group: string; readonly kind: string }): string {
  return r.group === '' ? r.kind : `${r.group}/${r.kind}`;
}

/** The groups a table serves ('' is the core group). */
export function groupsOf(table: ResourceTable): Set<string> {
  return new Set(table.resources.map((r) => r.group));
}

/** Resources of `kind` in `group` ('*' for any group). */
export function lookupKind(table: ResourceTable, group: string, kind: string): ResourceInfo[] {
  return table.resources.filter((r) => r.kind === kind && (group === '*' || r.group === group));
}

export function lookupResource(table: ResourceTable, group: string, resource: string): ResourceInfo | undefined {
  return table.resources.find((r) => r.resource === resource && r.group === group);
}

/** A table with `extra`'s resources added, replacing those of the same group and resource. */
export function mergeTables(base: ResourceTable, extra: ResourceTable): ResourceTable {
  const key = (r: ResourceInfo) => `${r.group}/${r.resource}`;
  const replaced = new Set(extra.resources.map(key));
  return { source: extra.source, resources: [...base.resources.filter((r) => !replaced.has(key(r))), ...extra.resources] };
}

/** Edit distance between two short strings (kinds), for near-miss suggestions. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length] as number;
}

/**
 * What the author probably meant by an unknown `group`/`kind`: the same kind in another
 * case or another group, the kind whose resource (plural) they wrote, or a kind one or two
 * letters off (`Endpoint` for `Endpoints`). Best first.
 */
export function suggestKinds(table: ResourceTable, group: string, kind: string): string[] {
  const lower = kind.toLowerCase();
  const found: string[] = [];
  const add = (r: ResourceInfo) => {
    const name = kindName(r);
    if (!found.includes(name)) found.push(name);
  };
  const sameGroup = (r: ResourceInfo) => group === '*' || r.group === group;
  for (const r of table.resources) if (sameGroup(r) && r.kind.toLowerCase() === lower) add(r);
  for (const r of table.resources) if (sameGroup(r) && r.resource === lower) add(r);
  for (const r of table.resources) if (r.kind === kind) add(r);
  for (const r of table.resources) if (r.kind.toLowerCase() === lower || r.resource === lower) add(r);
  if (found.length === 0) for (const r of table.resources) if (sameGroup(r) && distance(r.kind.toLowerCase(), lower) <= 2) add(r);
  if (found.length === 0) for (const r of table.resources) if (distance(r.kind.toLowerCase(), lower) <= 1) add(r);
  return found;
}
