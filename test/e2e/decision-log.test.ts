// The decision trail survives a sink outage and a restart: admission load runs through the
// real API server while the sink goes down, bouncer restarts with the sink still down, and
// the sink comes back; every decision is then delivered exactly once, in order, and the
// admission latency did not depend on the sink.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startBouncer, type BouncerProcess } from '../../hack/lib/bouncer-process.js';
import { freePort } from '../../hack/lib/control-plane.js';
import { documentedMetrics } from '../support/documented-metrics.js';
import { metricValue } from '../support/metrics.js';
import { startSink, type Sink } from '../support/sink.js';
import { apiFailure, createNamespace, deleteWebhooks, kubeFor, uniqueName, waitFor } from '../support/kube.js';
import { registerUrlWebhook } from '../support/url-webhook.js';

function decisionIds(logs: string): string[] {
  return logs
    .split('\n')
    .filter((l) => l.includes('"log":"decision"'))
    .map((l) => (JSON.parse(l) as { decision: { decision_id: string } }).decision.decision_id);
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0;

// Runs bouncer (or a test webhook) as a local process the API server calls by URL, or
// restarts the API server: only against the local control plane.
describe.skipIf(inject('externalCluster'))('decision log delivery', () => {
  const state = inject('controlPlane');
  const kube = kubeFor(state);
  const ns = uniqueName('dlog');
  const hook = uniqueName('dlog');
  const spool = mkdtempSync(join(tmpdir(), 'bouncer-dlog-spool-'));
  const basic = inject('bundles').basic as string;
  let sink: Sink;
  let port: number;
  let bouncer: BouncerProcess;

  const register = (b: BouncerProcess) => registerUrlWebhook({ kube, name: hook, bundleFile: basic, namespace: ns }, b);
  const start = () => startBouncer({ basic }, ['--port', String(port), '--decision-log-url', sink.url, '--decision-log-spool', spool]);

  /** Admission requests for `ms`, two at a time; returns each request's latency. */
  const load = async (ms: number, tag: string) => {
    const latencies: number[] = [];
    const failures: string[] = [];
    const until = Date.now() + ms;
    await Promise.all(
      [0, 1].map(async (w) => {
        for (let i = 0; Date.now() < until && i < 3000; i++) {
          const t = performance.now();
          try {
            await kube.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: `${tag}-${w}-${i}` }, data: { x: '1' } }, dryRun: 'All' });
          } catch (err) {
            failures.push(apiFailure(err).message);
          }
          latencies.push(performance.now() - t);
        }
      }),
    );
    expect(failures).toEqual([]);
    return latencies;
  };

  beforeAll(async () => {
    sink = await startSink();
    port = await freePort();
    await createNamespace(kube, ns);
    bouncer = await start();
    await register(bouncer);
  });

  afterAll(async () => {
    await deleteWebhooks(kube, hook);
    await bouncer?.stop();
    await sink?.close();
    rmSync(spool, { recursive: true, force: true });
  });

  it('delivers every decision exactly once and in order across a sink outage and a restart', async () => {
    const healthy = await load(3000, 'up');
    await sink.down();
    const outage = await load(3000, 'down');
    // Read after the stop: decisions of reviews still in flight are logged while it drains.
    await bouncer.stop();
    const firstLogs = bouncer.logs();
    // Restarted while the sink is still down: the spool on disk carries the backlog over.
    bouncer = await start();
    await register(bouncer);
    await load(1500, 'restarted');
    const buffered = metricValue(await bouncer.metrics(), 'bouncer_decision_log_buffered_events', {});
    expect(buffered).toBeGreaterThan(0);
    await sink.up();
    // Read again at the end: a review the API server sends late is logged, and shipped, after this point.
    const emittedNow = () => [...decisionIds(firstLogs), ...decisionIds(bouncer.logs())];
    await waitFor(() => sink.events.length >= emittedNow().length, 30_000, 'all decisions delivered').catch((err: unknown) => {
      throw new Error(`${String(err)}: ${sink.events.length} of ${emittedNow().length} delivered; logs:\n${bouncer.logs().split('\n').filter((l) => !l.includes('"log":"decision"')).join('\n').slice(-3000)}`);
    });
    await new Promise((r) => setTimeout(r, 500));
    const emitted = emittedNow();
    const delivered = sink.events.map((e) => e.decision_id as string);
    expect(delivered.length).toBe(emitted.length);
    expect(new Set(delivered).size).toBe(delivered.length);
    expect(delivered).toEqual(emitted);
    const metrics = await bouncer.metrics();
    // Every documented metric is exposed by a running bouncer, with sane values.
    for (const name of documentedMetrics()) expect(metrics, name).toContain(`# TYPE ${name} `);
    expect(metricValue(metrics, 'bouncer_decisions_total', { endpoint: 'validate', decision: 'allowed' })).toBeGreaterThan(0);
    expect(metricValue(metrics, 'bouncer_decision_log_events_delivered_total', {})).toBeGreaterThan(0);
    expect(metricValue(metrics, 'bouncer_bundle_info', { bundle: 'basic' })).toBe(1);
    expect(metricValue(metrics, 'bouncer_decision_log_events_dropped_total', { reason: 'spool_full' })).toBe(0);
    expect(metricValue(metrics, 'bouncer_decision_log_buffered_events', {})).toBe(0);
    const [p50up, p50down, p99up, p99down] = [percentile(healthy, 0.5), percentile(outage, 0.5), percentile(healthy, 0.99), percentile(outage, 0.99)];
    console.log(
      `decision log: ${emitted.length} decisions emitted and delivered once in order (backlog at restart ${buffered}); ` +
        `API create latency p50 ${p50up.toFixed(1)} ms with the sink up vs ${p50down.toFixed(1)} ms during the outage (p99 ${p99up.toFixed(1)} vs ${p99down.toFixed(1)})`,
    );
    // Generous bound: the sink is off the request path, so the outage must not show up here.
    expect(p50down).toBeLessThan(p50up * 2 + 10);
  }, 90_000);
});
