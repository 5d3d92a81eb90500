// The edge metrics on a real prom-client registry: a pause still going on is counted up to
// each scrape (rate() sees it while it lasts), and counted once when it ends.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { edgeMetrics } from './edge-metrics.js';

async function value(registry: Registry, name: string): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return Number((metric?.values ?? [])[0]?.value ?? NaN);
}

describe('edge metrics', () => {
  it('counts the time the port is not accepting at each scrape while the pause lasts, and once in all', async () => {
    const registry = new Registry();
    const edge = edgeMetrics([registry]);
    edge.listeningPaused(true);
    expect(await value(registry, 'bouncer_listening_paused')).toBe(1);
    await new Promise((r) => setTimeout(r, 30));
    const during = await value(registry, 'bouncer_listening_paused_seconds_total');
    expect(during).toBeGreaterThanOrEqual(0.025);
    await new Promise((r) => setTimeout(r, 30));
    edge.listeningPaused(false);
    const after = await value(registry, 'bouncer_listening_paused_seconds_total');
    expect(after).toBeGreaterThanOrEqual(during + 0.025);
    await new Promise((r) => setTimeout(r, 30));
    // Not accepting no more: nothing is added after the pause ended.
    expect(await value(registry, 'bouncer_listening_paused_seconds_total')).toBe(after);
    expect(await value(registry, 'bouncer_listening_pauses_total')).toBe(1);
    expect(await value(registry, 'bouncer_listening_paused')).toBe(0);
  });
});
