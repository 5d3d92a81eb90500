// Properties of the HTTP edge over generated and mutated AdmissionReviews, through
// fastify.inject and the real compiled starter and test policies: the uid is always echoed,
// validating answers never carry a patch, mutating patches apply and are idempotent,
// nothing escapes the handler, and every answer is a v1 review or a deliberate 4xx.
import fc from 'fast-check';
import fastJsonPatch from 'fast-json-patch';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { webhookApp } from '../support/webhook-app.js';

const RUNS = Number(process.env.BOUNCER_FUZZ_RUNS ?? 150);

const name = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);
const image = fc.oneof(
  fc.constantFrom('registry.k8s.io/pause:3.10', 'nginx', 'nginx:latest', 'evil.example/x:1', 'localhost:5000/app', 'ghcr.io/a/b@sha256:' + 'a'.repeat(64)),
  fc.string({ maxLength: 40 }),
);
const container = fc.record(
  {
    name,
    image,
    securityContext: fc.option(fc.record({ privileged: fc.boolean() }, { requiredKeys: [] }), { nil: undefined }),
    resources: fc.option(fc.record({ limits: fc.option(fc.record({ cpu: fc.constant('1'), memory: fc.constant('1Gi') }), { nil: undefined }), requests: fc.option(fc.record({ cpu: fc.constant('1') }), { nil: undefined }) }, { requiredKeys: [] }), { nil: undefined }),
    env: fc.option(fc.array(fc.record({ name, value: fc.string() }), { maxLength: 2 }), { nil: undefined }),
  },
  { requiredKeys: ['name', 'image'] },
);
const podSpec = fc.record(
  {
    containers: fc.array(container, { minLength: 1, maxLength: 3 }),
    initContainers: fc.option(fc.array(container, { maxLength: 2 }), { nil: undefined }),
    hostNetwork: fc.option(fc.boolean(), { nil: undefined }),
    securityContext: fc.option(fc.record({ runAsNonRoot: fc.boolean() }, { requiredKeys: [] }), { nil: undefined }),
    volumes: fc.option(fc.array(fc.record({ name, hostPath: fc.option(fc.record({ path: fc.constantFrom('/', '/var/run') }), { nil: undefined }) }), { maxLength: 2 }), { nil: undefined }),
  },
  { requiredKeys: ['containers'] },
);
const labels = fc.dictionary(fc.constantFrom('deny', 'warn', 'dryrun', 'break-open', 'break-closed', 'owner', 'app', '__proto__', 'constructor'), fc.constantFrom('true', 'x', ''), { maxKeys: 4 });

const kinds = {
  Pod: { group: '', version: 'v1', kind: 'Pod', resource: 'pods', object: (spec: unknown) => ({ spec }) },
  Deployment: { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', object: (spec: unknown) => ({ spec: { template: { spec } } }) },
  CronJob: { group: 'batch', version: 'v1', kind: 'CronJob', resource: 'cronjobs', object: (spec: unknown) => ({ spec: { jobTemplate: { spec: { template: { spec } } } } }) },
  ConfigMap: { group: '', version: 'v1', kind: 'ConfigMap', resource: 'configmaps', object: () => ({ data: { x: '1' } }) },
} as const;

const request = fc
  .record({
    uid: fc.uuid(),
    kind: fc.constantFrom(...(Object.keys(kinds) as (keyof typeof kinds)[])),
    operation: fc.constantFrom('CREATE', 'CREATE', 'CREATE', 'UPDATE', 'DELETE', 'CONNECT'),
    spec: podSpec,
    labels,
    name,
    subResource: fc.constantFrom(undefined, undefined, undefined, 'ephemeralcontainers', 'status'),
    dryRun: fc.boolean(),
  })
  .map((r) => {
    const k = kinds[r.kind];
    const object = { apiVersion: k.group ? `${k.group}/${k.version}` : k.version, kind: k.kind, metadata: { name: r.name, namespace: 'team', labels: r.labels }, ...k.object(r.spec) };
    return {
      uid: r.uid,
      kind: { group: k.group, version: k.version, kind: k.kind },
      resource: { group: k.group, version: k.version, resource: k.resource },
      ...(r.subResource ? { subResource: r.subResource } : {}),
      operation: r.operation,
      namespace: 'team',
      name: r.name,
      userInfo: { username: 'fuzz' },
      object: r.operation === 'DELETE' ? null : object,
      oldObject: r.operation === 'UPDATE' || r.operation === 'DELETE' ? object : null,
      dryRun: r.dryRun,
    };
  });

describe('protocol properties', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await webhookApp({ starter: inject('bundles').starter as string, basic: inject('bundles').basic as string });
  });
  afterAll(() => app.close());

  const send = (endpoint: string, payload: string | Buffer) =>
    app.inject({ method: 'POST', url: `/${endpoint}`, headers: { 'content-type': 'application/json' }, payload });

  it('echoes the uid and never patches on /validate', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const res = await send('validate', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: req }));
        expect(res.statusCode).toBe(200);
        const { response } = res.json();
        expect(response.uid).toBe(req.uid);
        expect(response).not.toHaveProperty('patch');
        expect(response).not.toHaveProperty('patchType');
        if (!response.allowed) expect(response.status.message.length).toBeGreaterThan(0);
      }),
      { numRuns: RUNS },
    );
  });

  it('returns patches on /mutate that apply to the object and are idempotent', async () => {
    let patched = 0;
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const review = (object: unknown) => JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { ...req, object } });
        const res = await send('mutate', review(req.object));
        expect(res.statusCode).toBe(200);
        const { response } = res.json();
        expect(response.uid).toBe(req.uid);
        if (!response.patch) return;
        patched++;
        expect(['CREATE', 'UPDATE']).toContain(req.operation);
        expect(response.patchType).toBe('JSONPatch');
        const ops = JSON.parse(Buffer.from(response.patch, 'base64').toString()) as fastJsonPatch.Operation[];
        const mutated = fastJsonPatch.applyPatch(structuredClone(req.object), ops, true, false).newDocument;
        const again = (await send('mutate', review(mutated))).json().response;
        expect(again.patch).toBeUndefined();
      }),
      { numRuns: RUNS },
    );
    // The generator must actually exercise mutation.
    expect(patched).toBeGreaterThan(RUNS / 10);
  });

  it('answers arbitrary and mutated bodies with a v1 review (uid echoed) or a deliberate 4xx', async () => {
    const valid = request.map((req) => JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: req }));
    const mutatedBody = fc.tuple(valid, fc.nat(), fc.nat({ max: 60 }), fc.string({ maxLength: 8 })).map(([text, at, cut, insert]) => {
      const i = at % Math.max(1, text.length);
      return text.slice(0, i) + insert + text.slice(Math.min(text.length, i + cut));
    });
    const body = fc.oneof(mutatedBody, fc.json(), fc.string(), fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)));
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom('validate', 'mutate'), async (payload, endpoint) => {
        const res = await send(endpoint, payload);
        const answer = res.json();
        if (res.statusCode === 200) {
          expect(answer).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' });
          expect(typeof answer.response.uid).toBe('string');
          expect(typeof answer.response.allowed).toBe('boolean');
        } else {
          expect([400, 413, 415]).toContain(res.statusCode);
          expect(answer).toMatchObject({ kind: 'Status', status: 'Failure', code: res.statusCode });
        }
        expect(Object.prototype).not.toHaveProperty('polluted');
      }),
      { numRuns: RUNS * 2 },
    );
  });
});
