// The check behind `bouncer sync check`: a requirement is met when any alternative is synced;
// the report is gator's text (test/unit/sync-check-gator-parity.test.ts compares it with gator's).
import { describe, expect, it } from 'vitest';
import type { ConstraintTemplate } from '../gatekeeper/types.js';
import { checkSync, formatUnmet } from './sync-check.js';

const gvk = (group: string, version: string, kind: string) => ({ group, version, kind });
const template = (name: string, alternatives: ReturnType<typeof gvk>[][]): ConstraintTemplate => ({
  name,
  kind: name,
  file: `${name}.yaml`,
  rego: '',
  libs: [],
  regoVersion: 'v0',
  source: {},
  syncRequirements: alternatives.map((a) => ({ alternatives: a })),
});

describe('checkSync', () => {
  const templates = [
    template('zeta', [[gvk('', 'v1', 'Service')], [gvk('apps', 'v1', 'Deployment'), gvk('apps', 'v1', 'StatefulSet')]]),
    template('alpha', [[gvk('policy', 'v1', 'PodDisruptionBudget')]]),
    { ...template('plain', []), syncRequirements: undefined } as ConstraintTemplate,
  ];

  it('reports unmet requirements per template, by name, and prints them as gator does', () => {
    const unmet = checkSync(templates, [{ kind: 'SyncSet', name: 's', file: 's.yaml', gvks: [gvk('', 'v1', 'Service')] }]);
    expect(unmet.map((u) => [u.template, u.requirements.length])).toEqual([
      ['alpha', 1],
      ['zeta', 1],
    ]);
    expect(formatUnmet(unmet)).toBe('the following requirements were not met: \nalpha:\n- policy/v1:PodDisruptionBudget\nzeta:\n- apps/v1:Deployment OR apps/v1:StatefulSet\n\n');
  });

  it('is met by any alternative, from SyncSets and the Config together', () => {
    const sync = [
      { kind: 'SyncSet' as const, name: 's', file: 's.yaml', gvks: [gvk('', 'v1', 'Service'), gvk('apps', 'v1', 'StatefulSet')] },
      { kind: 'Config' as const, name: 'config', file: 'c.yaml', gvks: [gvk('policy', 'v1', 'PodDisruptionBudget')] },
    ];
    expect(checkSync(templates, sync)).toEqual([]);
  });

  it('finds every requirement unmet without a sync configuration', () => {
    expect(checkSync(templates, []).flatMap((u) => u.requirements)).toHaveLength(3);
  });
});
