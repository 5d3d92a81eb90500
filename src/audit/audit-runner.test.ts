// The runner's contract with a fake auditor and Lease: runs only while leading and ready, one at
// a time, every interval; a lost Lease and stop() end a run in progress, which is not delivered.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { BouncerError } from '../errors/errors.js';
import { createAuditRunner } from './audit-runner.js';
import type { Auditor } from './auditor.js';
import type { AuditRun } from './types.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

function fakeRun(id: string): AuditRun {
  const at = new Date();
  return { id, revision: 'r', startedAt: at, finishedAt: at, objectsScanned: 0, objectsEvaluated: 0, apiRequests: 0, kinds: [], notAuditable: [], findings: [], passes: [], truncated: false };
}

/** An auditor whose runs take `ms` (abortable), counting starts and concurrent runs. */
function slowAuditor(ms: number) {
  const state = { started: 0, running: 0, maxRunning: 0, aborted: 0 };
  const auditor: Auditor = {
    remembered: () => 0,
    async run(signal) {
      state.started += 1;
      state.running += 1;
      state.maxRunning = Math.max(state.maxRunning, state.running);
      try {
        await sleep(ms, undefined, signal ? { signal } : {});
        return fakeRun(`run-${state.started}`);
      } catch {
        state.aborted += 1;
        throw new BouncerError('AUDIT_RUN_FAILED', 'stopped');
      } finally {
        state.running -= 1;
      }
    },
  };
  return { auditor, state };
}

describe('the audit runner', () => {
  it('runs every interval, one run at a time, only while leading and ready', async () => {
    const { auditor, state } = slowAuditor(5);
    let leading = false;
    let ready = false;
    const delivered: string[] = [];
    const runner = createAuditRunner({ auditor, intervalMs: 30, renewMs: 5, leader: { tryLead: async () => leading }, ready: () => ready, onRun: (r) => void delivered.push(r.id), logger: quiet });
    runner.start();
    await sleep(40);
    expect(state.started).toBe(0);
    ready = true;
    await sleep(40);
    expect(state.started).toBe(0);
    leading = true;
    await sleep(100);
    await runner.stop();
    expect(state.started).toBeGreaterThanOrEqual(2);
    expect(state.started).toBeLessThanOrEqual(5);
    expect(state.maxRunning).toBe(1);
    expect(delivered.length).toBe(runner.completed());
  });

  it('stops a run in progress when the Lease is lost, and on stop(), delivering neither', async () => {
    const { auditor, state } = slowAuditor(10_000);
    let leading = true;
    const delivered: AuditRun[] = [];
    const outcomes: string[] = [];
    const runner = createAuditRunner({
      auditor,
      intervalMs: 60_000,
      renewMs: 5,
      leader: { tryLead: async () => leading },
      ready: () => true,
      onRun: (r) => void delivered.push(r),
      logger: quiet,
      metrics: { violations: () => undefined, completed: () => undefined, objects: () => undefined, kindsUnlistable: () => undefined, apiRequests: () => undefined, truncated: () => undefined, run: (r) => void outcomes.push(r) },
    });
    runner.start();
    await sleep(20);
    expect(state.running).toBe(1);
    leading = false;
    await sleep(30);
    expect(state.aborted).toBe(1);
    leading = true;
    // The next run waits for the interval (60 s): start another runner to test stop().
    await runner.stop();
    const second = slowAuditor(10_000);
    const r2 = createAuditRunner({ auditor: second.auditor, intervalMs: 60_000, renewMs: 5, leader: { tryLead: async () => true }, ready: () => true, logger: quiet });
    r2.start();
    await sleep(20);
    expect(second.state.running).toBe(1);
    const t0 = Date.now();
    await r2.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(second.state.aborted).toBe(1);
    expect(delivered).toEqual([]);
    expect(outcomes).toEqual(['stopped']);
  });
});
