// Bodies the policy engine (OPA's WASM JSON parser) cannot parse, or parses to another value
// than JavaScript does, are malformed reviews: answered REVIEW_NOT_JSON by uid whatever the
// policies' failure modes, on both endpoints, with the in-process backend and the worker
// pool, and never from the decision cache. One case per class found by probing the real
// engine (see docs/reliability.md, "Hardening: one JSON language"); the generated cases are
// in json-language.property.test.ts.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { decodeReview } from '../../src/admission/decode.js';
import type { EvalBackend } from '../../src/engine/backend.js';
import { createWorkerPool } from '../../src/engine/worker-pool.js';
import { createDecisionCache } from '../../src/review/decision-cache.js';
import { createWebhookServer } from '../../src/http/webhook-server.js';
import { createReviewer } from '../../src/review/reviewer.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { configMapRequest } from '../support/bundle-files.js';
import { capturingLogger, registryOf } from '../support/reviewing.js';

const log = { warn: () => undefined, error: () => undefined };
/** MAX_DEPTH of src/admission/strict-json.ts, written out so this file also runs against the base commit. */
const MAX_DEPTH = 10_002;
const encoder = new TextEncoder();

/** A ConfigMap review the fail-open policy denies (label deny), with `raw` as data.x's JSON text. */
function withRaw(raw: string, options: { kind?: string; uid?: string; labels?: Record<string, string> } = {}): string {
  const request = configMapRequest(options.labels ?? { deny: 'true' }, { uid: '@uid@' });
  if (options.kind) (request as { kind: { kind: string } }).kind.kind = options.kind;
  const text = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request });
  // The uid is given as JSON text too (it may hold an escape JSON.stringify would not write).
  return text.replace('"x":"1"', `"x":${raw}`).replace('"@uid@"', `"${options.uid ?? 'uid-parse'}"`);
}

/** `depth` nested arrays at data.x. */
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
// The body's own levels above data.x: the review, request, object, data.
const ABOVE_X = 4;

// [class, body]. Each is admitted or evaluated on the base commit (bb6b31f): WASM aborts
// (classed as a runtime error, so the fail-open policy admitted), or parses to a value
// JavaScript does not read, or is never parsed because no policy is in scope.
const classes: [string, () => string | Buffer][] = [
  ['a lone high surrogate escape', () => withRaw('"\\ud800"')],
  ['a lone low surrogate escape', () => withRaw('"\\udc00"')],
  ['a high surrogate escape followed by a character', () => withRaw('"\\ud800x"')],
  ['a high surrogate escape followed by a non-surrogate escape (WASM reads U+FFFD)', () => withRaw('"\\ud800\\u0041"')],
  ['a low then a high surrogate escape (WASM reads U+10FC00)', () => withRaw('"\\udc00\\ud800"')],
  ['a lone surrogate escape in request.uid', () => withRaw('"1"', { uid: 'uid-\\ud800' })],
  ['a number without digits after "." (WASM keeps "1.")', () => withRaw('1.')],
  ['an exponent without digits (WASM keeps "1e+")', () => withRaw('1e+')],
  ['a number beyond a double (JS reads Infinity, OPA the decimal)', () => withRaw('1e400')],
  ['an array without commas (WASM reads [1,2])', () => withRaw('[1 2]')],
  ['an array with a trailing comma (WASM reads [1])', () => withRaw('[1,]')],
  ['a non-string key (WASM reads {"1":2})', () => withRaw('{1:2}')],
  ['an invalid escape, no policy in scope (never parsed)', () => withRaw('"\\x"', { kind: 'Secret' })],
  ['a byte-order mark, no policy in scope (TextDecoder drops it)', () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(withRaw('"1"', { kind: 'Secret' }))])],
  [`nesting deeper than ${MAX_DEPTH} levels (beyond the API server's JSON limit and the engine's stack)`, () => withRaw(nested(MAX_DEPTH - ABOVE_X + 1))],
];

describe.each([
  ['in-process', () => undefined],
  ['worker pool', () => createWorkerPool({ size: 1, maxQueue: 8, policyTimeoutMs: 5000, log })],
] as [string, () => EvalBackend | undefined][])('a body the engine cannot read alike (%s backend)', (_name, makeBackend) => {
  let app: FastifyInstance;
  let backend: EvalBackend | undefined;
  beforeAll(async () => {
    backend = makeBackend();
    const registry = await registryOf({ 'fail-open': inject('bundles')['fail-open'] as string });
    for (const bundle of registry.current()?.bundles ?? []) await backend?.prepare(bundle);
    app = createWebhookServer({
      reviewer: createReviewer({ policies: registry.current, ...(backend ? { backend } : {}) }),
      metrics: createMetrics({ defaultMetrics: false }),
      logger: capturingLogger().logger,
      onDecision: () => undefined,
    });
  });
  afterAll(async () => {
    await app.close();
    await backend?.close();
  });

  const send = (endpoint: string, payload: string | Buffer) => app.inject({ method: 'POST', url: `/${endpoint}`, headers: { 'content-type': 'application/json' }, payload });

  it.each(classes.flatMap(([name, body]) => (['validate', 'mutate'] as const).map((endpoint) => [name, endpoint, body] as const)))(
    '%s on /%s: REVIEW_NOT_JSON by uid, not admitted',
    async (name, endpoint, body) => {
      const payload = body();
      const uid = name.includes('request.uid') ? 'uid-\ud800' : 'uid-parse';
      const res = await send(endpoint, payload);
      expect(res.statusCode).toBe(200);
      expect(res.json().response).toMatchObject({ uid, allowed: false, status: { code: 400, reason: 'REVIEW_NOT_JSON' } });
    },
  );

  it('still evaluates the same review when it is valid: the fail-open policy denies it', async () => {
    const res = await send('validate', withRaw('"1"'));
    expect(res.json().response).toMatchObject({ uid: 'uid-parse', allowed: false, status: { code: 403 } });
  });
});

describe('nesting the engine parses', () => {
  let pool: EvalBackend;
  beforeAll(() => {
    pool = createWorkerPool({ size: 1, maxQueue: 8, policyTimeoutMs: 5000, log });
  });
  afterAll(() => pool.close());

  it(`parses the deepest review the API server can send (${MAX_DEPTH} levels) on the worker pool, and evaluates it`, async () => {
    const registry = await registryOf({ 'fail-open': inject('bundles')['fail-open'] as string });
    for (const bundle of registry.current()?.bundles ?? []) await pool.prepare(bundle);
    const bytes = encoder.encode(withRaw(nested(MAX_DEPTH - ABOVE_X)));
    const decision = await createReviewer({ policies: registry.current, backend: pool }).review('validate', decodeReview(bytes), bytes);
    expect(decision.outcomes).toMatchObject([{ policy: 'fail-open-deny', action: 'deny' }]);
  });

  it('rejects as REVIEW_NOT_JSON, not by failure mode, nesting this thread parses no deeper than (in-process)', async () => {
    const registry = await registryOf({ 'fail-open': inject('bundles')['fail-open'] as string });
    // Within the accepted language, beyond what the main thread's stack lets OPA's recursive parser reach.
    const bytes = encoder.encode(withRaw(`{"a":`.repeat(MAX_DEPTH - ABOVE_X - 1) + '1' + '}'.repeat(MAX_DEPTH - ABOVE_X - 1)));
    const review = decodeReview(bytes);
    await expect(createReviewer({ policies: registry.current }).review('validate', review, bytes)).rejects.toMatchObject({
      code: 'REVIEW_NOT_JSON',
      details: { uid: 'uid-parse' },
    });
  });

  it('rejects as REVIEW_NOT_JSON a legal review whose parse exhausts the engine memory (in-process)', async () => {
    const registry = await registryOf({ 'fail-open': inject('bundles')['fail-open'] as string });
    const bytes = encoder.encode(withRaw(`[${'"",'.repeat(2 * 1024 * 1024)}""]`));
    const review = decodeReview(bytes);
    await expect(createReviewer({ policies: registry.current }).review('validate', review, bytes)).rejects.toMatchObject({
      code: 'REVIEW_NOT_JSON',
      message: expect.stringContaining('opa_malloc'),
    });
  });
});

describe('the decoder reads what the engine reads', () => {
  it('with a duplicate "request", takes the last one for the objects too (as JSON.parse and OPA do)', () => {
    const first = JSON.stringify(configMapRequest({ deny: 'true' }, { uid: 'first' }));
    const last = JSON.stringify({ ...configMapRequest({}, { uid: 'last' }), object: undefined });
    const text = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":${first},"request":${last}}`;
    const review = decodeReview(encoder.encode(text));
    expect(review.request.uid).toBe('last');
    expect(review.request.object).toBeUndefined();
    expect(review.request.objectMetadata).toBeUndefined();
  });
});

describe('the decision cache', () => {
  it('never answers a body the engine cannot parse from the entry of a valid one (the uid is outside the digest)', async () => {
    const registry = await registryOf({ 'fail-open': inject('bundles')['fail-open'] as string });
    const reviewer = createReviewer({ policies: registry.current, cache: createDecisionCache({ maxEntries: 10, ttlMs: 60_000 }) });
    const valid = encoder.encode(withRaw('"1"', { uid: 'uid-a', labels: {} }));
    expect((await reviewer.review('validate', decodeReview(valid), valid)).allowed).toBe(true);
    const malformed = encoder.encode(withRaw('"1"', { uid: 'uid-\\ud800', labels: {} }));
    const decided = async () => reviewer.review('validate', decodeReview(malformed), malformed);
    await expect(decided()).rejects.toMatchObject({ code: 'REVIEW_NOT_JSON' });
  });
});
