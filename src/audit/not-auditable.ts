// Policies the build marked not auditable (src/authoring/audit-lint.ts): their result depends
// on the operation, oldObject or userInfo, so evaluating an existing object as a CREATE would
// say nothing true about them. A marked template makes each of its constraints not auditable.
import type { LoadedBundle } from '../bundles/bundle.js';

export interface NotAuditable {
  /** A native policy id, or a constraint's "<Kind>/<name>" (as in findings). */
  readonly policy: string;
  readonly reason: string;
}

export function notAuditable(bundle: LoadedBundle): readonly NotAuditable[] {
  const out: NotAuditable[] = [];
  for (const p of bundle.policies) if (p.meta.audit) out.push({ policy: p.meta.id, reason: p.meta.audit.reason });
  for (const t of bundle.templates) {
    const mark = t.meta.audit;
    if (mark) for (const c of t.constraints) out.push({ policy: c.id, reason: mark.reason });
  }
  return out;
}
