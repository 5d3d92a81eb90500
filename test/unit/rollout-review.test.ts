// Canary and shadow through the reviewer, with real compiled bundles: the deterministic slice
// decides which revision answers and the decision names it; the shadow is evaluated after the
// answer, within its own budget, and its disagreements are counted and recorded; a shadow that
// throws or hangs is counted and never changes an answer.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { decodeReview } from '../../src/admission/decode.js';
import { loadBundle, type LoadedBundle } from '../../src/bundles/bundle.js';
import { compileSlice } from '../../src/bundles/canary-slice.js';
import { createPolicyRegistry } from '../../src/bundles/registry.js';
import { inProcessBackend, type EvalBackend } from '../../src/engine/backend.js';
import type { Decision } from '../../src/review/decision.js';
import { toDecisionEvent } from '../../src/review/decision-event.js';
import { createReviewer } from '../../src/review/reviewer.js';
import { createRolloutRecorder } from '../../src/review/rollout-recorder.js';
import { compareVerdicts, createShadowRunner, type ShadowComparison } from '../../src/review/shadow-runner.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { parsePolicyException, serializePolicyException } from '../../src/bundles/policy-exception.js';
import { configMapRequest, editBundle, reviewBytes } from '../support/bundle-files.js';
import { metricValue } from '../support/metrics.js';

const denying = async (color: string[]): Promise<LoadedBundle> =>
  loadBundle('colors', await editBundle(inject('bundles').colors as string, (f) => f.set('/data.json', Buffer.from(JSON.stringify({ policies: { color_gate: { denied: color } } })))));

describe('canary and shadow in the reviewer', () => {
  let blue: LoadedBundle;
  let blueRed: LoadedBundle;
  beforeAll(async () => {
    [blue, blueRed] = await Promise.all([denying(['blue']), denying(['blue', 'red'])]);
  });

  const request = (color: string, namespace: string, name = 'cm') => {
    const bytes = reviewBytes({ ...configMapRequest({ color }), namespace, name, object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels: { color } } } });
    return { review: decodeReview(bytes), bytes };
  };
  const namespaces = (name: string) => ({ name, labels: name.startsWith('canary') ? { env: 'canary' } : { env: 'prod' } });

  it('a canary on a namespace selector decides the requests of that slice only, and every decision names its revision', async () => {
    const registry = createPolicyRegistry([blue]);
    registry.stage({ bundle: blueRed, mode: 'canary', sequence: 2, startedAt: 1, slice: compileSlice({ namespaces: 'env=canary' }) });
    const reviewer = createReviewer({ policies: registry.current, rollout: registry.snapshot, namespaces });
    const decideIn = async (ns: string) => {
      const { review, bytes } = request('red', ns);
      return reviewer.review('validate', review, bytes);
    };
    const inSlice = await decideIn('canary-1');
    const outside = await decideIn('prod-1');
    expect(inSlice).toMatchObject({ allowed: false, rollout: { role: 'canary', canaries: [{ bundle: 'colors', sequence: 2 }] } });
    expect(inSlice.auditAnnotations).toMatchObject({ 'rollout-role': 'canary', 'canary-revisions': 'colors#2' });
    expect(outside).toMatchObject({ allowed: true, rollout: { role: 'active', canaries: [] } });
    expect(outside.auditAnnotations['rollout-role']).toBe('active');
    expect(toDecisionEvent(inSlice).rollout).toEqual({ role: 'canary', canaries: ['colors#2'] });
    // A Namespace the cache does not know is out of a namespace slice.
    const unknown = await createReviewer({ policies: registry.current, rollout: registry.snapshot }).review('validate', request('red', 'canary-2').review, request('red', 'canary-2').bytes);
    expect(unknown).toMatchObject({ allowed: true, rollout: { role: 'active' } });
  });

  it('a percent canary puts each object always in or always out, on every replica', async () => {
    const replica = () => {
      const registry = createPolicyRegistry([blue]);
      registry.stage({ bundle: blueRed, mode: 'canary', sequence: 2, startedAt: 1, slice: compileSlice({ percent: 30 }) });
      return createReviewer({ policies: registry.current, rollout: registry.snapshot });
    };
    const [a, b] = [replica(), replica()];
    const roles: string[] = [];
    for (let i = 0; i < 40; i++) {
      const { review, bytes } = request('red', 'apps', `obj-${i}`);
      const [x, y, again] = await Promise.all([a.review('validate', review, bytes), b.review('validate', review, bytes), a.review('validate', review, bytes)]);
      expect(y.rollout?.role).toBe(x.rollout?.role);
      expect(again.rollout?.role).toBe(x.rollout?.role);
      expect(x.allowed).toBe(x.rollout?.role !== 'canary');
      roles.push(x.rollout?.role ?? '');
    }
    expect(roles.filter((r) => r === 'canary').length).toBeGreaterThan(3);
    expect(roles.filter((r) => r === 'active').length).toBeGreaterThan(20);
  });

  it('the recorder counts canary and active decisions into the window and the role metrics', async () => {
    const registry = createPolicyRegistry([blue]);
    registry.stage({ bundle: blueRed, mode: 'canary', sequence: 2, startedAt: 1, slice: compileSlice({ namespaces: 'env=canary' }) });
    const metrics = createMetrics({ defaultMetrics: false });
    const recorder = createRolloutRecorder({ snapshot: registry.snapshot, metrics: metrics.rollout });
    const reviewer = createReviewer({ policies: registry.current, rollout: registry.snapshot, namespaces });
    for (const [color, ns] of [['red', 'canary-a'], ['green', 'canary-a'], ['red', 'prod'], ['blue', 'prod']] as const) {
      const { review, bytes } = request(color, ns);
      recorder.observe(await reviewer.review('validate', review, bytes));
    }
    const [w] = recorder.current();
    expect(w).toMatchObject({ bundle: 'colors', sequence: 2, mode: 'canary', canary: { reviews: 2, denied: 1, errored: 0 }, active: { reviews: 2, denied: 1, errored: 0 } });
    const text = await metrics.registry.metrics();
    expect(metricValue(text, 'bouncer_rollout_decisions_total', { role: 'canary', decision: 'denied' })).toBe(1);
    expect(metricValue(text, 'bouncer_rollout_decisions_total', { role: 'active', decision: 'allowed' })).toBe(1);
    registry.unstage('colors');
    expect(recorder.current()).toEqual([]);
  });

  it('a shadow never changes the answer; it is evaluated after it, and its disagreements are counted and recorded with both verdicts', async () => {
    const registry = createPolicyRegistry([blue]);
    registry.stage({ bundle: blueRed, mode: 'shadow', sequence: 2, startedAt: 1 });
    const metrics = createMetrics({ defaultMetrics: false });
    const recorded: { shadow: Decision; comparison: ShadowComparison }[] = [];
    const deferred: (() => void)[] = [];
    const recorder = createRolloutRecorder({ snapshot: registry.snapshot, metrics: metrics.rollout });
    const shadow = createShadowRunner({
      backend: inProcessBackend(),
      maxConcurrent: 10,
      timeoutMs: 1000,
      metrics: metrics.rollout,
      windows: recorder.windows,
      schedule: (work) => deferred.push(work),
      onDisagreement: (s, comparison) => recorded.push({ shadow: s, comparison }),
    });
    const reviewer = createReviewer({ policies: registry.current, rollout: registry.snapshot, shadow });
    const red = request('red', 'apps');
    const answer = await reviewer.review('validate', red.review, red.bytes);
    // The answer is complete before the shadow has even started.
    expect(answer).toMatchObject({ allowed: true });
    expect(answer.rollout).toBeUndefined();
    expect(deferred).toHaveLength(1);
    const green = request('green', 'apps');
    await reviewer.review('validate', green.review, green.bytes);
    for (const work of deferred.splice(0)) work();
    await shadow.idle();
    expect(recorded).toHaveLength(1);
    expect(recorded[0]?.comparison).toEqual({
      candidate: { bundle: 'colors', sequence: 2, revision: blueRed.revision },
      active: { decisionId: answer.id, allowed: true, revision: answer.revision },
      disagreements: [{ policy: 'color-gate', kind: 'denied' }],
    });
    expect(recorded[0]?.shadow).toMatchObject({ id: answer.id, allowed: false });
    const text = await metrics.registry.metrics();
    expect(metricValue(text, 'bouncer_shadow_disagreements_total', { policy: 'color-gate', kind: 'denied' })).toBe(1);
    expect(metricValue(text, 'bouncer_shadow_evaluations_total', { result: 'compared' })).toBe(2);
    expect(recorder.current()[0]?.shadow).toMatchObject({ compared: 2, disagreed: 1, newlyDenied: 1 });
  });

  it('an outcome the active set exempts is not a disagreement when the shadow carries the same exception', async () => {
    const raw = { apiVersion: 'bouncer.dev/v1alpha1', kind: 'PolicyException', metadata: { name: 'legacy-cm' }, spec: { policies: ['deny-label'], match: { namespaces: ['team-a'], names: ['cm'] }, reason: 'migration', expiresAt: '2027-01-31T00:00:00Z' } };
    const e = serializePolicyException(parsePolicyException(raw, { where: 'test', code: 'EXCEPTION_INVALID', known: new Set(['deny-label']) }));
    const withException = async (extra: string) =>
      loadBundle('basic', await editBundle(inject('bundles').basic as string, (files) => {
        const manifest = JSON.parse(new TextDecoder().decode(files.get('/.manifest')));
        manifest.metadata.bouncer.exceptions = [e];
        files.set('/.manifest', new TextEncoder().encode(JSON.stringify(manifest)));
        files.set('/extra/data.json', new TextEncoder().encode(JSON.stringify({ extra })));
      }));
    const registry = createPolicyRegistry([await withException('active')]);
    registry.stage({ bundle: await withException('shadow'), mode: 'shadow', sequence: 2, startedAt: 1 });
    const recorded: ShadowComparison[] = [];
    const deferred: (() => void)[] = [];
    const shadow = createShadowRunner({ backend: inProcessBackend(), maxConcurrent: 10, timeoutMs: 1000, schedule: (work) => deferred.push(work), onDisagreement: (_s, c) => recorded.push(c) });
    // Pinned before the expiry: the shadow judges the exception at the time the active set did.
    const reviewer = createReviewer({ policies: registry.current, rollout: registry.snapshot, shadow, clockNs: () => BigInt(Date.parse('2027-01-01T00:00:00Z')) * 1_000_000n });
    const bytes = reviewBytes({ ...configMapRequest({ deny: 'true' }), namespace: 'team-a', name: 'cm' });
    const answer = await reviewer.review('validate', decodeReview(bytes), bytes);
    expect(answer.auditAnnotations['exempted-by']).toBe('deny-label:legacy-cm');
    expect(deferred).toHaveLength(1);
    for (const work of deferred.splice(0)) work();
    await shadow.idle();
    expect(recorded).toEqual([]);
  });

  it('over its concurrency budget a shadow is skipped and counted; one that throws or hangs is counted; answers are unaffected', async () => {
    const registry = createPolicyRegistry([blue]);
    registry.stage({ bundle: blueRed, mode: 'shadow', sequence: 2, startedAt: 1 });
    const real = inProcessBackend();
    let mode: 'hang' | 'throw' = 'hang';
    const hangs: (() => void)[] = [];
    // The active set's bundle evaluates normally; the candidate's hangs or throws.
    const backend: EvalBackend = {
      ...real,
      evaluate: (input, jobs, deadline) => {
        if (jobs[0]?.bundle !== blueRed) return real.evaluate(input, jobs, deadline);
        if (mode === 'throw') return Promise.reject(new Error('shadow exploded'));
        return new Promise((resolve) => hangs.push(() => resolve(jobs.map(() => []))));
      },
    };
    const metrics = createMetrics({ defaultMetrics: false });
    const shadow = createShadowRunner({ backend, maxConcurrent: 2, timeoutMs: 50, metrics: metrics.rollout });
    const reviewer = createReviewer({ policies: registry.current, rollout: registry.snapshot, backend, shadow });
    const blueReq = request('blue', 'apps');
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await reviewer.review('validate', blueReq.review, blueReq.bytes));
    expect(answers.every((a) => !a.allowed)).toBe(true);
    await new Promise((r) => setTimeout(r, 120));
    let text = await metrics.registry.metrics();
    expect(metricValue(text, 'bouncer_shadow_evaluations_total', { result: 'skipped' })).toBe(3);
    expect(metricValue(text, 'bouncer_shadow_evaluations_total', { result: 'timeout' })).toBe(2);
    // The hung evaluations still hold their slots: the budget bounds work, not only waiting.
    await reviewer.review('validate', blueReq.review, blueReq.bytes);
    text = await metrics.registry.metrics();
    expect(metricValue(text, 'bouncer_shadow_evaluations_total', { result: 'skipped' })).toBe(4);
    for (const end of hangs.splice(0)) end();
    await shadow.idle();
    mode = 'throw';
    const answer = await reviewer.review('validate', blueReq.review, blueReq.bytes);
    expect(answer.allowed).toBe(false);
    await shadow.idle();
    text = await metrics.registry.metrics();
    expect(metricValue(text, 'bouncer_shadow_evaluations_total', { result: 'failed' })).toBe(1);
  });

  it('with every bundle removed, a remaining candidate never answers: the review fails closed', async () => {
    const registry = createPolicyRegistry([blue]);
    const other = { ...blueRed, name: 'other' };
    registry.stage({ bundle: other, mode: 'canary', sequence: 2, startedAt: 1, slice: compileSlice({ percent: 100 }) });
    registry.remove('colors');
    expect(registry.snapshot().candidates).toHaveLength(1);
    const reviewer = createReviewer({ policies: registry.current, rollout: registry.snapshot });
    const { review, bytes } = request('green', 'apps');
    expect(await reviewer.review('validate', review, bytes)).toMatchObject({ allowed: false, message: expect.stringContaining('no policy set is active yet') });
  });

  it.each([
    ['pass → deny', [{ action: 'pass' }], [{ action: 'deny' }], 'denied'],
    ['deny → pass', [{ action: 'deny' }], [{ action: 'pass' }], 'allowed'],
    ['fail-open error appears', [{ action: 'pass' }], [{ action: 'error', failure: 'fail-open' }], 'error'],
    ['fail-closed error appears', [{ action: 'pass' }], [{ action: 'error', failure: 'fail-closed' }], 'denied'],
    ['warn appears', [{ action: 'pass' }], [{ action: 'warn' }], 'warned'],
    ['warn goes', [{ action: 'warn' }], [], 'unwarned'],
    ['patch differs', [{ action: 'mutate', patch: [{ op: 'add', path: '/a', value: 1 }] }], [{ action: 'mutate', patch: [{ op: 'add', path: '/a', value: 2 }] }], 'patched'],
    ['same deny', [{ action: 'deny' }], [{ action: 'deny' }], undefined],
  ])('compareVerdicts: %s', (_name, a, s, kind) => {
    const o = (x: Record<string, unknown>) => ({ policy: 'p', bundle: 'b', enforcement: 'deny', failure: 'fail-closed', violations: [], warnings: [], ...x }) as never;
    expect(compareVerdicts(a.map(o), s.map(o))).toEqual(kind ? [{ policy: 'p', kind }] : []);
  });
});
