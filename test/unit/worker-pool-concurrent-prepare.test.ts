// Two bundles loading at once, as the bundle watcher loads every bundle present when a replica
// starts: the first one's activation publishes a set without the second, still being prepared.
// Seen in a kind cluster (test/e2e/kind-cluster.test.ts): retiring the second then released it
// from every worker just before it was activated, and every review failed closed with
// "bundle <key> is not loaded in this worker".
import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { configMapRequest, reviewBytes } from '../support/bundle-files.js';
import { loadBundle } from '../../src/bundles/bundle.js';
import { createWorkerPool } from '../../src/engine/worker-pool.js';

const log = { warn: () => undefined, error: () => undefined };

describe('worker pool, bundles prepared concurrently', () => {
  it('does not retire a bundle whose prepare is in flight when a set without it is published', async () => {
    const faults = await loadBundle('faults', readFileSync(inject('bundles').faults as string));
    const basic = await loadBundle('basic', readFileSync(inject('bundles').basic as string));
    const pool = createWorkerPool({ size: 2, maxQueue: 100, policyTimeoutMs: 2000, log });
    try {
      await pool.prepare(faults);
      // basic's prepare is posted; before it answers, faults' activation publishes {faults}.
      const preparing = pool.prepare(basic);
      pool.retain(new Set([faults.key]));
      await preparing;
      pool.retain(new Set([faults.key, basic.key]));
      const deny = basic.policies.find((p) => p.meta.id === 'deny-label')?.validate as number;
      const input = reviewBytes(configMapRequest({ deny: 'true' }));
      // Both workers (and the spare) must have it: several reviews, spread over the slots.
      const results = await Promise.all(Array.from({ length: 6 }, () => pool.evaluate(input, [{ bundle: basic, entrypoints: [deny] }], Date.now() + 10_000)));
      for (const r of results) expect(r[0]?.[0]).toEqual(basic.evaluator.evaluate(input, [deny])[0]);
      expect(results[0]?.[0]?.[0]?.ok).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('still releases a bundle retired after its prepare finished', async () => {
    const basic = await loadBundle('basic', readFileSync(inject('bundles').basic as string));
    const pool = createWorkerPool({ size: 1, maxQueue: 100, policyTimeoutMs: 2000, log });
    try {
      await pool.prepare(basic);
      pool.retain(new Set());
      await new Promise((r) => setTimeout(r, 100));
      const deny = basic.policies.find((p) => p.meta.id === 'deny-label')?.validate as number;
      const late = await pool.evaluate(reviewBytes(configMapRequest({ deny: 'true' })), [{ bundle: basic, entrypoints: [deny] }], Date.now() + 5000);
      expect(late[0]?.[0]).toMatchObject({ ok: false, failure: { message: expect.stringContaining('is not loaded in this worker') } });
    } finally {
      await pool.close();
    }
  });
});
