// The background audit of `bouncer serve`: one run at a time, every intervalMs (start to
// start; a run longer than the interval is followed at once by the next), only in the replica
// holding the audit Lease, and only once the policy set and the replicated data are ready.
// The Lease is renewed every renewMs while waiting and while a run is in progress; a run whose
// replica loses it (tryLead false, or failing renewals for as long as the lease lasts) is
// stopped, and so is a run in progress when stop() is called. A stopped or failed run delivers
// nothing to onRun: a partial run would make the reports drop results it simply did not reach.
import { setTimeout as sleep } from 'node:timers/promises';
import { BouncerError } from '../errors/errors.js';
import { recordAuditRun, type AuditMetrics } from './audit-metrics.js';
import type { Auditor, AuditLogger } from './auditor.js';
import type { AuditRun } from './types.js';

export interface AuditRunnerOptions {
  readonly auditor: Auditor;
  readonly intervalMs: number;
  /** The audit Lease (src/cluster/lease.ts createLeaderElector, e.g. name "bouncer-audit"). */
  readonly leader: { tryLead(): Promise<boolean> };
  /** True once the policy set is active and the replicated data synced. */
  readonly ready: () => boolean;
  /** Each completed run (the reports writer hooks here); a rejection is logged, never fatal. */
  readonly onRun?: (run: AuditRun) => void | Promise<void>;
  readonly metrics?: AuditMetrics;
  readonly logger: AuditLogger;
  /** How often the Lease is tried or renewed (default 5 s, a third of its 15 s duration). */
  readonly renewMs?: number;
  /** Renewals that may fail in a row (API errors) before a run in progress is stopped (default 3). */
  readonly maxRenewFailures?: number;
  readonly now?: () => number;
}

export interface AuditRunner {
  start(): void;
  /** Stops the loop and any run in progress; resolves once both have ended. */
  stop(): Promise<void>;
  /** Runs completed so far. */
  completed(): number;
}

export function createAuditRunner(options: AuditRunnerOptions): AuditRunner {
  const { auditor, leader, logger } = options;
  const renewMs = options.renewMs ?? 5_000;
  const maxRenewFailures = options.maxRenewFailures ?? 3;
  const now = options.now ?? Date.now;
  const stopping = new AbortController();
  let loop: Promise<void> | undefined;
  let lastStart: number | undefined;
  let completed = 0;

  const lead = async (): Promise<boolean> => {
    try {
      return await leader.tryLead();
    } catch (err) {
      logger.warn({ err }, 'audit: the audit Lease could not be read or renewed');
      return false;
    }
  };

  async function runOnce(): Promise<void> {
    const run = new AbortController();
    const stop = () => run.abort();
    stopping.signal.addEventListener('abort', stop);
    let failures = 0;
    let renewing = false;
    const renew = setInterval(() => {
      if (renewing) return;
      renewing = true;
      leader
        .tryLead()
        .then((held) => {
          failures = 0;
          if (!held) {
            logger.warn({ code: 'AUDIT_RUN_FAILED' }, 'audit: this replica lost the audit Lease; stopping the run in progress');
            run.abort();
          }
        })
        .catch((err: unknown) => {
          failures += 1;
          logger.warn({ err, failures }, 'audit: renewing the audit Lease failed');
          if (failures >= maxRenewFailures) run.abort();
        })
        .finally(() => {
          renewing = false;
        });
    }, renewMs);
    lastStart = now();
    try {
      const result = await auditor.run(run.signal);
      completed += 1;
      if (options.metrics) recordAuditRun(options.metrics, result);
      try {
        await options.onRun?.(result);
      } catch (err) {
        logger.error({ err, audit_id: result.id }, 'audit: handling a completed run failed (reports?)');
      }
    } catch (err) {
      const aborted = run.signal.aborted;
      options.metrics?.run(aborted ? 'stopped' : 'failed');
      const code = err instanceof BouncerError ? err.code : 'AUDIT_RUN_FAILED';
      if (aborted) logger.info({ code }, 'audit: the run in progress was stopped; nothing of it is reported');
      else logger.error({ err, code }, 'audit: the run failed; the next one starts after the interval');
    } finally {
      clearInterval(renew);
      stopping.signal.removeEventListener('abort', stop);
    }
  }

  async function forever(): Promise<void> {
    while (!stopping.signal.aborted) {
      const due = lastStart === undefined || now() - lastStart >= options.intervalMs;
      // Not ready or not leading: try again after renewMs. Leading: renew every renewMs until due.
      if (options.ready() && (await lead()) && due && !stopping.signal.aborted) await runOnce();
      const untilDue = lastStart === undefined ? renewMs : lastStart + options.intervalMs - now();
      try {
        await sleep(untilDue > 0 ? Math.min(renewMs, untilDue) : renewMs, undefined, { signal: stopping.signal });
      } catch {
        // stopping
      }
    }
  }

  return {
    start() {
      loop ??= forever();
    },
    async stop() {
      stopping.abort();
      await loop;
    },
    completed: () => completed,
  };
}
