// The audit's metrics, as an interface the telemetry layer implements structurally (the
// `audit` member of Metrics in src/telemetry/metrics.ts), and the one place that turns a run
// into them. Gauges describe the last completed run; counters accumulate.
import type { AuditRun } from './types.js';

export interface AuditMetrics {
  /** bouncer_audit_violations{policy,enforcement}: fail and warn findings per policy in the last run (the series are replaced). */
  violations(rows: readonly { readonly policy: string; readonly enforcement: string; readonly count: number }[]): void;
  /** bouncer_audit_last_run_timestamp_seconds and bouncer_audit_duration_seconds (histogram) of a completed run. */
  completed(finishedAtSeconds: number, durationSeconds: number): void;
  /** bouncer_audit_objects_scanned and bouncer_audit_objects_evaluated (gauges), bouncer_audit_objects_invalid (gauge). */
  objects(scanned: number, evaluated: number, invalid: number): void;
  /** bouncer_audit_kinds_unlistable{kind,code}: 1 per kind that could not be listed in the last run (the series are replaced). */
  kindsUnlistable(kinds: readonly { readonly kind: string; readonly code: string }[]): void;
  /** bouncer_audit_api_requests_total: list requests made. */
  apiRequests(count: number): void;
  /** bouncer_audit_runs_total{result}: completed, failed, stopped (the lease lost or bouncer stopping). */
  run(result: 'completed' | 'failed' | 'stopped'): void;
  /** bouncer_audit_findings_truncated: 1 when the last run's findings were cut at --audit-max-findings. */
  truncated(cut: boolean): void;
}

/**
 * The metrics of a completed run. Every audited policy has a violations series (0 when it has
 * none), so an alert on a deny policy's violations appearing sees them go from 0; the counts
 * are the run's totals (AuditRun.summary), not only the findings kept under the bound.
 */
export function recordAuditRun(metrics: AuditMetrics, run: AuditRun): void {
  metrics.violations((run.summary ?? []).map((p) => ({ policy: p.policy, enforcement: p.enforcement, count: p.fail + p.warn })));
  metrics.completed(run.finishedAt.getTime() / 1000, (run.finishedAt.getTime() - run.startedAt.getTime()) / 1000);
  metrics.objects(run.objectsScanned, run.objectsEvaluated, run.objectsInvalid ?? 0);
  metrics.kindsUnlistable(run.kinds.flatMap((k) => (k.error ? [{ kind: k.kind, code: k.error.code }] : [])));
  metrics.apiRequests(run.apiRequests);
  metrics.truncated(run.truncated);
  metrics.run('completed');
}
