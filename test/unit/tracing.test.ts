// Tracing through the webhook server and the reviewer, with real OPA-built bundles and the
// real OTLP/HTTP exporter posting to a receiver on 127.0.0.1: the spans' parents (the
// caller's traceparent), names, kinds and attributes; the sampler's decisions; bounded
// strings; and that neither object contents nor policy messages leave bouncer. Also the
// exemplars of the latency histograms.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { configMapRequest } from '../support/bundle-files.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { capturingLogger } from '../support/reviewing.js';
import { loadBundle } from '../../src/bundles/bundle.js';
import { createPolicyRegistry } from '../../src/bundles/registry.js';
import type { TracingConfig } from '../../src/config/tracing-config.js';
import { createWebhookServer } from '../../src/http/webhook-server.js';
import { createReviewer } from '../../src/review/reviewer.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { createOtelTracing } from '../../src/telemetry/otel-tracing.js';
import type { Tracing } from '../../src/telemetry/tracing.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT = 'b7ad6b7169203331';
const SECRET = 'S3CRET-must-not-leave';

const config = (url: string, over: Partial<TracingConfig> = {}): TracingConfig => ({
  tracesUrl: url,
  sampler: 'parentbased_traceidratio',
  ratio: 1,
  serviceName: 'bouncer-test',
  resourceAttributes: { 'deployment.environment': 'test' },
  ...over,
});

const review = (request: Record<string, unknown>) => JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request });

async function serve(receiver: OtlpReceiver, over: Partial<TracingConfig> = {}, extra: Partial<Parameters<typeof createReviewer>[0]> = {}) {
  const bundle = await loadBundle('basic', readFileSync(inject('bundles').basic as string));
  const tracing: Tracing = createOtelTracing({ config: config(receiver.httpUrl, over), exportDelayMs: 10 });
  const metrics = createMetrics({ defaultMetrics: false, exemplars: true });
  const app = createWebhookServer({
    reviewer: createReviewer({ policies: createPolicyRegistry([bundle]).current, tracing, ...extra }),
    metrics,
    logger: capturingLogger().logger,
    onDecision: () => undefined,
    tracing,
  });
  const post = (request: Record<string, unknown>, headers: Record<string, string> = {}, url = '/validate') =>
    app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: review(request) });
  return { app, tracing, metrics, post };
}

const byName = (spans: readonly ReceivedSpan[], traceId: string, name: string) => spans.filter((s) => s.traceId === traceId && s.name.startsWith(name));

describe('OpenTelemetry tracing of webhook requests', () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  afterAll(async () => {
    await receiver.close();
  });

  it("joins the caller's trace: server span → review → one span per policy, with Kyverno's admission attributes", async () => {
    const { app, tracing, post } = await serve(receiver);
    const request = configMapRequest({ deny: 'true' }, { uid: 'uid-traced', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'team-a', labels: { deny: 'true' } }, data: { password: SECRET } } });
    const res = await post(request, { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'k8s=1' });
    expect(res.json().response.allowed).toBe(false);
    await tracing.shutdown();
    await app.close();
    await receiver.waitFor((spans) => byName(spans, TRACE, 'policy ').length > 0 && byName(spans, TRACE, 'POST').length === 1);

    const [server] = byName(receiver.spans, TRACE, 'POST /validate');
    expect(server).toMatchObject({ service: 'bouncer-test', parentSpanId: PARENT, kind: 2 });
    expect(server?.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.path': '/validate',
      'http.response.status_code': 200,
      'admission.request.uid': 'uid-traced',
      'admission.request.operation': 'CREATE',
      'admission.request.kind.kind': 'ConfigMap',
      'admission.request.kind.version': 'v1',
      'admission.request.resource.resource': 'configmaps',
      'admission.request.namespace': 'team-a',
      'admission.request.name': 'cm',
      'admission.request.user.name': 'alice',
      'admission.request.dryrun': false,
      'admission.response.uid': 'uid-traced',
      'admission.response.allowed': false,
      'admission.response.result.code': 403,
    });
    const [reviewSpan] = byName(receiver.spans, TRACE, 'review');
    expect(reviewSpan).toMatchObject({ parentSpanId: server?.spanId, kind: 1 });
    expect(reviewSpan?.startNs).toBeGreaterThanOrEqual(server?.startNs ?? 0n);
    expect(reviewSpan?.endNs).toBeLessThanOrEqual(server?.endNs ?? 0n);
    expect(reviewSpan?.attributes).toMatchObject({ 'bouncer.bundle.revision': 'basic@test-basic-1', 'bouncer.decision.cached': false, 'bouncer.decision.allowed': false });
    const policies = byName(receiver.spans, TRACE, 'policy ');
    expect(policies.map((p) => p.attributes['bouncer.policy.id']).sort()).toEqual(expect.arrayContaining(['deny-label', 'warn-label']));
    for (const p of policies) {
      expect(p.parentSpanId).toBe(reviewSpan?.spanId);
      expect(p.endNs).toBeGreaterThanOrEqual(p.startNs);
      expect(p.startNs).toBeGreaterThanOrEqual(reviewSpan?.startNs ?? 0n);
    }
    expect(policies.find((p) => p.attributes['bouncer.policy.id'] === 'deny-label')?.attributes).toMatchObject({ 'bouncer.policy.action': 'deny', 'bouncer.policy.bundle': 'basic', 'bouncer.policy.enforcement': 'deny' });
    // No object content and no policy message leaves bouncer.
    const sent = receiver.rawBodies.join('\n');
    expect(sent).not.toContain(SECRET);
    expect(sent).not.toContain('carries the deny label');
  });

  it.each([
    ['a caller that did not sample (flags 00)', { traceparent: `00-${TRACE.replace('0a', '1b')}-${PARENT}-00` }, 'parentbased_traceidratio', 1, false],
    ['no traceparent at ratio 0', {}, 'parentbased_traceidratio', 0, false],
    ['no traceparent at ratio 1 (a root span)', {}, 'parentbased_traceidratio', 1, true],
    ['a sampled caller under always_off', { traceparent: `00-${TRACE}-${PARENT}-01` }, 'always_off', 1, false],
    ['a malformed traceparent (a root span)', { traceparent: '00-zz-yy-01' }, 'parentbased_always_on', 0, true],
  ] as const)('follows the sampler for %s', async (_name, headers, sampler, ratio, exported) => {
    const before = receiver.spans.length;
    const uid = `uid-${sampler}-${ratio}-${Object.keys(headers).length}-${exported}-${Math.random()}`;
    const { app, tracing, post } = await serve(receiver, { sampler, ratio });
    await post(configMapRequest({}, { uid }), headers);
    await tracing.shutdown();
    await app.close();
    const mine = () => receiver.spans.slice(before).filter((s) => s.attributes['admission.request.uid'] === uid);
    if (exported) {
      await receiver.waitFor(() => mine().length === 1);
      expect(mine()[0]?.parentSpanId).toBe('');
    } else {
      expect(mine()).toEqual([]);
    }
  });

  it('cuts long strings to 256 characters', async () => {
    const { app, tracing, post } = await serve(receiver);
    const name = 'n'.repeat(300);
    await post(configMapRequest({}, { uid: 'uid-long', name, object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'team-a' } } }));
    await tracing.shutdown();
    await app.close();
    await receiver.waitFor((spans) => spans.some((s) => s.attributes['admission.request.uid'] === 'uid-long'));
    const server = receiver.spans.find((s) => s.attributes['admission.request.uid'] === 'uid-long');
    expect(server?.attributes['admission.request.name']).toBe('n'.repeat(256));
  });

  it("records the Namespace read on a cache miss as a client span under the review", async () => {
    const bytes = readFileSync(inject('bundles')['gatekeeper-semantics'] as string);
    const bundle = await loadBundle('gk', bytes);
    const tracing = createOtelTracing({ config: config(receiver.httpUrl), exportDelayMs: 10 });
    const app = createWebhookServer({
      reviewer: createReviewer({
        policies: createPolicyRegistry([bundle]).current,
        namespaces: () => undefined,
        readNamespace: async (name) => ({ name, labels: {} }),
        tracing,
      }),
      metrics: createMetrics({ defaultMetrics: false }),
      logger: capturingLogger().logger,
      onDecision: () => undefined,
      tracing,
    });
    const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
    await app.inject({
      method: 'POST',
      url: '/validate',
      headers: { 'content-type': 'application/json', traceparent: `00-${trace}-00f067aa0ba902b7-01` },
      payload: review(configMapRequest({}, { namespace: 'fresh', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'fresh' } } })),
    });
    await tracing.shutdown();
    await app.close();
    await receiver.waitFor((spans) => byName(spans, trace, 'GET namespaces').length === 1 && byName(spans, trace, 'review').length === 1);
    const [client] = byName(receiver.spans, trace, 'GET namespaces');
    expect(client).toMatchObject({ kind: 3, parentSpanId: byName(receiver.spans, trace, 'review')[0]?.spanId, attributes: { 'k8s.namespace.name': 'fresh' } });
  });

  it("puts the sampled request's trace id on the latency histograms as an OpenMetrics exemplar", async () => {
    const { app, tracing, metrics, post } = await serve(receiver);
    const trace = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    await post(configMapRequest({}), { traceparent: `00-${trace}-${PARENT}-01` });
    await tracing.shutdown();
    await app.close();
    const text = await metrics.registry.metrics();
    expect(metrics.registry.contentType).toMatch(/^application\/openmetrics-text/);
    expect(text).toMatch(new RegExp(`bouncer_decision_duration_seconds_bucket\\{[^}]*endpoint="validate"[^}]*\\} 1 # \\{trace_id="${trace}"\\}`));
    expect(text).toMatch(new RegExp(`bouncer_request_duration_seconds_bucket\\{[^}]*\\} 1 # \\{trace_id="${trace}"\\}`));
  });
});
