import { describe, expect, it } from 'vitest';
import { metricValue } from '../../test/support/metrics.js';
import { createMetrics } from './metrics.js';

describe('bouncer_bundle_info', () => {
  it('names exactly the active revision of each bundle after swaps and removals', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.policySet([{ bundle: 'a', revision: 'r1' }, { bundle: 'b', revision: 'x' }]);
    metrics.policySet([{ bundle: 'a', revision: 'r2' }, { bundle: 'b', revision: 'x' }]);
    metrics.policySet([{ bundle: 'a', revision: 'r2' }]);
    const text = await metrics.registry.metrics();
    expect(metricValue(text, 'bouncer_bundle_info', { bundle: 'a', revision: 'r2' })).toBe(1);
    expect(text).not.toContain('revision="r1"');
    expect(text).not.toContain('bundle="b"');
  });
});
