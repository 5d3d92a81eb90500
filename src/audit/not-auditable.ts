// Policies the build marked not auditable: their result depends on the operation, oldObject or
// userInfo, so evaluating an existing object as a CREATE would say nothing true about them.
//
// The build's marks are not in bundles yet (another change adds an optional
// `audit?: { auditable: false, reason }` to LoadedPolicy and LoadedTemplate); until then this
// returns nothing, and the audit's own checks (audit-policy-set.ts: no CREATE in the scope, no
// main resource) are the only skips. Once the field lands this becomes:
//   bundle.policies.filter((p) => p.audit?.auditable === false).map((p) => ({ policy: p.meta.id, reason: p.audit.reason }))
//   plus, for each template marked, one entry per constraint ({ policy: c.id, reason }).
import type { LoadedBundle } from '../bundles/bundle.js';

export interface NotAuditable {
  /** A native policy id, or a constraint's "<Kind>/<name>" (as in findings). */
  readonly policy: string;
  readonly reason: string;
}

export function notAuditable(bundle: LoadedBundle): readonly NotAuditable[] {
  void bundle;
  return [];
}
