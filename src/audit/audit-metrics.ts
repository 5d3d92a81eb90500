// The one place that turns an audit run into its metrics (the `audit` member of Metrics,
// declared in src/telemetry/cluster-data-metrics.ts). Gauges describe the last completed run;
// counters accumulate.
import type { AuditMetrics } from '../telemetry/cluster-data-metrics.js';
import type { AuditRun } from './types.js';

export type { AuditMetrics } from '../telemetry/cluster-data-metrics.js';

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
