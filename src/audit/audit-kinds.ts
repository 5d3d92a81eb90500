// Which kinds an audit lists: every kind some audited policy can match — native policies'
// scope.kinds and constraints' spec.match.kinds — resolved against the resources the cluster
// serves. A wildcard (a native scope of "*" or "group/*", a constraint without match.kinds or
// with "*") selects every listable resource it covers, as Gatekeeper's audit lists every
// listable kind when a constraint matches "*" (pkg/audit/manager.go auditResources); the number
// of kinds is bounded (maxKinds), the ones past the bound reported as not listed.
// A kind named explicitly that the cluster does not serve has no objects: it is logged, not an
// error (a CRD that is deleted while its list runs is one, see audit-scan.ts).
import type { PolicySet } from '../bundles/policy-set.js';
import { kindKey } from '../inventory/types.js';
import type { ApiResource } from './cluster-access.js';

/** What a policy's kind selects: group and kind ('*' for any), and the plural when the scope names it. */
export interface KindSelector {
  readonly group: string;
  readonly kind: string;
  readonly resource?: string;
}

export interface AuditKinds {
  /** Ordered by group, then resource. */
  readonly resources: readonly ApiResource[];
  /** Explicit selectors no served resource satisfies ("group/Kind"). */
  readonly unserved: readonly string[];
  /** Resources left out past maxKinds. */
  readonly overBound: readonly ApiResource[];
}

/** The kind selectors of every policy and constraint of the (audit view of the) set. */
export function kindSelectors(set: PolicySet): KindSelector[] {
  const out: KindSelector[] = [];
  for (const bundle of set.bundles) {
    for (const p of bundle.policies) {
      if (p.validate === undefined) continue;
      for (const k of p.meta.scope.kinds) out.push(k.resource === undefined ? { group: k.group, kind: k.kind } : { group: k.group, kind: k.kind, resource: k.resource });
    }
    for (const t of bundle.templates) {
      for (const c of t.constraints) {
        const selectors = c.match.kinds ?? [];
        if (selectors.length === 0) out.push({ group: '*', kind: '*' });
        for (const s of selectors) {
          const groups = s.apiGroups.length === 0 || s.apiGroups.includes('*') ? ['*'] : s.apiGroups;
          const kinds = s.kinds.length === 0 || s.kinds.includes('*') ? ['*'] : s.kinds;
          for (const group of groups) for (const kind of kinds) out.push({ group, kind });
        }
      }
    }
  }
  return out;
}

function selects(s: KindSelector, r: ApiResource): boolean {
  if (s.group !== '*' && s.group !== r.group) return false;
  if (s.kind === '*') return true;
  return s.resource !== undefined ? s.resource === r.resource : s.kind === r.kind;
}

const order = (a: ApiResource, b: ApiResource): number => (a.group !== b.group ? (a.group < b.group ? -1 : 1) : a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0);

export function auditKinds(selectors: readonly KindSelector[], served: readonly ApiResource[], maxKinds: number): AuditKinds {
  const chosen = new Set<ApiResource>();
  const unserved = new Set<string>();
  for (const s of selectors) {
    let any = false;
    for (const r of served) {
      if (!selects(s, r)) continue;
      chosen.add(r);
      any = true;
    }
    if (!any && s.kind !== '*') unserved.add(s.group === '' || s.group === '*' ? `${s.group === '*' ? '*/' : ''}${s.kind}` : `${s.group}/${s.kind}`);
  }
  const sorted = [...chosen].sort(order);
  return { resources: sorted.slice(0, maxKinds), unserved: [...unserved].sort(), overBound: sorted.slice(maxKinds) };
}

/** The kind's name in AuditRun.kinds: "<groupVersion>/<Kind>". */
export function resourceKindKey(r: ApiResource): string {
  return kindKey({ group: r.group, version: r.version, kind: r.kind });
}
