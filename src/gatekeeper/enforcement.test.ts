import { describe, expect, it } from 'vitest';
import { actionFor, webhookActions } from './enforcement.js';
import type { Constraint, EnforcementAction, ScopedEnforcementAction } from './types.js';
import { ENFORCEMENT_POINTS } from './types.js';

type Enforced = Pick<Constraint, 'enforcementAction' | 'scopedEnforcementActions'>;

const plain = (enforcementAction: EnforcementAction): Enforced => ({ enforcementAction, scopedEnforcementActions: [] });
const scoped = (...scopedEnforcementActions: ScopedEnforcementAction[]): Enforced => ({ enforcementAction: 'scoped', scopedEnforcementActions });
const POINTS = [ENFORCEMENT_POINTS.validation, ENFORCEMENT_POINTS.audit, ENFORCEMENT_POINTS.gator, ENFORCEMENT_POINTS.bouncerWebhook, '*'];

describe('actionFor: a constraint that is not scoped has its one action at every point', () => {
  it.each(['deny', 'warn', 'dryrun'] as const)('%s', (action) => {
    for (const point of POINTS) expect(actionFor(plain(action), point)).toEqual([action]);
    expect(webhookActions(plain(action))).toEqual([action]);
  });

  it('ignores scopedEnforcementActions unless the action is scoped (frameworks constraint_client.go matches)', () => {
    const c: Enforced = { enforcementAction: 'warn', scopedEnforcementActions: [{ action: 'deny', enforcementPoints: ['*'] }] };
    expect(actionFor(c, ENFORCEMENT_POINTS.validation)).toEqual(['warn']);
  });
});

describe('actionFor: scoped (frameworks apis.go GetEnforcementActionsForEP)', () => {
  const perPoint = scoped(
    { action: 'deny', enforcementPoints: [ENFORCEMENT_POINTS.validation] },
    { action: 'warn', enforcementPoints: [ENFORCEMENT_POINTS.audit, ENFORCEMENT_POINTS.gator] },
  );

  it.each([
    { point: ENFORCEMENT_POINTS.validation, want: ['deny'] },
    { point: ENFORCEMENT_POINTS.audit, want: ['warn'] },
    { point: ENFORCEMENT_POINTS.gator, want: ['warn'] },
    // Only Gatekeeper's webhook point is named: bouncer's own name is a different point...
    { point: ENFORCEMENT_POINTS.bouncerWebhook, want: [] },
    // ...and asking for every point gathers every entry's action.
    { point: '*', want: ['deny', 'warn'] },
  ])('at $point: $want', ({ point, want }) => {
    expect(actionFor(perPoint, point)).toEqual(want);
  });

  it('gives every action to a point an entry names with *', () => {
    const everywhere = scoped({ action: 'dryrun', enforcementPoints: ['*'] });
    for (const point of POINTS) expect(actionFor(everywhere, point)).toEqual(['dryrun']);
  });

  it('has several actions at one point when several entries name it, without repeats, deny then warn then dryrun', () => {
    const c = scoped(
      { action: 'dryrun', enforcementPoints: ['*'] },
      { action: 'warn', enforcementPoints: [ENFORCEMENT_POINTS.validation] },
      { action: 'deny', enforcementPoints: [ENFORCEMENT_POINTS.validation, ENFORCEMENT_POINTS.audit] },
      { action: 'warn', enforcementPoints: ['*'] },
    );
    expect(actionFor(c, ENFORCEMENT_POINTS.validation)).toEqual(['deny', 'warn', 'dryrun']);
    expect(actionFor(c, ENFORCEMENT_POINTS.audit)).toEqual(['deny', 'warn', 'dryrun']);
    expect(actionFor(c, ENFORCEMENT_POINTS.gator)).toEqual(['warn', 'dryrun']);
  });

  it('has no action (the constraint is skipped) at a point no entry names', () => {
    expect(actionFor(scoped({ action: 'deny', enforcementPoints: [ENFORCEMENT_POINTS.audit] }), ENFORCEMENT_POINTS.gator)).toEqual([]);
    expect(actionFor(scoped(), ENFORCEMENT_POINTS.validation)).toEqual([]);
    expect(actionFor(scoped({ action: 'deny', enforcementPoints: [] }), '*')).toEqual([]);
    // vap.k8s.io is Gatekeeper's ValidatingAdmissionPolicy point: bouncer never enforces there.
    expect(webhookActions(scoped({ action: 'deny', enforcementPoints: ['vap.k8s.io'] }))).toEqual([]);
  });
});

describe('webhookActions: bouncer’s webhook answers to its own point and to validation.gatekeeper.sh', () => {
  it.each([
    { name: 'Gatekeeper’s webhook point', entries: [{ action: 'deny', enforcementPoints: [ENFORCEMENT_POINTS.validation] }], want: ['deny'] },
    { name: 'bouncer’s own point', entries: [{ action: 'warn', enforcementPoints: [ENFORCEMENT_POINTS.bouncerWebhook] }], want: ['warn'] },
    {
      name: 'both points, different actions',
      entries: [
        { action: 'warn', enforcementPoints: [ENFORCEMENT_POINTS.validation] },
        { action: 'deny', enforcementPoints: [ENFORCEMENT_POINTS.bouncerWebhook] },
      ],
      want: ['deny', 'warn'],
    },
    { name: 'both points, the same action once', entries: [{ action: 'dryrun', enforcementPoints: [ENFORCEMENT_POINTS.validation, ENFORCEMENT_POINTS.bouncerWebhook] }], want: ['dryrun'] },
    { name: '*', entries: [{ action: 'deny', enforcementPoints: ['*'] }], want: ['deny'] },
    { name: 'audit and gator only (skipped)', entries: [{ action: 'deny', enforcementPoints: [ENFORCEMENT_POINTS.audit, ENFORCEMENT_POINTS.gator] }], want: [] },
  ] as { name: string; entries: ScopedEnforcementAction[]; want: EnforcementAction[] }[])('$name → $want', ({ entries, want }) => {
    expect(webhookActions(scoped(...entries))).toEqual(want);
  });
});
