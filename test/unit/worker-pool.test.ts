import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { configMapRequest, reviewBytes } from '../support/bundle-files.js';
import { loadBundle, type LoadedBundle } from '../../src/bundles/bundle.js';
import type { EvalBackend } from '../../src/engine/backend.js';
import { createWorkerPool } from '../../src/engine/worker-pool.js';

const log = { warn: () => undefined, error: () => undefined };

describe('worker pool', () => {
  let faults: LoadedBundle;
  let basic: LoadedBundle;
  let pool: EvalBackend;
  let timeouts = 0;
  let overloads = 0;
  const ids = (bundle: LoadedBundle, ...policies: string[]) => policies.map((id) => bundle.policies.find((p) => p.meta.id === id)?.validate as number);

  beforeAll(async () => {
    faults = await loadBundle('faults', readFileSync(inject('bundles').faults as string));
    basic = await loadBundle('basic', readFileSync(inject('bundles').basic as string));
    pool = createWorkerPool({ size: 2, maxQueue: 4, policyTimeoutMs: 300, log, onTimeout: () => timeouts++, onOverload: () => overloads++ });
    await pool.prepare(faults);
    await pool.prepare(basic);
  });
  afterAll(() => pool.close());

  it('evaluates on workers exactly as in-process', async () => {
    const input = reviewBytes(configMapRequest({ deny: 'true', marker: 'deny' }));
    const jobs = [
      { bundle: basic, entrypoints: ids(basic, 'deny-label', 'warn-label') },
      { bundle: faults, entrypoints: ids(faults, 'marker') },
    ];
    const onWorkers = await pool.evaluate(input, jobs, Date.now() + 5000);
    expect(onWorkers).toEqual(jobs.map((j) => j.bundle.evaluator.evaluate(input, j.entrypoints)));
  });

  it('stops a policy past its budget, fails only that policy, and keeps serving', async () => {
    const input = reviewBytes(configMapRequest({ 'spin-closed': 'x', marker: 'deny' }));
    const started = Date.now();
    const [outcomes] = await pool.evaluate(input, [{ bundle: faults, entrypoints: ids(faults, 'marker', 'spin-closed', 'spin-open') }], Date.now() + 5000);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(outcomes?.[0]).toEqual({ ok: true, value: { deny: ['marker says no'], warn: [] } });
    expect(outcomes?.[1]).toMatchObject({ ok: false, failure: { class: 'timeout' } });
    expect(outcomes?.[2]).toEqual({ ok: true, value: { deny: [], warn: [] } });
    expect(timeouts).toBe(1);
    // The replacement worker has the bundles: the next review is evaluated normally.
    const next = await pool.evaluate(reviewBytes(configMapRequest({ marker: 'deny' })), [{ bundle: faults, entrypoints: ids(faults, 'marker') }], Date.now() + 5000);
    expect(next[0]?.[0]).toEqual({ ok: true, value: { deny: ['marker says no'], warn: [] } });
  });

  it('answers fast as overloaded beyond the queue bound instead of queueing without limit', async () => {
    const spin = reviewBytes(configMapRequest({ 'spin-open': 'x' }));
    const busy = Array.from({ length: 8 }, () => pool.evaluate(spin, [{ bundle: faults, entrypoints: ids(faults, 'spin-open') }], Date.now() + 10_000));
    const results = await Promise.all(busy);
    const classes = results.map((r) => (r[0]?.[0]?.ok ? 'ok' : (r[0]?.[0] as { failure: { class: string } }).failure.class));
    expect(classes.filter((c) => c === 'overload').length).toBeGreaterThanOrEqual(2);
    expect(classes.filter((c) => c === 'timeout').length).toBeGreaterThanOrEqual(2);
    expect(overloads).toBeGreaterThanOrEqual(2);
  });
});
