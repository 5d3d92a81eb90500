// The report and promotion loops against an in-memory store: the Lease holder alone judges;
// reports of every replica are added up, those of another candidate are not; one pointer
// write per verdict, guarded by the judged candidate; a conflict (changed by hand) is no error.
import { describe, expect, it } from 'vitest';
import { emptyCounts, emptyShadow, type CandidateWindow } from '../bundles/canary-window.js';
import type { Pointer } from '../cluster/bundle-objects.js';
import type { BundleStatus, BundleStore, StepOptions } from '../cluster/bundle-store.js';
import { DEFAULT_PROMOTION_POLICY } from '../cluster/rollout-objects.js';
import { BouncerError } from '../errors/errors.js';
import { capturingLogger } from '../../test/support/reviewing.js';
import { createRolloutLoops } from './rollout-loops.js';
import { aggregateReports } from '../bundles/rollout-report.js';

const SHA = 'c'.repeat(64);
const canary = { sequence: 2, revision: 'v2', digest: SHA, startedAt: 1000, slice: { percent: 50 }, policy: { ...DEFAULT_PROMOTION_POLICY, windowMs: 10_000, minReviews: 10 } };
const pointer: Pointer = { bundle: 'colors', sequence: 1, revision: 'v1', digest: SHA, publishedAt: 0, action: 'push', canary };
const counts = (reviews: number, denied: number) => ({ ...emptyCounts(), reviews, denied, buckets: [reviews, ...emptyCounts().buckets.slice(1)] });
const report = (sequence: number, reviews: number, denied: number, state = 'loaded') => ({
  at: 'x',
  candidate: { mode: 'canary', sequence, startedAt: 1000, state },
  active: counts(100, 0),
  canary: counts(reviews, denied),
});

function setup(reports: Record<string, unknown>, options: { leading?: boolean; conflict?: boolean } = {}) {
  const steps: { action: string; options: StepOptions | undefined }[] = [];
  const events: string[] = [];
  const written: unknown[] = [];
  const store: Pick<BundleStore, 'status' | 'reportRollout' | 'promote' | 'rollback' | 'event'> = {
    status: async (): Promise<BundleStatus[]> => [{ pointer, replicas: {}, rollout: reports }],
    reportRollout: async (_b, _r, rep) => void written.push(rep),
    promote: async (_b, o) => {
      if (options.conflict) throw new BouncerError('ROLLOUT_CONFLICT', 'changed');
      steps.push({ action: 'promote', options: o });
      return pointer;
    },
    rollback: async (_b, _to, o) => {
      steps.push({ action: 'rollback', options: o });
      return pointer;
    },
    event: async (_b, _t, reason) => void events.push(reason),
  };
  const window: CandidateWindow = { bundle: 'colors', sequence: 2, startedAt: 1000, mode: 'canary', active: counts(5, 0), canary: counts(3, 1), shadow: emptyShadow() };
  const metricSteps: string[] = [];
  const loops = createRolloutLoops({
    store,
    elector: { tryLead: async () => options.leading ?? true },
    replica: 'r1',
    intervalMs: 1000,
    candidates: () => new Map([['colors', { mode: 'canary', sequence: 2, startedAt: 1000, state: 'loaded' }]]),
    windows: () => [window],
    log: capturingLogger().logger,
    metrics: { step: (b, a) => void metricSteps.push(`${b}:${a}`), rolledBack: () => undefined },
    now: () => 1000 + 11_000,
  });
  return { loops, steps, events, written, metricSteps };
}

describe('rollout loops', () => {
  it('writes this replica report once per change, naming its candidate', async () => {
    const { loops, written } = setup({});
    await loops.tick();
    await loops.tick();
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({ candidate: { sequence: 2, startedAt: 1000, state: 'loaded' }, canary: { reviews: 3, denied: 1 }, active: { reviews: 5 } });
  });

  it('promotes with one guarded write when the reports of every replica add up within thresholds after the window', async () => {
    const { loops, steps, events, metricSteps } = setup({ r1: report(2, 6, 0), r2: report(2, 6, 0), old: report(1, 1000, 1000) });
    await loops.tick();
    expect(steps).toEqual([{ action: 'promote', options: { by: 'bouncer/r1', reason: expect.stringContaining('12 canary reviews'), expect: { sequence: 2, startedAt: 1000 } } }]);
    expect(events).toEqual(['CanaryPromoted']);
    expect(metricSteps).toEqual(['colors:promote']);
  });

  it('rolls back on a breach', async () => {
    const { loops, steps, events } = setup({ r1: report(2, 10, 5) });
    await loops.tick();
    expect(steps.map((s) => s.action)).toEqual(['rollback']);
    expect(events).toEqual(['CanaryRolledBack']);
  });

  it('does nothing without the Lease', async () => {
    const { loops, steps } = setup({ r1: report(2, 10, 5) }, { leading: false });
    await loops.tick();
    expect(steps).toEqual([]);
  });

  it('a candidate changed under the verdict is no error and records nothing', async () => {
    const { loops, events, metricSteps } = setup({ r1: report(2, 20, 0) }, { conflict: true });
    await loops.tick();
    expect(events).toEqual([]);
    expect(metricSteps).toEqual([]);
  });

  it('aggregates only well-formed reports of the candidate, and names the replicas that refused it', () => {
    const agg = aggregateReports({ a: report(2, 3, 1), b: report(2, 4, 0, 'refused'), c: { candidate: { sequence: 2, startedAt: 1000 }, canary: { reviews: -1 } }, d: 'junk', e: report(3, 99, 99) }, canary);
    expect(agg.replicas).toEqual(['a', 'b', 'c']);
    expect(agg.refusedBy).toEqual(['b']);
    expect(agg.canary).toMatchObject({ reviews: 7, denied: 1 });
  });
});
