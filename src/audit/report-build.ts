// An audit run as policy reports, in the ecosystem's two formats (pure: no cluster access).
//
//   openreports  openreports.io/v1alpha1 Report (one per namespace) and ClusterReport (the
//                cluster-scoped objects) — https://github.com/openreports/reports-api
//                apis/openreports.io/v1alpha1/report_types.go. The default.
//   wgpolicyk8s  wgpolicyk8s.io/v1alpha2 PolicyReport / ClusterPolicyReport, the Policy WG's
//                format that Kyverno and Kubewarden write — kubernetes-sigs/wg-policy-prototypes
//                policy-report/pkg/api/wgpolicyk8s.io/v1alpha2. The same results without the
//                report-level source and configuration fields.
//
// Contract:
// - One report per namespace that has any result or pass, named REPORT_NAME; one cluster
//   report, always (it carries the run's annotations even when nothing is cluster-scoped).
// - Results: the findings (fail, warn, error, skip), one per policy and object, sorted by
//   namespace, policy, kind, name (then apiVersion, uid) in code-point order; passes are
//   counted in summary.pass only (AuditRun.passes), never listed. Policies that are not
//   auditable are skip results in the cluster report, without resources (the report's scope).
// - Deterministic: the same run content gives byte-identical JSON. The only run-specific
//   values are the audit id annotation and the timestamps, and every result's timestamp is
//   the run's start (when the cluster was looked at), so two runs over an unchanged cluster
//   differ only there. Decision ids are not copied into results for that reason: the events
//   carry the audit id, which the annotation names.
// - Bounded: at most maxResultsPerReport results per report. Over it, failures are kept first
//   (fail, error, warn, skip), the kept ones still in sorted order; the summary still counts
//   every finding, and the report says it was cut: annotations bouncer.dev/truncated "true"
//   and bouncer.dev/results-total, and for openreports configuration.limits.maxResults.
//   truncateReport applies the same cut to a built report (the writer uses it when the API
//   server refuses a report as too large).
import type { AuditFinding, AuditResource, AuditRun } from './types.js';

export type ReportFormat = 'openreports' | 'wgpolicyk8s';

/** The name of every report bouncer writes (one per namespace, and the cluster report). */
export const REPORT_NAME = 'bouncer-audit';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'bouncer';
export const ANNOTATION_AUDIT_ID = 'bouncer.dev/audit-id';
export const ANNOTATION_REVISION = 'bouncer.dev/policy-revision';
export const ANNOTATION_TRUNCATED = 'bouncer.dev/truncated';
export const ANNOTATION_RESULTS_TOTAL = 'bouncer.dev/results-total';
/** Set on every report when the run itself stopped at its bound (the counts are partial). */
export const ANNOTATION_RUN_TRUNCATED = 'bouncer.dev/run-truncated';
/** On the cluster report: the kinds the run could not list, "<kind> <code>" joined by ", ". */
export const ANNOTATION_KINDS_UNLISTABLE = 'bouncer.dev/kinds-unlistable';
/** A message longer than this is cut (with "…"): one result must not outgrow a report. */
export const MAX_MESSAGE_CHARS = 4096;

export const REPORT_KINDS = {
  openreports: { apiVersion: 'openreports.io/v1alpha1', namespaced: 'Report', cluster: 'ClusterReport' },
  wgpolicyk8s: { apiVersion: 'wgpolicyk8s.io/v1alpha2', namespaced: 'PolicyReport', cluster: 'ClusterPolicyReport' },
} as const satisfies Record<ReportFormat, { apiVersion: string; namespaced: string; cluster: string }>;

/** corev1.ObjectReference, as the formats' results[].resources hold it. */
export interface ReportObjectReference {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  uid: string;
  resourceVersion?: string;
}

export interface ReportResult {
  source: string;
  policy: string;
  result: 'pass' | 'fail' | 'warn' | 'error' | 'skip';
  /** Scored: fail and error count against compliance; warn is "not met, not scored" by definition. */
  scored?: boolean;
  message: string;
  resources?: ReportObjectReference[];
  /** metav1.Timestamp: the run's start. */
  timestamp: { seconds: number; nanos: number };
  properties: Record<string, string>;
}

export interface ReportSummary {
  pass: number;
  fail: number;
  warn: number;
  error: number;
  skip: number;
}

export interface ReportObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels: Record<string, string>; annotations: Record<string, string> };
  /** openreports only: the engine that produced every result. */
  source?: string;
  /** openreports only: the bound consumers can rely on, and that passes are never listed. */
  configuration?: { limits: { maxResults: number; statusFilter: ('fail' | 'warn' | 'error' | 'skip')[] } };
  summary: ReportSummary;
  results: ReportResult[];
}

export interface BuildReportsOptions {
  readonly format: ReportFormat;
  /** At least 1. */
  readonly maxResultsPerReport: number;
  /** results[].source (and the openreports report-level source); default "bouncer". */
  readonly source?: string;
}

/** Code-point order, never locale order: the same strings sort the same everywhere. */
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function compareFindings(a: AuditFinding, b: AuditFinding): number {
  const x = a.resource;
  const y = b.resource;
  return (
    cmp(x.namespace, y.namespace) ||
    cmp(a.policy, b.policy) ||
    cmp(x.kind, y.kind) ||
    cmp(x.name, y.name) ||
    cmp(x.apiVersion, y.apiVersion) ||
    cmp(x.uid, y.uid) ||
    cmp(a.result, b.result) ||
    cmp(a.message, b.message)
  );
}

const KEEP_FIRST: Record<ReportResult['result'], number> = { fail: 0, error: 1, warn: 2, skip: 3, pass: 4 };

/**
 * At most max of results (already in report order): the most severe first, ties by position;
 * returned in their original order.
 */
export function selectResults<T extends { result: ReportResult['result'] }>(results: readonly T[], max: number): T[] {
  if (results.length <= max) return [...results];
  const kept = results
    .map((r, i) => ({ r, i }))
    .sort((a, b) => KEEP_FIRST[a.r.result] - KEEP_FIRST[b.r.result] || a.i - b.i)
    .slice(0, Math.max(0, max))
    .sort((a, b) => a.i - b.i);
  return kept.map((k) => k.r);
}

function message(text: string): string {
  return text.length <= MAX_MESSAGE_CHARS ? text : `${text.slice(0, MAX_MESSAGE_CHARS - 1)}…`;
}

function reference(r: AuditResource): ReportObjectReference {
  return {
    apiVersion: r.apiVersion,
    kind: r.kind,
    ...(r.namespace ? { namespace: r.namespace } : {}),
    name: r.name,
    uid: r.uid,
    ...(r.resourceVersion ? { resourceVersion: r.resourceVersion } : {}),
  };
}

function timestampOf(at: Date): { seconds: number; nanos: number } {
  const ms = at.getTime();
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 };
}

function emptySummary(): ReportSummary {
  return { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
}

interface Bucket {
  readonly namespace: string;
  readonly summary: ReportSummary;
  readonly results: ReportResult[];
}

/** The reports of one run: the namespaces' in name order, then the cluster report. */
/** A skip result's exception, as report properties (string values, as both formats require). */
function exemptionProperties(finding: AuditFinding): Record<string, string> {
  const e = finding.exemption;
  if (!e) return {};
  return { reason: 'exempted', exception: e.exception, 'expires-at': e.expiresAt, ...(e.ticket ? { ticket: e.ticket } : {}) };
}

export function buildReports(run: AuditRun, options: BuildReportsOptions): ReportObject[] {
  const max = Math.max(1, Math.floor(options.maxResultsPerReport));
  const source = options.source ?? 'bouncer';
  const timestamp = timestampOf(run.startedAt);
  const buckets = new Map<string, Bucket>();
  const bucket = (namespace: string): Bucket => {
    let b = buckets.get(namespace);
    if (!b) {
      b = { namespace, summary: emptySummary(), results: [] };
      buckets.set(namespace, b);
    }
    return b;
  };
  bucket('');

  for (const finding of [...run.findings].sort(compareFindings)) {
    const b = bucket(finding.resource.namespace);
    b.summary[finding.result] += 1;
    b.results.push({
      source,
      policy: finding.policy,
      result: finding.result,
      ...(finding.result === 'fail' || finding.result === 'error' ? { scored: true } : {}),
      message: message(finding.message),
      resources: [reference(finding.resource)],
      timestamp,
      properties: { bundle: finding.bundle, enforcement: finding.enforcement, ...exemptionProperties(finding) },
    });
  }
  for (const pass of run.passes) bucket(pass.namespace).summary.pass += pass.count;
  const cluster = bucket('');
  for (const p of [...run.notAuditable].sort((a, b) => cmp(a.policy, b.policy))) {
    cluster.summary.skip += 1;
    cluster.results.push({ source, policy: p.policy, result: 'skip', message: message(`not auditable: ${p.reason}`), timestamp, properties: { reason: 'not-auditable' } });
  }

  const unlistable = run.kinds
    .filter((k) => k.error)
    .map((k) => `${k.kind} ${k.error?.code ?? ''}`)
    .sort(cmp)
    .join(', ');
  const namespaces = [...buckets.keys()].filter((n) => n !== '').sort(cmp);
  return [...namespaces, ''].map((namespace) => {
    const b = buckets.get(namespace) as Bucket;
    const annotations: Record<string, string> = { [ANNOTATION_AUDIT_ID]: run.id, [ANNOTATION_REVISION]: run.revision };
    if (run.truncated) annotations[ANNOTATION_RUN_TRUNCATED] = 'true';
    if (namespace === '' && unlistable) annotations[ANNOTATION_KINDS_UNLISTABLE] = unlistable;
    return truncateReport(reportObject(options.format, namespace, source, max, annotations, b), max);
  });
}

function reportObject(format: ReportFormat, namespace: string, source: string, max: number, annotations: Record<string, string>, b: Bucket): ReportObject {
  const kinds = REPORT_KINDS[format];
  const metadata = {
    name: REPORT_NAME,
    ...(namespace ? { namespace } : {}),
    labels: { [MANAGED_BY_LABEL]: MANAGED_BY },
    annotations,
  };
  const head = { apiVersion: kinds.apiVersion, kind: namespace ? kinds.namespaced : kinds.cluster, metadata };
  if (format === 'wgpolicyk8s') return { ...head, summary: b.summary, results: b.results };
  return {
    ...head,
    source,
    configuration: { limits: { maxResults: max, statusFilter: ['fail', 'warn', 'error', 'skip'] } },
    summary: b.summary,
    results: b.results,
  };
}

/**
 * The report with at most max results (selectResults), marked truncated when any was cut;
 * the summary is left as it is (it counts every result). The input is not modified.
 */
export function truncateReport<R extends { metadata: { annotations?: Record<string, string> }; results?: readonly { result: ReportResult['result'] }[] }>(report: R, max: number): R {
  const results = report.results ?? [];
  if (results.length <= max) return report;
  const previous = report.metadata.annotations?.[ANNOTATION_RESULTS_TOTAL];
  const total = previous ?? String(results.length);
  return {
    ...report,
    metadata: { ...report.metadata, annotations: { ...report.metadata.annotations, [ANNOTATION_TRUNCATED]: 'true', [ANNOTATION_RESULTS_TOTAL]: total } },
    results: selectResults(results, max),
  };
}

/**
 * What the report writer (src/cluster/report-writer.ts, structurally) needs to write and clean
 * this format's reports: its kinds, the label that marks bouncer's own, the cut it applies when
 * a report is refused as too large, and the other format's kinds (bouncer's reports of the
 * format it wrote before a switch are removed).
 */
export function reportWriteTarget(format: ReportFormat): {
  readonly kinds: (typeof REPORT_KINDS)[ReportFormat];
  readonly managedBy: { readonly key: string; readonly value: string };
  readonly truncate: (report: ReportObject, max: number) => ReportObject;
  readonly retiredKinds: readonly (typeof REPORT_KINDS)[ReportFormat][];
} {
  const retired = format === 'openreports' ? 'wgpolicyk8s' : 'openreports';
  return { kinds: REPORT_KINDS[format], managedBy: { key: MANAGED_BY_LABEL, value: MANAGED_BY }, truncate: truncateReport, retiredKinds: [REPORT_KINDS[retired]] };
}
