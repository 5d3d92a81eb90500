// The RBAC bouncer needs to replicate a bundle's kinds: a ClusterRole granting get, list and
// watch on exactly the resources of metadata.bouncer.inventory (nothing else), and its binding
// to bouncer's ServiceAccount. Resources are the plurals the build wrote (from the table of
// built-in kinds or a native requirement's `resource`), else looked up in `table` (a cluster's
// discovery with `bouncer manifests --cluster`); a kind neither names is an error saying so,
// never a guessed plural (a rule for a resource that does not exist grants nothing).
import { BouncerError } from '../errors/errors.js';
import { kindKey, type InventoryRequirements } from '../inventory/types.js';
import { lookupKind, type ResourceTable } from './resource-table.js';

export interface InventoryRbacOptions {
  /** Name of the ClusterRole and ClusterRoleBinding. */
  readonly name: string;
  readonly serviceAccount: { readonly namespace: string; readonly name: string };
  readonly labels?: Readonly<Record<string, string>>;
}

export interface PolicyRule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
}

/** One rule per API group, resources sorted; groups in order ('' first). */
export function inventoryRules(inventory: InventoryRequirements, table: ResourceTable): PolicyRule[] {
  const byGroup = new Map<string, Set<string>>();
  for (const k of inventory.kinds) {
    const resource = k.resource ?? lookupKind(table, k.group, k.kind)[0]?.resource;
    if (resource === undefined)
      throw new BouncerError(
        'POLICY_SOURCE_INVALID',
        `the bundle replicates ${kindKey(k)}, whose resource (plural) ${table.source} does not name: give it in the policy's custom.requires (resource: <plural>), or render with --cluster to read it from the cluster's discovery`,
      );
    const set = byGroup.get(k.group) ?? new Set<string>();
    set.add(resource);
    byGroup.set(k.group, set);
  }
  return [...byGroup.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([group, resources]) => ({ apiGroups: [group], resources: [...resources].sort(), verbs: ['get', 'list', 'watch'] }));
}

/** The ClusterRole and ClusterRoleBinding, as objects to print. */
export function inventoryRbac(inventory: InventoryRequirements, table: ResourceTable, options: InventoryRbacOptions): [Record<string, unknown>, Record<string, unknown>] {
  const metadata = { name: options.name, ...(options.labels ? { labels: { ...options.labels } } : {}) };
  return [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata, rules: inventoryRules(inventory, table) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: options.name },
      subjects: [{ kind: 'ServiceAccount', name: options.serviceAccount.name, namespace: options.serviceAccount.namespace }],
    },
  ];
}
