// Gatekeeper constraints as scopes, for rendering webhook rules: the rules of the validating
// webhook cover the union of every constraint's kinds (spec.match.kinds, apiGroups × kinds)
// and its template's operations, with resources named by the resource table — never a
// guessed plural. Which constraint applies to a request is still decided per request by
// Gatekeeper's match (review/constraint-plan.ts); the rules only make sure the request comes.
import type { GatekeeperManifest } from '../bundles/gatekeeper-manifest.js';
import type { ConstraintMatch } from '../gatekeeper/types.js';
import { parsePolicyMetadata, type KindMatcher, type PolicyMetadata } from '../bundles/policy-metadata.js';
import { groupsOf, type ResourceTable } from './resource-table.js';
import { resolveScope } from './resolve-scope.js';

/**
 * The kinds one constraint selects. An API group that the table does not serve and that
 * cannot be a custom one (no dot, e.g. the retired "extensions" many templates still list)
 * selects nothing: no request is ever sent for it.
 */
function kindsOf(match: ConstraintMatch, table: ResourceTable): KindMatcher[] {
  const selectors = match.kinds ?? [];
  if (selectors.length === 0) return [{ group: '*', kind: '*' }];
  const served = groupsOf(table);
  const out: KindMatcher[] = [];
  for (const s of selectors) {
    const groups = s.apiGroups.length === 0 || s.apiGroups.includes('*') ? ['*'] : s.apiGroups;
    const kinds = s.kinds.length === 0 || s.kinds.includes('*') ? ['*'] : s.kinds;
    for (const group of groups) {
      if (group !== '*' && !served.has(group) && !group.includes('.')) continue;
      for (const kind of kinds) out.push({ group, kind });
    }
  }
  return out;
}

/** One policy-shaped scope per constraint (validate only), resolved against `table`. */
export function constraintScopes(manifest: GatekeeperManifest | undefined, table: ResourceTable): PolicyMetadata[] {
  if (!manifest) return [];
  return manifest.constraints.flatMap((c) => {
    const template = manifest.templates.find((t) => t.kind === c.kind);
    if (!template) return [];
    const kinds = kindsOf(c.match, table);
    if (kinds.length === 0) return [];
    const meta = parsePolicyMetadata({
      id: c.name.replace(/[^a-z0-9-]/g, '-').slice(0, 63).replace(/^-+|-+$/g, '') || 'constraint',
      package: 'gatekeeper',
      entrypoints: { validate: template.entrypoint },
      // "/*" is every kind of the core group; "*" alone would be every group.
      scope: { kinds: kinds.map((k) => (k.group === '' ? (k.kind === '*' ? '/*' : k.kind) : `${k.group}/${k.kind}`)), operations: template.operations },
    });
    return [resolveScope({ ...meta, id: `constraint ${c.id}` }, table, { unresolved: 'error' })];
  });
}
