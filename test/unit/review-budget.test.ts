// The review time budget is an upper bound, against real OPA-built slow policies on the real
// worker pool: whatever the number, order and speed of slow policies, and with other reviews
// competing for the workers, every review is answered within its budget (plus slack for the
// event loop and worker replacement). Policies cut by the budget fail by their failure mode,
// with the reason recorded; policies evaluated in time keep their real outcome.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { decodeReview } from '../../src/admission/decode.js';
import { loadBundle, type LoadedBundle } from '../../src/bundles/bundle.js';
import { createPolicyRegistry } from '../../src/bundles/registry.js';
import type { EvalBackend } from '../../src/engine/backend.js';
import { createWorkerPool } from '../../src/engine/worker-pool.js';
import type { Decision, PolicyOutcome } from '../../src/review/decision.js';
import { createReviewer, type Reviewer } from '../../src/review/reviewer.js';
import { configMapRequest, reviewBytes } from '../support/bundle-files.js';

const log = { warn: () => undefined, error: () => undefined };
const POLICY_TIMEOUT_MS = 500;
const BUDGET_MS = 1200;
/** Event-loop, watchdog and worker-replacement slack on a loaded 2-core machine; not a speed goal. */
const SLACK_MS = 600;
/** A spin that would run for minutes. */
const FOREVER = '200000';

describe('review time budget', () => {
  let pool: EvalBackend;
  let slow: LoadedBundle;
  let reviewer: Reviewer;
  /** Spin size N for which one slow policy runs about 200 ms here (under the policy timeout). */
  let moderate: string;

  beforeAll(async () => {
    slow = await loadBundle('slow', readFileSync(inject('bundles').slow as string));
    pool = createWorkerPool({ size: 2, maxQueue: 64, policyTimeoutMs: POLICY_TIMEOUT_MS, log });
    await pool.prepare(slow);
    reviewer = createReviewer({ policies: createPolicyRegistry([slow]).current, backend: pool, reviewBudgetMs: BUDGET_MS });
    // Calibrate on this machine: the spin is N*N steps.
    const slowA = slow.policies.find((p) => p.meta.id === 'slow-a')?.validate as number;
    const timed = (n: number) => {
      const started = performance.now();
      slow.evaluator.evaluate(reviewBytes(configMapRequest({ 'slow-a': String(n) })), [slowA]);
      return performance.now() - started;
    };
    const base = 1000;
    const ms = Math.max(1, timed(base));
    moderate = String(Math.round(base * Math.sqrt(200 / ms)));
  });
  afterAll(() => pool.close());
  // Each case starts from a pool at rest: preparing waits for every worker, spares included,
  // to be booted (replacements of the previous case's stopped workers too).
  beforeEach(() => pool.prepare(slow));

  const review = async (labels: Record<string, string>): Promise<{ decision: Decision; ms: number; by: (id: string) => PolicyOutcome | undefined }> => {
    const raw = reviewBytes(configMapRequest(labels));
    const started = performance.now();
    const decision = await reviewer.review('validate', decodeReview(raw), raw);
    return { decision, ms: performance.now() - started, by: (id) => decision.outcomes.find((o) => o.policy === id) };
  };

  it.each([
    ['one slow policy, not the last', { 'slow-a': FOREVER }, true],
    ['one slow fail-closed policy in the middle', { 'slow-b': FOREVER }, false],
    ['the last slow policy', { 'slow-c': FOREVER }, true],
    ['three slow policies in a row', { 'slow-a': FOREVER, 'slow-b': FOREVER, 'slow-c': FOREVER }, false],
    ['two slow fail-open policies around a fast one', { 'slow-a': FOREVER, 'slow-c': FOREVER }, true],
  ])('%s: answered within the budget, the slow ones failed by their failure mode', async (_name, labels, allowed) => {
    const { decision, ms, by } = await review({ ...labels, first: 'deny' });
    expect(ms).toBeLessThan(BUDGET_MS + SLACK_MS);
    // `first` runs before anything slow: its real outcome is kept.
    expect(by('first')).toMatchObject({ action: 'deny' });
    for (const id of Object.keys(labels)) expect(by(id)).toMatchObject({ action: 'error', error: { class: expect.stringMatching(/^(timeout|overload)$/) } });
    // A fail-closed policy cut by the budget denies; fail-open ones admit (here `first` denies anyway).
    expect(decision.allowed).toBe(false);
    expect(decision.message ?? '').toContain(allowed ? 'first says no' : 'slow-b');
    // Every in-scope policy has an outcome, evaluated or cut.
    expect(decision.outcomes.map((o) => o.policy)).toEqual(['first', 'slow-a', 'slow-b', 'slow-c', 'then']);
  });

  it('several moderately slow policies, each within its own timeout but over the budget together', async () => {
    const { decision, ms, by } = await review({ 'slow-a': moderate, 'slow-b': moderate, 'slow-c': moderate, then: 'deny' });
    expect(ms).toBeLessThan(BUDGET_MS + SLACK_MS);
    expect(decision.outcomes).toHaveLength(5);
    // Whatever was cut failed by its failure mode; whatever ran has its real outcome.
    for (const id of ['slow-a', 'slow-b', 'slow-c']) expect(['pass', 'error']).toContain(by(id)?.action);
    expect(['deny', 'error']).toContain(by('then')?.action);
  });

  it('reviews competing for the workers are each answered within their budget, retries not sent to the back of the queue', async () => {
    const reviews = Array.from({ length: 6 }, (_, i) => review({ 'slow-a': FOREVER, 'slow-c': i % 2 === 0 ? FOREVER : '1', then: 'deny' }));
    const answered = await Promise.all(reviews);
    for (const { ms, decision, by } of answered) {
      expect(ms).toBeLessThan(BUDGET_MS + SLACK_MS);
      expect(by('slow-a')).toMatchObject({ action: 'error' });
      // `then` denies if it was evaluated in time; policies cut decide by their failure mode.
      expect(['deny', 'error']).toContain(by('then')?.action);
      expect(decision.allowed).toBe(!decision.outcomes.some((o) => o.action === 'deny' || (o.action === 'error' && o.failure === 'fail-closed')));
    }
    // Once the replacement workers are up, a fast review gets its real outcome at once.
    await pool.prepare(slow);
    const after = await review({ then: 'deny' });
    expect(after.by('then')).toMatchObject({ action: 'deny' });
    expect(after.ms).toBeLessThan(BUDGET_MS);
  });
});
