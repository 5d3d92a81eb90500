// bouncer_exemptions_total counts each exempted outcome of a decision by policy and exception,
// next to bouncer_policy_decisions_total{outcome="exempt"}; outcomes without an exemption add nothing.
import { describe, expect, it } from 'vitest';
import { metricValue } from '../../test/support/metrics.js';
import { createMetrics } from './metrics.js';

describe('bouncer_exemptions_total', () => {
  it('counts exempted outcomes by policy and exception', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const exempt = { policy: 'disallow-privileged', action: 'exempt', enforcement: 'deny', exemption: { exception: 'legacy-batch' } };
    metrics.decision({ endpoint: 'validate', allowed: true, seconds: 0.001, outcomes: [exempt, { policy: 'require-owner-label', action: 'deny', enforcement: 'deny' }] });
    metrics.decision({ endpoint: 'validate', allowed: true, seconds: 0.001, outcomes: [exempt] });
    const text = await metrics.registry.metrics();
    expect(metricValue(text, 'bouncer_exemptions_total', { policy: 'disallow-privileged', exception: 'legacy-batch' })).toBe(2);
    expect(metricValue(text, 'bouncer_policy_decisions_total', { policy: 'disallow-privileged', outcome: 'exempt' })).toBe(2);
    expect(text).not.toMatch(/bouncer_exemptions_total\{[^}]*require-owner-label/);
  });
});
