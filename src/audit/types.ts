// What one audit run found: the shared shape between the scanner (audit-run.ts), the reports
// (report-build.ts), the metrics and the decision events.

/** A result as the policy-report formats name them. */
export type AuditResult = 'pass' | 'fail' | 'warn' | 'error' | 'skip';

/** The object a finding is about. */
export interface AuditResource {
  readonly apiVersion: string;
  readonly kind: string;
  /** '' for cluster-scoped objects. */
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly resourceVersion?: string;
}

/** One policy's verdict on one object, for every result but pass (passes are counted, not listed). */
export interface AuditFinding {
  /** The policy id, or "<ConstraintKind>/<name>" for a Gatekeeper constraint (as in decisions). */
  readonly policy: string;
  readonly bundle: string;
  /** The policy's enforcement (deny, warn, dryrun; a constraint's enforcement action). */
  readonly enforcement: string;
  readonly result: Exclude<AuditResult, 'pass'>;
  /** The violation messages, newline-joined; for skip and error, why. */
  readonly message: string;
  readonly resource: AuditResource;
  /** The decision event recorded for it (fail, warn, error), when the decision log is on. */
  readonly decisionId?: string;
  /** For skip: the policy exception in force that exempted the object (docs/exceptions.md). */
  readonly exemption?: { readonly exception: string; readonly ticket?: string; readonly expiresAt: string };
}

/** Passing objects of one policy in one namespace ('' for cluster-scoped). */
export interface AuditPassCount {
  readonly namespace: string;
  readonly policy: string;
  readonly count: number;
}

export interface AuditKindReport {
  /** "<groupVersion>/<Kind>" (inventory kindKey). */
  readonly kind: string;
  readonly objects: number;
  /** Set when the kind could not be listed (completely or partly) in this run. */
  readonly error?: { readonly code: string; readonly message: string };
}

/** One audited policy's totals in a run: complete even when findings are truncated. */
export interface AuditPolicySummary {
  readonly policy: string;
  readonly bundle: string;
  /** The enforcement its findings carry (a constraint's action at the audit point). */
  readonly enforcement: string;
  readonly pass: number;
  readonly fail: number;
  readonly warn: number;
  readonly error: number;
  /** Objects a policy exception in force exempted (skip findings). */
  readonly skip?: number;
}

export interface AuditRun {
  /** The audit_id carried by this run's decision events and reports. */
  readonly id: string;
  /** The policy set's revision the run evaluated against. */
  readonly revision: string;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly objectsScanned: number;
  /** Objects evaluated in this run (the others' results were reused: same resourceVersion and policy set). */
  readonly objectsEvaluated: number;
  /** Listed objects that could not be reviewed (AUDIT_OBJECT_INVALID, logged each), not in objectsScanned' verdicts. */
  readonly objectsInvalid?: number;
  /** API requests made (list pages). */
  readonly apiRequests: number;
  readonly kinds: readonly AuditKindReport[];
  /** Policies not auditable (their result depends on the operation, oldObject or userInfo), with the build's reason. */
  readonly notAuditable: readonly { readonly policy: string; readonly reason: string }[];
  /** Sorted by namespace, policy, kind, name. */
  readonly findings: readonly AuditFinding[];
  readonly passes: readonly AuditPassCount[];
  /** Every audited policy with its totals, ordered by policy (optional: added with the scanner). */
  readonly summary?: readonly AuditPolicySummary[];
  /** True when findings were cut at the run's bound (the counts in passes/findings are then partial). */
  readonly truncated: boolean;
}
