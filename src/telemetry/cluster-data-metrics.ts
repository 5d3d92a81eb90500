// The metrics of the replicated cluster objects (src/cluster/inventory-replicator.ts declares
// the same InventoryMetrics shape) and of the background audit (AuditMetrics, which src/audit/audit-metrics.ts
// records a run into): the `inventory` and `audit` members of Metrics.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

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

export interface InventoryMetrics {
  objects(kind: string, count: number): void;
  bytes(total: number): void;
  staleness(kind: string, seconds: number): void;
  kindState(kind: string, state: string): void;
  kindError(kind: string, code: string): void;
  refused(kind: string, reason: 'budget' | 'invalid'): void;
  relisted(kind: string, reason: string): void;
  watchRestarted(kind: string, reason: string): void;
  forgotten(kind: string): void;
}

/** The replicated kinds' states, as bouncer_inventory_kind_state labels them. */
const KIND_STATES = ['syncing', 'synced', 'stale', 'over-budget', 'error'] as const;

export function clusterDataMetrics(registers: Registry[]): { readonly inventory: InventoryMetrics; readonly audit: AuditMetrics } {
  const invObjects = new Gauge({ name: 'bouncer_inventory_objects', help: 'Replicated objects held, by kind (<groupVersion>/<Kind>).', labelNames: ['kind'], registers });
  const invBytes = new Gauge({ name: 'bouncer_inventory_bytes', help: 'Bytes of projected JSON of every replicated object, the quantity --inventory-max-mb bounds.', registers });
  const invStaleness = new Gauge({
    name: 'bouncer_inventory_staleness_seconds',
    help: 'Seconds since each replicated kind was last confirmed current (a list, a watch event or bookmark); past --inventory-max-staleness its readers fail by their failure mode.',
    labelNames: ['kind'],
    registers,
  });
  const invState = new Gauge({
    name: 'bouncer_inventory_kind_state',
    help: 'State of each replicated kind: 1 for its current state (syncing, synced, stale, over-budget, error), 0 for the others. Anything but synced makes the policies reading it fail by their failure mode.',
    labelNames: ['kind', 'state'],
    registers,
  });
  const invErrors = new Counter({
    name: 'bouncer_inventory_kind_errors_total',
    help: 'Failed lists or watches of a replicated kind, by kind and error code (INVENTORY_KIND_FORBIDDEN: RBAC; INVENTORY_KIND_UNAVAILABLE: no such kind; INVENTORY_KIND_FAILED: other).',
    labelNames: ['kind', 'code'],
    registers,
  });
  const invRefused = new Counter({
    name: 'bouncer_inventory_refused_objects_total',
    help: 'Replicated objects not stored, by kind and reason (budget: --inventory-max-mb reached; invalid: not a readable object).',
    labelNames: ['kind', 'reason'],
    registers,
  });
  const invRelists = new Counter({ name: 'bouncer_inventory_relists_total', help: 'Full lists of a replicated kind, by kind and reason (initial, gone: 410, error, budget: room made).', labelNames: ['kind', 'reason'], registers });
  const invRestarts = new Counter({ name: 'bouncer_inventory_watch_restarts_total', help: 'Watches of a replicated kind started again, by kind and reason (closed by the server, stalled).', labelNames: ['kind', 'reason'], registers });
  invBytes.set(0);

  const auditViolations = new Gauge({
    name: 'bouncer_audit_violations',
    help: 'Fail and warn findings per audited policy in the last completed audit run (0 for clean policies), by policy and enforcement.',
    labelNames: ['policy', 'enforcement'],
    registers,
  });
  const auditLastRun = new Gauge({ name: 'bouncer_audit_last_run_timestamp_seconds', help: 'When the last audit run completed (in this replica).', registers });
  const auditDuration = new Histogram({ name: 'bouncer_audit_duration_seconds', help: 'Duration of completed audit runs.', buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800], registers });
  const auditScanned = new Gauge({ name: 'bouncer_audit_objects_scanned', help: 'Objects listed in the last audit run.', registers });
  const auditEvaluated = new Gauge({ name: 'bouncer_audit_objects_evaluated', help: 'Objects evaluated in the last audit run (the others were unchanged: their results were reused).', registers });
  const auditInvalid = new Gauge({ name: 'bouncer_audit_objects_invalid', help: 'Listed objects that could not be reviewed in the last audit run.', registers });
  const auditUnlistable = new Gauge({
    name: 'bouncer_audit_kinds_unlistable',
    help: 'Kinds not listed completely in the last audit run (1 per kind and error code): their objects were not audited.',
    labelNames: ['kind', 'code'],
    registers,
  });
  const auditRequests = new Counter({ name: 'bouncer_audit_api_requests_total', help: 'List requests the audit made.', registers });
  const auditRuns = new Counter({ name: 'bouncer_audit_runs_total', help: 'Audit runs by result (completed, failed, stopped: the Lease lost or bouncer stopping).', labelNames: ['result'], registers });
  const auditTruncated = new Gauge({ name: 'bouncer_audit_findings_truncated', help: "1 when the last audit run's findings were cut at --audit-max-findings.", registers });
  for (const result of ['completed', 'failed', 'stopped']) auditRuns.inc({ result }, 0);

  return {
    audit: {
      violations(rows) {
        auditViolations.reset();
        for (const r of rows) auditViolations.set({ policy: r.policy, enforcement: r.enforcement }, r.count);
      },
      completed(finishedAtSeconds, durationSeconds) {
        auditLastRun.set(finishedAtSeconds);
        auditDuration.observe(durationSeconds);
      },
      objects(scanned, evaluated, invalid) {
        auditScanned.set(scanned);
        auditEvaluated.set(evaluated);
        auditInvalid.set(invalid);
      },
      kindsUnlistable(kinds) {
        auditUnlistable.reset();
        for (const k of kinds) auditUnlistable.set({ kind: k.kind, code: k.code }, 1);
      },
      apiRequests: (count) => auditRequests.inc(count),
      run: (result) => auditRuns.inc({ result }),
      truncated: (cut) => auditTruncated.set(cut ? 1 : 0),
    },
    inventory: {
      objects: (kind, count) => invObjects.set({ kind }, count),
      bytes: (total) => invBytes.set(total),
      staleness: (kind, seconds) => invStaleness.set({ kind }, seconds),
      kindState: (kind, state) => {
        for (const s of KIND_STATES) invState.set({ kind, state: s }, s === state ? 1 : 0);
      },
      kindError: (kind, code) => invErrors.inc({ kind, code }),
      refused: (kind, reason) => invRefused.inc({ kind, reason }),
      relisted: (kind, reason) => invRelists.inc({ kind, reason }),
      watchRestarted: (kind, reason) => invRestarts.inc({ kind, reason }),
      forgotten: (kind) => {
        invObjects.remove({ kind });
        invStaleness.remove({ kind });
        for (const state of KIND_STATES) invState.remove({ kind, state });
      },
    },
  };
}
