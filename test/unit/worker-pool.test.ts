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

describe('worker pool queue', () => {
  it('keeps idle workers busy after dropping reviews that waited past their deadline', async () => {
    const faults = await loadBundle('faults', readFileSync(inject('bundles').faults as string));
    const pool = createWorkerPool({ size: 1, maxQueue: 100, policyTimeoutMs: 300, log });
    await pool.prepare(faults);
    const marker = faults.policies.find((p) => p.meta.id === 'marker')?.validate as number;
    const spin = faults.policies.find((p) => p.meta.id === 'spin-open')?.validate as number;
    // The worker spins; meanwhile reviews with a short deadline queue up and expire, then one with a long deadline.
    const busy = pool.evaluate(reviewBytes(configMapRequest({ 'spin-open': 'x' })), [{ bundle: faults, entrypoints: [spin] }], Date.now() + 10_000);
    const expired = Array.from({ length: 3 }, () => pool.evaluate(reviewBytes(configMapRequest({})), [{ bundle: faults, entrypoints: [marker] }], Date.now() + 50));
    const late = pool.evaluate(reviewBytes(configMapRequest({ marker: 'deny' })), [{ bundle: faults, entrypoints: [marker] }], Date.now() + 10_000);
    await busy;
    for (const r of await Promise.all(expired)) expect(r[0]?.[0]).toMatchObject({ ok: false, failure: { class: 'overload' } });
    expect((await late)[0]?.[0]).toEqual({ ok: true, value: { deny: ['marker says no'], warn: [] } });
    await pool.close();
  });
});

describe('worker pool swaps', () => {
  it('keeps a bundle dropped from the active set for the reviews already queued for it', async () => {
    const basic = await loadBundle('basic', readFileSync(inject('bundles').basic as string));
    const pool = createWorkerPool({ size: 1, maxQueue: 100, policyTimeoutMs: 2000, log });
    try {
      await pool.prepare(basic);
      const deny = basic.policies.find((p) => p.meta.id === 'deny-label')?.validate as number;
      const input = reviewBytes(configMapRequest({ deny: 'true' }));
      // One worker: these queue behind each other, then the set moves on without the bundle.
      const queued = Array.from({ length: 20 }, () => pool.evaluate(input, [{ bundle: basic, entrypoints: [deny] }], Date.now() + 10_000));
      pool.retain(new Set());
      const results = await Promise.all(queued);
      expect(results.every((r) => r[0]?.[0]?.ok === true)).toBe(true);
      // Once nothing uses it, it is released: a review of it now is refused by the worker.
      await new Promise((r) => setTimeout(r, 200));
      const late = await pool.evaluate(input, [{ bundle: basic, entrypoints: [deny] }], Date.now() + 5000);
      expect(late[0]?.[0]).toMatchObject({ ok: false, failure: { message: expect.stringContaining('is not loaded in this worker') } });
    } finally {
      await pool.close();
    }
  });
});
