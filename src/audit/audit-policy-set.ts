// The policy set as the audit evaluates it: the active set's bundles, with what cannot be
// audited left out and Gatekeeper constraints at the audit enforcement point. The reviewer,
// matching, engine and bundle instances are admission's own; only the list of policies and
// constraints differs, so an object that admission and audit both evaluate gets the same verdict.
//
// - Native policies without a validate entrypoint (mutation only) are not audited: there is no
//   verdict to report. Policies whose scope never sees a CREATE of a main resource (operations
//   without CREATE, or subresources only) are not auditable, as are those the build marked
//   (not-auditable.ts); each is reported once per run in AuditRun.notAuditable.
// - Constraints take their actions at `audit.gatekeeper.sh`, as Gatekeeper's audit reviews with
//   that enforcement point (pkg/audit/manager.go reviewObjects): a constraint whose
//   scopedEnforcementActions do not name it is not audited; one naming only it is audited,
//   though admission skips it. Constraints that are not scoped have one action everywhere.
//   Templates whose operations have no CREATE are not auditable.
// When nothing is left out or changed, the active set itself is returned.
import type { LoadedBundle, LoadedPolicy, LoadedTemplate } from '../bundles/bundle.js';
import type { BundledConstraint } from '../bundles/gatekeeper-manifest.js';
import { createPolicySet, type PolicySet } from '../bundles/policy-set.js';
import { actionFor, decidingAction } from '../gatekeeper/enforcement.js';
import { ENFORCEMENT_POINTS } from '../gatekeeper/types.js';
import type { NotAuditable } from './not-auditable.js';

/** A policy the audit evaluates, with the enforcement its findings carry. */
export interface AuditedPolicy {
  readonly policy: string;
  readonly bundle: string;
  readonly enforcement: string;
}

export interface AuditPolicySet {
  readonly set: PolicySet;
  readonly audited: readonly AuditedPolicy[];
  readonly notAuditable: readonly NotAuditable[];
}

function nativeSkip(p: LoadedPolicy): string | undefined {
  const { operations, subresources } = p.meta.scope;
  if (!operations.includes('CREATE')) return `its scope has no CREATE (operations: ${operations.join(', ')}); existing objects are audited as CREATE requests`;
  if (!subresources.some((s) => s === '' || s === '*')) return `its scope covers subresources only (${subresources.join(', ')}); the audit lists main resources`;
  return undefined;
}

/** The constraint as it stands at the audit enforcement point, or undefined when it is not audited there. */
function atAudit(c: BundledConstraint): BundledConstraint | undefined {
  if (c.enforcementAction !== 'scoped') return c;
  const action = decidingAction(actionFor(c, ENFORCEMENT_POINTS.audit));
  return action === undefined ? undefined : { ...c, enforcementAction: action, scopedEnforcementActions: [] };
}

export function auditPolicySet(active: PolicySet, marks: (bundle: LoadedBundle) => readonly NotAuditable[]): AuditPolicySet {
  const audited: AuditedPolicy[] = [];
  const skipped: NotAuditable[] = [];
  let changed = false;
  const bundles = active.bundles.map((bundle) => {
    const marked = new Map(marks(bundle).map((m) => [m.policy, m.reason]));
    const policies = bundle.policies.filter((p) => {
      // Mutation only: no verdict to audit (on the validate endpoint the reviewer never runs it).
      if (p.validate === undefined) return true;
      const reason = marked.get(p.meta.id) ?? nativeSkip(p);
      if (reason !== undefined) {
        skipped.push({ policy: p.meta.id, reason });
        changed = true;
        return false;
      }
      audited.push({ policy: p.meta.id, bundle: bundle.name, enforcement: p.meta.enforcement });
      return true;
    });
    const templates = bundle.templates.map((t): LoadedTemplate => {
      const noCreate = t.meta.operations.includes('CREATE') ? undefined : `its template ${t.meta.name} has no CREATE operation; existing objects are audited as CREATE requests`;
      const constraints = t.constraints.flatMap((c) => {
        const reason = marked.get(c.id) ?? noCreate;
        if (reason !== undefined) {
          skipped.push({ policy: c.id, reason });
          changed = true;
          return [];
        }
        const audit = atAudit(c);
        if (audit !== c) changed = true;
        if (!audit) return [];
        audited.push({ policy: c.id, bundle: bundle.name, enforcement: audit.enforcementAction });
        return [audit];
      });
      return constraints.length === t.constraints.length && constraints.every((c, i) => c === t.constraints[i]) ? t : Object.freeze({ ...t, constraints: Object.freeze(constraints) });
    });
    if (policies.length === bundle.policies.length && templates.every((t, i) => t === bundle.templates[i])) return bundle;
    return Object.freeze({ ...bundle, policies: Object.freeze(policies), templates: Object.freeze(templates) });
  });
  // Same names and digests: the view's revision and digest are the active set's.
  const set = changed ? createPolicySet(bundles, active.activatedAt) : active;
  const byPolicy = (a: { policy: string }, b: { policy: string }) => (a.policy < b.policy ? -1 : a.policy > b.policy ? 1 : 0);
  return { set, audited: audited.sort(byPolicy), notAuditable: skipped.sort(byPolicy) };
}
