// What a constraint's violations do at an enforcement point, as Gatekeeper resolves it
// (frameworks constraint/pkg/apis/constraints/apis.go GetEnforcementActionsForEP and
// constraint/pkg/client/constraint_client.go matches; Gatekeeper pkg/webhook/policy.go
// processValidationResults). A constraint that is not `scoped` has its one action at every
// point. A `scoped` one has, at a point, every action of every scopedEnforcementActions entry
// that names the point or `*` — so one point can have several (deny and warn: the request is
// denied and the message is also a warning, as Gatekeeper's webhook answers) — and none at a
// point no entry names: the constraint is then skipped there, not even matched.
import type { Constraint, EnforcementAction } from './types.js';
import { ENFORCEMENT_POINTS } from './types.js';

/** The point that stands for all points, in scopedEnforcementActions and as a point asked about. */
export const ALL_ENFORCEMENT_POINTS = '*';

/** Actions in the fixed order bouncer reports them (Gatekeeper's come from a Go map: no order). */
const ORDER: readonly EnforcementAction[] = ['deny', 'warn', 'dryrun'];

type Enforced = Pick<Constraint, 'enforcementAction' | 'scopedEnforcementActions'>;

/**
 * The actions of `constraint` at enforcement point `point`, without repeats, in the order
 * deny, warn, dryrun; empty when the constraint is scoped and no entry names the point (skip
 * it). Asked for point `*` (every point, as frameworks' Review without an enforcement point),
 * a scoped constraint has the actions of all its entries.
 */
export function actionFor(constraint: Enforced, point: string): EnforcementAction[] {
  return actionsAt(constraint, [point]);
}

/**
 * The actions at bouncer's admission webhook, which answers both to its own point
 * (validate.bouncer.dev) and to Gatekeeper's (validation.gatekeeper.sh), so constraints written
 * for Gatekeeper's webhook keep their meaning.
 */
export function webhookActions(constraint: Enforced): EnforcementAction[] {
  return actionsAt(constraint, [ENFORCEMENT_POINTS.bouncerWebhook, ENFORCEMENT_POINTS.validation]);
}

function actionsAt(constraint: Enforced, points: readonly string[]): EnforcementAction[] {
  if (constraint.enforcementAction !== 'scoped') return [constraint.enforcementAction];
  const all = points.includes(ALL_ENFORCEMENT_POINTS);
  const found = new Set<EnforcementAction>();
  for (const entry of constraint.scopedEnforcementActions) {
    if (entry.enforcementPoints.some((p) => p === ALL_ENFORCEMENT_POINTS || points.includes(p) || all)) found.add(entry.action);
  }
  return ORDER.filter((a) => found.has(a));
}

/**
 * The action that decides a constraint's outcome at one point, when it has several there
 * (deny and warn): the strongest, since a denial already shows every message. Actions come
 * strongest first (deny, warn, dryrun); undefined when the constraint is skipped there.
 */
export function decidingAction(actions: readonly EnforcementAction[]): EnforcementAction | undefined {
  return actions[0];
}
