// The two periodic parts of a rollout in the cluster mode, every --rollout-interval:
//
// - report: each replica writes its rollout report (rollout-report.ts) on the pointer of
//   every bundle it runs a candidate of, when it changed since the last write;
// - judge: the replica holding the rollout Lease (cluster/lease.ts, as the certificate
//   manager and the audit hold theirs) reads every pointer with a canary, adds the reports
//   up and applies judgeCanary; a promotion or rollback is ONE pointer write, guarded by the
//   candidate it judged (the store re-checks it under optimistic concurrency), which every
//   replica, the holder included, then follows through its normal watch. Each step is in
//   the pointer's history, an Event, a log line and a metric. The state is the pointer: a
//   holder that dies mid-canary leaves nothing behind that the next holder needs.
import { judgeCanary } from '../bundles/promotion-decision.js';
import type { BundleStore } from '../cluster/bundle-store.js';
import type { LeaderElector } from '../cluster/lease.js';
import { isBouncerError } from '../errors/errors.js';
import type { CandidateWindow } from '../bundles/canary-window.js';
import type { Logger } from '../telemetry/logger.js';
import type { RolloutMetrics } from '../telemetry/metrics.js';
import type { CandidateState } from './candidate-reconciler.js';
import { aggregateReports, buildReport } from '../bundles/rollout-report.js';

export interface RolloutLoopsDeps {
  readonly store: Pick<BundleStore, 'status' | 'reportRollout' | 'promote' | 'rollback' | 'event'>;
  readonly elector: LeaderElector;
  readonly replica: string;
  readonly intervalMs: number;
  readonly candidates: () => ReadonlyMap<string, CandidateState>;
  readonly windows: () => readonly CandidateWindow[];
  readonly log: Logger;
  readonly metrics?: Pick<RolloutMetrics, 'step' | 'rolledBack'>;
  readonly now?: () => number;
}

export interface RolloutLoops {
  start(): void;
  stop(): Promise<void>;
  /** One round of both parts (tests). */
  tick(): Promise<void>;
}

export function createRolloutLoops(deps: RolloutLoopsDeps): RolloutLoops {
  const { store, log, replica } = deps;
  const now = deps.now ?? Date.now;
  const written = new Map<string, string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  async function report(): Promise<void> {
    const windows = deps.windows();
    for (const [bundle, state] of deps.candidates()) {
      const r = buildReport(state, windows.find((w) => w.bundle === bundle), new Date(now()));
      const key = JSON.stringify({ ...r, at: undefined });
      if (written.get(bundle) === key) continue;
      try {
        await store.reportRollout(bundle, replica, r);
        written.set(bundle, key);
      } catch (err) {
        log.warn({ err, bundle }, 'could not write the rollout report');
      }
    }
  }

  async function judge(): Promise<void> {
    let leading = false;
    try {
      leading = await deps.elector.tryLead();
    } catch (err) {
      log.warn({ err }, 'the rollout Lease could not be read or renewed');
    }
    if (!leading) return;
    for (const { pointer, rollout } of await store.status()) {
      const canary = pointer.canary;
      if (!canary) continue;
      const evidence = aggregateReports(rollout ?? {}, canary);
      const verdict = judgeCanary(canary.policy, canary.startedAt, now(), evidence);
      if (verdict.verdict === 'wait') continue;
      const bundle = pointer.bundle;
      const step = { by: `bouncer/${replica}`, reason: verdict.reason, expect: { sequence: canary.sequence, startedAt: canary.startedAt } };
      try {
        if (verdict.verdict === 'promote') await store.promote(bundle, step);
        else await store.rollback(bundle, undefined, step);
      } catch (err) {
        // The candidate changed under the judgement (promoted or rolled back by hand, replaced): nothing to do.
        if (isBouncerError(err, 'ROLLOUT_CONFLICT')) {
          log.info({ bundle, sequence: canary.sequence, verdict: verdict.verdict }, 'the canary changed before the verdict was written; nothing done');
          continue;
        }
        throw err;
      }
      const action = verdict.verdict;
      deps.metrics?.step(bundle, action);
      const counts = { canaryReviews: evidence.canary.reviews, canaryDenied: evidence.canary.denied, activeReviews: evidence.active.reviews, activeDenied: evidence.active.denied, replicas: evidence.replicas };
      const line = { bundle, sequence: canary.sequence, revision: canary.revision, active: pointer.sequence, reason: verdict.reason, ...counts };
      if (action === 'promote') log.info(line, 'canary promoted');
      else log.warn(line, 'canary rolled back');
      await store
        .event(
          bundle,
          action === 'promote' ? 'Normal' : 'Warning',
          action === 'promote' ? 'CanaryPromoted' : 'CanaryRolledBack',
          `canary revision ${canary.sequence} (${canary.revision}) ${action === 'promote' ? 'promoted' : 'rolled back'} by ${replica}: ${verdict.reason}`,
          `bouncer/${replica}`,
        )
        .catch((err: unknown) => log.warn({ err, bundle }, 'could not record an event'));
    }
  }

  const tick = async () => {
    await report();
    try {
      await judge();
    } catch (err) {
      log.warn({ err }, 'the canary judgement failed; it is tried again next interval');
    }
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(schedule);
    }, deps.intervalMs);
    timer.unref();
  };

  return {
    start() {
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
    tick,
  };
}
