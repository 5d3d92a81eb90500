import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSink, type Sink } from '../../test/support/sink.js';
import { waitFor } from '../../test/support/kube.js';
import { createDecisionShipper, type ShipperMetrics } from './decision-shipper.js';

function counters() {
  const c = { emitted: 0, delivered: 0, dropped: {} as Record<string, number>, failures: 0, buffered: 0 };
  const metrics: ShipperMetrics = {
    emitted: (n) => (c.emitted += n),
    delivered: (n) => (c.delivered += n),
    dropped: (reason, n) => (c.dropped[reason] = (c.dropped[reason] ?? 0) + n),
    buffered: (events) => (c.buffered = events),
    deliveryFailed: () => c.failures++,
  };
  return { c, metrics };
}

const quiet = { warn: () => undefined, info: () => undefined };

describe('decision shipper', () => {
  const dirs: string[] = [];
  const sinks: Sink[] = [];
  const spoolDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'bouncer-spool-'));
    dirs.push(d);
    return d;
  };
  afterEach(async () => {
    await Promise.all(sinks.splice(0).map((s) => s.close()));
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('spools while the sink is down and delivers everything once, in order, when it returns', async () => {
    const sink = await startSink();
    sinks.push(sink);
    await sink.down();
    const { c, metrics } = counters();
    const shipper = createDecisionShipper({ url: sink.url, spoolDir: spoolDir(), maxSpoolBytes: 10 * 1024 * 1024, metrics, log: quiet, minBackoffMs: 20, maxBackoffMs: 100 });
    for (let i = 0; i < 1500; i++) shipper.record({ decision_id: `d${i}` });
    await waitFor(() => c.failures >= 2 && c.buffered === 1500);
    expect(sink.events).toEqual([]);
    await sink.up();
    await waitFor(() => c.delivered === 1500, 10_000);
    expect(sink.events.map((e) => e.decision_id)).toEqual(Array.from({ length: 1500 }, (_, i) => `d${i}`));
    expect(sink.batches()).toBeGreaterThanOrEqual(3);
    expect(c).toMatchObject({ emitted: 1500, delivered: 1500, dropped: {}, buffered: 0 });
    await shipper.stop();
  });

  it('does not let traffic during an outage escalate the retry backoff', async () => {
    // Each new batch used to end the backoff sleep early, so a steady stream of decisions
    // during an outage drove the backoff to its cap within a second or two and delivery
    // resumed only that long after the sink returned.
    const sink = await startSink();
    sinks.push(sink);
    await sink.down();
    const { c, metrics } = counters();
    const shipper = createDecisionShipper({ url: sink.url, spoolDir: spoolDir(), maxSpoolBytes: 10 * 1024 * 1024, metrics, log: quiet, minBackoffMs: 50, maxBackoffMs: 20_000 });
    for (let i = 0; i < 30; i++) {
      shipper.record({ decision_id: `t${i}` });
      await new Promise((r) => setTimeout(r, 25));
    }
    // 750 ms of traffic: backoffs of 50, 100, 200, 400 ms fit, so at most a handful of attempts.
    expect(c.failures).toBeLessThanOrEqual(5);
    await sink.up();
    const back = Date.now();
    await waitFor(() => c.delivered === 30, 5_000);
    expect(Date.now() - back).toBeLessThan(2_000);
    await shipper.stop();
  });

  it('loses nothing spooled across a restart while the sink is down', async () => {
    const sink = await startSink();
    sinks.push(sink);
    await sink.down();
    const dir = spoolDir();
    const first = counters();
    const before = createDecisionShipper({ url: sink.url, spoolDir: dir, maxSpoolBytes: 1 << 20, metrics: first.metrics, log: quiet, minBackoffMs: 20 });
    for (let i = 0; i < 300; i++) before.record({ decision_id: `r${i}` });
    await before.stop();
    const second = counters();
    const after = createDecisionShipper({ url: sink.url, spoolDir: dir, maxSpoolBytes: 1 << 20, metrics: second.metrics, log: quiet, minBackoffMs: 20 });
    expect(second.c.buffered).toBe(300);
    await sink.up();
    await waitFor(() => second.c.delivered === 300, 10_000);
    after.record({ decision_id: 'r300' });
    await waitFor(() => second.c.delivered === 301, 10_000);
    expect(sink.events.map((e) => e.decision_id)).toEqual(Array.from({ length: 301 }, (_, i) => `r${i}`));
    await after.stop();
  });

  it('refuses events beyond the spool bound and counts them as dropped', async () => {
    const sink = await startSink();
    sinks.push(sink);
    await sink.down();
    const { c, metrics } = counters();
    const shipper = createDecisionShipper({ url: sink.url, spoolDir: spoolDir(), maxSpoolBytes: 2000, metrics, log: quiet, minBackoffMs: 20 });
    for (let i = 0; i < 200; i++) shipper.record({ decision_id: `x${String(i).padStart(4, '0')}` });
    shipper.flush();
    expect(c.dropped.spool_full).toBeGreaterThan(0);
    expect(c.buffered + (c.dropped.spool_full ?? 0)).toBe(200);
    await sink.up();
    await waitFor(() => c.delivered === c.buffered + c.delivered && c.buffered === 0, 10_000);
    expect(sink.events.length + (c.dropped.spool_full ?? 0)).toBe(200);
    await shipper.stop();
  });
});
