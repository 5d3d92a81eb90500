// PLACEHOLDER until the match helper's enforcement.ts lands (it replaces this file).
import type { Constraint, EnforcementAction } from './types.js';

export function webhookActions(constraint: Pick<Constraint, 'enforcementAction' | 'scopedEnforcementActions'>): EnforcementAction[] {
  if (constraint.enforcementAction !== 'scoped') return [constraint.enforcementAction];
  return constraint.scopedEnforcementActions
    .filter((s) => s.enforcementPoints.some((p) => p === '*' || p === 'validation.gatekeeper.sh' || p === 'validate.bouncer.dev'))
    .map((s) => s.action);
}
