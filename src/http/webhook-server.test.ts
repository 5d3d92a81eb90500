import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { configMapRequest } from '../../test/support/bundle-files.js';
import { capturingLogger, registryOf } from '../../test/support/reviewing.js';
import type { Decision } from '../review/decision.js';
import { createReviewer } from '../review/reviewer.js';
import { createMetrics } from '../telemetry/metrics.js';
import { createHealthServer } from './health-server.js';
import { metricValue } from '../../test/support/metrics.js';
import { createAdmissionGate, type AdmissionLimits } from './admission-gate.js';
import { createConnectionGate } from './connection-gate.js';
import { createWebhookServer } from './webhook-server.js';

const review = (request: Record<string, unknown>, apiVersion = 'admission.k8s.io/v1') => ({ apiVersion, kind: 'AdmissionReview', request });

describe('webhook server', () => {
  let app: FastifyInstance;
  let health: FastifyInstance;
  const decisions: Decision[] = [];
  const metrics = createMetrics({ defaultMetrics: false });

  beforeAll(async () => {
    const registry = await registryOf({ basic: inject('bundles').basic as string });
    const { logger } = capturingLogger();
    app = createWebhookServer({
      reviewer: createReviewer({ policies: registry.current }),
      metrics,
      logger,
      onDecision: (d) => decisions.push(d),
      bodyLimit: 64 * 1024,
    });
    health = createHealthServer({ metrics, readiness: () => ({ ready: true }) });
  });
  afterAll(async () => {
    await app.close();
    await health.close();
  });

  const post = (url: string, payload: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    app.inject({ method: 'POST', url, headers, payload: typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload) });

  it('denies a violating review with the policy message, echoing the uid, and records the decision', async () => {
    const res = await post('/validate', review(configMapRequest({ deny: 'true' }, { uid: 'uid-deny' })));
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'uid-deny', allowed: false, status: { code: 403, message: expect.stringContaining('[deny-label] ConfigMap "cm" carries the deny label') } },
    });
    expect(body.response.auditAnnotations).toMatchObject({ decision: 'denied', 'denied-by': 'deny-label', 'policy-set': 'basic@test-basic-1' });
    expect(decisions.at(-1)).toMatchObject({ allowed: false, request: { uid: 'uid-deny', namespace: 'team-a', name: 'cm', user: 'alice' } });
  });

  it('allows with warnings and never puts a patch on a validating response', async () => {
    const res = await post('/validate', review(configMapRequest({ warn: 'true' })));
    expect(res.json().response).toEqual(
      expect.objectContaining({ allowed: true, warnings: ['[warn-label] ConfigMap carries the warn label'] }),
    );
    expect(res.json().response).not.toHaveProperty('patch');
  });

  it('patches on the mutate endpoint with a base64 JSONPatch', async () => {
    const res = await post('/mutate', review(configMapRequest({})));
    const response = res.json().response;
    expect(response.patchType).toBe('JSONPatch');
    expect(JSON.parse(Buffer.from(response.patch, 'base64').toString())).toEqual([
      { op: 'add', path: '/data/a', value: '1' },
      { op: 'add', path: '/data/b', value: '2' },
    ]);
  });

  it.each([
    ['an empty body', '', 400, 'REVIEW_EMPTY'],
    ['a body that is not JSON', '{"apiVersion": ', 400, 'REVIEW_NOT_JSON'],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 400, 'REVIEW_NOT_JSON'],
    ['JSON without a request', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, 400, 'REVIEW_INVALID'],
    ['a review without a uid', review({ ...configMapRequest(), uid: undefined }), 400, 'REVIEW_INVALID'],
    ['a body above the limit', review(configMapRequest({}, { object: { data: { x: 'y'.repeat(70 * 1024) } } })), 413, 'REVIEW_TOO_LARGE'],
  ])('answers %s with a precise 4xx Status', async (_name, payload, status, code) => {
    const res = await post('/validate', payload);
    expect(res.statusCode).toBe(status);
    expect(res.json()).toMatchObject({ kind: 'Status', status: 'Failure', code: status, reason: code });
  });

  it('denies a review whose object is broken JSON, even where the policies evaluating it fail open, with its uid echoed', async () => {
    const payload = JSON.stringify(review(configMapRequest({}, { uid: 'uid-broken', object: 'OBJECT' }))).replace('"OBJECT"', '{"metadata": {"name": "cm"} "data": {}}');
    for (const url of ['/validate', '/mutate']) {
      const res = await post(url, payload);
      expect(res.statusCode).toBe(200);
      expect(res.json().response).toMatchObject({ uid: 'uid-broken', allowed: false, status: { code: 400, reason: 'REVIEW_NOT_JSON' } });
    }
  });

  it('answers the wrong content type with 415', async () => {
    const res = await post('/validate', 'x=1', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ reason: 'REVIEW_CONTENT_TYPE' });
  });

  it.each([
    ['v1beta1', review(configMapRequest({}, { uid: 'uid-old' }), 'admission.k8s.io/v1beta1'), 'REVIEW_UNSUPPORTED_VERSION'],
    ['an unknown operation', review(configMapRequest({}, { uid: 'uid-old', operation: 'PATCH' })), 'REVIEW_INVALID'],
  ])('still answers %s with its uid echoed, denied with a 400 status', async (_name, payload, code) => {
    const res = await post('/validate', payload);
    expect(res.statusCode).toBe(200);
    expect(res.json().response).toMatchObject({ uid: 'uid-old', allowed: false, status: { code: 400, reason: code } });
  });

  it.each([
    ['with the uid echoed when the body names one', review(configMapRequest({}, { uid: 'uid-edge' })), 'uid-edge'],
    ['as a 500 Status when it does not', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, undefined],
  ])('answers an unexpected error at the HTTP edge as INTERNAL (500), never as the review\'s fault, %s', async (_name, payload, uid) => {
    // A fault outside the handler's own try (here, recording the request size), reaching the error handler.
    const broken = createWebhookServer({
      reviewer: createReviewer({ policies: () => undefined }),
      metrics: {
        ...metrics,
        requestSize: () => {
          throw new TypeError('a bug at the edge');
        },
      },
      logger: capturingLogger().logger,
      onDecision: () => undefined,
    });
    const res = await broken.inject({ method: 'POST', url: '/validate', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
    await broken.close();
    if (uid) {
      expect(res.statusCode).toBe(200);
      expect(res.json().response).toMatchObject({ uid, allowed: false, status: { code: 500, reason: 'INTERNAL' } });
    } else {
      expect(res.statusCode).toBe(500);
      expect(res.json()).toMatchObject({ kind: 'Status', code: 500, reason: 'INTERNAL' });
    }
  });

  it('exposes decisions and rejections on /metrics', async () => {
    const text = (await health.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toMatch(/bouncer_decisions_total\{endpoint="validate",decision="denied"\} [1-9]/);
    expect(text).toMatch(/bouncer_policy_decisions_total\{policy="deny-label",enforcement="deny",outcome="deny"\} [1-9]/);
    expect(text).toMatch(/bouncer_requests_rejected_total\{endpoint="validate",code="REVIEW_EMPTY"\} 1/);
    expect(text).toContain('bouncer_decision_duration_seconds_bucket{le="0.0001",endpoint="validate",decision="denied"}');
    expect(text).toMatch(/bouncer_request_duration_seconds_count\{endpoint="validate"\} [1-9]/);
    expect(text).toMatch(/bouncer_request_duration_seconds_count\{endpoint="mutate"\} [1-9]/);
  });
});

describe('webhook server behind the admission gate', () => {
  const gated = async (limits: Partial<AdmissionLimits>) => {
    const registry = await registryOf({ basic: inject('bundles').basic as string });
    const metrics = createMetrics({ defaultMetrics: false });
    const gate = createConnectionGate(createAdmissionGate({ maxConnections: 10, maxHandshakes: 10, handshakesPerSecond: 10, maxInFlight: 10, maxBufferedBytes: 1 << 20, ...limits }, { tls: false }));
    const app = createWebhookServer({ reviewer: createReviewer({ policies: registry.current }), metrics, logger: capturingLogger().logger, onDecision: () => undefined, bodyLimit: 64 * 1024, gate });
    return { app, metrics, gate };
  };
  const inject_ = (app: FastifyInstance, payload: unknown) =>
    app.inject({ method: 'POST', url: '/validate', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) });

  it('answers a review beyond the in-flight cap at once by each policy failure mode, unevaluated, with its uid', async () => {
    const { app, metrics } = await gated({ maxInFlight: 0 });
    // A compliant ConfigMap: evaluated, it is allowed; shed, the fail-closed policy denies it.
    const res = await inject_(app, review(configMapRequest({}, { uid: 'uid-shed' })));
    expect(res.statusCode).toBe(200);
    const body = res.json() as { response: { uid: string; allowed: boolean; status?: { message: string }; warnings?: string[] } };
    expect(body.response.uid).toBe('uid-shed');
    expect(body.response.allowed).toBe(false);
    expect(body.response.status?.message).toMatch(/broken-closed.*overload.*at capacity/);
    expect(body.response.warnings?.join('\n')).toMatch(/broken-open.*fail-open/);
    const text = await metrics.registry.metrics();
    expect(metricValue(text, 'bouncer_requests_shed_total', { endpoint: 'validate', reason: 'in-flight' })).toBe(1);
    expect(metricValue(text, 'bouncer_policy_errors_total', { policy: 'broken-closed', class: 'overload' })).toBe(1);
    await app.close();
  });

  it('answers 503 with Connection: close, before reading the body, when the body would pass the buffered-bytes bound', async () => {
    const { app, metrics, gate } = await gated({ maxBufferedBytes: 100 });
    const res = await inject_(app, review(configMapRequest({}, { uid: 'uid-big' })));
    expect(res.statusCode).toBe(503);
    expect(res.headers.connection).toBe('close');
    expect(res.json()).toMatchObject({ kind: 'Status', reason: 'OVERLOADED' });
    expect(metricValue(await metrics.registry.metrics(), 'bouncer_requests_shed_total', { endpoint: 'validate', reason: 'memory' })).toBe(1);
    expect(gate.gate.counts()).toMatchObject({ inFlight: 0, bufferedBytes: 0 });
    await app.close();
  });

  it('gives every request slot and byte back once answered', async () => {
    const { app, gate } = await gated({ maxInFlight: 1 });
    for (let i = 0; i < 3; i++) expect((await inject_(app, review(configMapRequest({ deny: 'true' }, { uid: `uid-${i}` })))).json()).toMatchObject({ response: { allowed: false } });
    expect(gate.gate.counts()).toMatchObject({ inFlight: 0, bufferedBytes: 0 });
    await app.close();
  });
});
