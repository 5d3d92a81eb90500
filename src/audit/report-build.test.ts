import { describe, expect, it } from 'vitest';
import { reportValidators } from '../../test/support/report-crds.js';
import {
  ANNOTATION_KINDS_UNLISTABLE,
  ANNOTATION_RESULTS_TOTAL,
  ANNOTATION_RUN_TRUNCATED,
  ANNOTATION_TRUNCATED,
  buildReports,
  MAX_MESSAGE_CHARS,
  type ReportFormat,
  type ReportObject,
  truncateReport,
} from './report-build.js';
import type { AuditFinding, AuditRun } from './types.js';

const START = new Date('2026-03-01T10:00:00.250Z');

function finding(namespace: string, policy: string, kind: string, name: string, result: AuditFinding['result'] = 'fail', extra: Partial<AuditFinding> = {}): AuditFinding {
  return {
    policy,
    bundle: 'baseline',
    enforcement: 'deny',
    result,
    message: `${policy} on ${kind} ${name}`,
    resource: { apiVersion: kind === 'Namespace' || kind === 'ClusterRole' ? 'v1' : 'apps/v1', kind, namespace, name, uid: `uid-${namespace}-${name}`, resourceVersion: '42' },
    ...extra,
  };
}

const FINDINGS: AuditFinding[] = [
  finding('team-b', 'require-labels', 'Deployment', 'web'),
  finding('team-a', 'require-labels', 'Deployment', 'web', 'warn', { enforcement: 'warn' }),
  finding('', 'K8sRequiredLabels/ns-must-have-owner', 'Namespace', 'team-a'),
  finding('team-a', 'disallow-latest', 'Pod', 'zeta', 'error', { message: 'POLICY_TIMEOUT: ran past 100ms' }),
  finding('team-a', 'disallow-latest', 'Pod', 'alpha'),
  finding('team-a', 'disallow-latest', 'Deployment', 'web', 'fail', { decisionId: 'd-1' }),
];

function run(overrides: Partial<AuditRun> = {}): AuditRun {
  return {
    id: 'audit-1',
    revision: 'rev-7',
    startedAt: START,
    finishedAt: new Date(START.getTime() + 5000),
    objectsScanned: 20,
    objectsEvaluated: 20,
    apiRequests: 4,
    kinds: [{ kind: 'apps/v1/Deployment', objects: 3 }, { kind: 'v1/Pod', objects: 2 }],
    notAuditable: [{ policy: 'only-on-update', reason: 'reads input.request.oldObject' }],
    findings: FINDINGS,
    passes: [
      { namespace: 'team-a', policy: 'require-labels', count: 5 },
      { namespace: 'team-a', policy: 'disallow-latest', count: 2 },
      { namespace: '', policy: 'K8sRequiredLabels/ns-must-have-owner', count: 3 },
      { namespace: 'team-c', policy: 'require-labels', count: 1 },
    ],
    truncated: false,
    ...overrides,
  };
}

const byNamespace = (reports: ReportObject[]) => new Map(reports.map((r) => [r.metadata.namespace ?? '', r]));
const validators = reportValidators();

describe('buildReports', () => {
  it.each<[ReportFormat, string, string, string]>([
    ['openreports', 'openreports.io/v1alpha1', 'Report', 'ClusterReport'],
    ['wgpolicyk8s', 'wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'ClusterPolicyReport'],
  ])('%s: a %s %s per namespace with anything to report, then one %s', (format, apiVersion, namespaced, cluster) => {
    const reports = buildReports(run(), { format, maxResultsPerReport: 100 });
    expect(reports.map((r) => [r.apiVersion, r.kind, r.metadata.namespace ?? '', r.metadata.name])).toEqual([
      [apiVersion, namespaced, 'team-a', 'bouncer-audit'],
      [apiVersion, namespaced, 'team-b', 'bouncer-audit'],
      // Passes only: still a report, so its summary is visible and a stale one is replaced.
      [apiVersion, namespaced, 'team-c', 'bouncer-audit'],
      [apiVersion, cluster, '', 'bouncer-audit'],
    ]);
    for (const r of reports) {
      expect(r.metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'bouncer' });
      expect(r.metadata.annotations).toMatchObject({ 'bouncer.dev/audit-id': 'audit-1', 'bouncer.dev/policy-revision': 'rev-7' });
    }
    if (format === 'openreports') {
      expect(reports[0]).toMatchObject({ source: 'bouncer', configuration: { limits: { maxResults: 100, statusFilter: ['fail', 'warn', 'error', 'skip'] } } });
    } else {
      for (const r of reports) {
        expect(r).not.toHaveProperty('source');
        expect(r).not.toHaveProperty('configuration');
      }
    }
  });

  it.each<ReportFormat>(['openreports', 'wgpolicyk8s'])('%s: every report is valid against the CRD schema shipped in manifests/base/crds', (format) => {
    const reports = buildReports(run({ truncated: true, kinds: [{ kind: 'v1/Secret', objects: 0, error: { code: 'CLUSTER_FAILED', message: 'forbidden' } }] }), { format, maxResultsPerReport: 2 });
    for (const r of reports) {
      const validate = validators.get(`${r.apiVersion} ${r.kind}`);
      expect(validate, `${r.apiVersion} ${r.kind}`).toBeDefined();
      expect(validate?.(r), JSON.stringify(validate?.errors)).toBe(true);
    }
  });

  it('the schema check can fail: an unknown result, a missing policy and a stray field are refused', () => {
    const [report] = buildReports(run(), { format: 'openreports', maxResultsPerReport: 100 });
    const validate = validators.get('openreports.io/v1alpha1 Report');
    const bad = structuredClone(report) as unknown as { results: Record<string, unknown>[]; stray?: boolean };
    bad.results[0] = { ...bad.results[0], result: 'denied' };
    expect(validate?.(bad)).toBe(false);
    const noPolicy = structuredClone(report) as unknown as { results: Record<string, unknown>[] };
    delete noPolicy.results[0]?.policy;
    expect(validate?.(noPolicy)).toBe(false);
    expect(validate?.({ ...report, stray: true })).toBe(false);
  });

  it('results: findings only, sorted by namespace, policy, kind, name; passes only in the summary', () => {
    const reports = byNamespace(buildReports(run(), { format: 'openreports', maxResultsPerReport: 100 }));
    const teamA = reports.get('team-a') as ReportObject;
    expect(teamA.results.map((r) => [r.policy, r.resources?.[0]?.kind, r.resources?.[0]?.name, r.result])).toEqual([
      ['disallow-latest', 'Deployment', 'web', 'fail'],
      ['disallow-latest', 'Pod', 'alpha', 'fail'],
      ['disallow-latest', 'Pod', 'zeta', 'error'],
      ['require-labels', 'Deployment', 'web', 'warn'],
    ]);
    expect(teamA.summary).toEqual({ pass: 7, fail: 2, warn: 1, error: 1, skip: 0 });
    expect(reports.get('team-c')).toMatchObject({ summary: { pass: 1, fail: 0, warn: 0, error: 0, skip: 0 }, results: [] });
    expect(teamA.results[0]).toEqual({
      source: 'bouncer',
      policy: 'disallow-latest',
      result: 'fail',
      scored: true,
      message: 'disallow-latest on Deployment web',
      resources: [{ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'team-a', name: 'web', uid: 'uid-team-a-web', resourceVersion: '42' }],
      timestamp: { seconds: Math.floor(START.getTime() / 1000), nanos: 250_000_000 },
      properties: { bundle: 'baseline', enforcement: 'deny' },
    });
    // warn is "not met and not scored" by the formats' definition.
    expect(teamA.results[3]).not.toHaveProperty('scored');
  });

  it('the cluster report: cluster-scoped findings, not-auditable policies as skips without resources, kinds that could not be listed', () => {
    const reports = byNamespace(
      buildReports(run({ kinds: [{ kind: 'v1/Secret', objects: 0, error: { code: 'CLUSTER_FAILED', message: 'forbidden' } }, { kind: 'v1/Pod', objects: 2 }, { kind: 'example.com/v1/Widget', objects: 0, error: { code: 'CLUSTER_FAILED', message: 'gone' } }] }), {
        format: 'openreports',
        maxResultsPerReport: 100,
      }),
    );
    const cluster = reports.get('') as ReportObject;
    expect(cluster.kind).toBe('ClusterReport');
    expect(cluster.results.map((r) => [r.policy, r.result, r.resources?.[0]?.name])).toEqual([
      ['K8sRequiredLabels/ns-must-have-owner', 'fail', 'team-a'],
      ['only-on-update', 'skip', undefined],
    ]);
    expect(cluster.results[0]?.resources?.[0]).not.toHaveProperty('namespace');
    expect(cluster.results[1]).toMatchObject({ message: 'not auditable: reads input.request.oldObject', properties: { reason: 'not-auditable' } });
    expect(cluster.summary).toEqual({ pass: 3, fail: 1, warn: 0, error: 0, skip: 1 });
    expect(cluster.metadata.annotations[ANNOTATION_KINDS_UNLISTABLE]).toBe('example.com/v1/Widget CLUSTER_FAILED, v1/Secret CLUSTER_FAILED');
    expect(reports.get('team-a')?.metadata.annotations).not.toHaveProperty(ANNOTATION_KINDS_UNLISTABLE);
  });

  it('deterministic: the same findings in any order give byte-identical reports; another run id changes only the annotation', () => {
    const a = JSON.stringify(buildReports(run(), { format: 'openreports', maxResultsPerReport: 3 }));
    const shuffled = run({ findings: [...FINDINGS].reverse(), passes: [...run().passes].reverse(), kinds: [...run().kinds].reverse() });
    expect(JSON.stringify(buildReports(shuffled, { format: 'openreports', maxResultsPerReport: 3 }))).toBe(a);
    const next = JSON.stringify(buildReports(run({ id: 'audit-2', finishedAt: new Date() }), { format: 'openreports', maxResultsPerReport: 3 }));
    expect(next).not.toBe(a);
    expect(next.replaceAll('audit-2', 'audit-1')).toBe(a);
    // The decision id of a finding is not copied (it differs every run).
    expect(a).not.toContain('d-1');
  });

  it('bounded: at most maxResultsPerReport results, failures kept first, still sorted; the summary counts every finding', () => {
    const reports = byNamespace(buildReports(run(), { format: 'openreports', maxResultsPerReport: 2 }));
    const teamA = reports.get('team-a') as ReportObject;
    expect(teamA.results.map((r) => [r.policy, r.resources?.[0]?.name, r.result])).toEqual([
      ['disallow-latest', 'web', 'fail'],
      ['disallow-latest', 'alpha', 'fail'],
    ]);
    expect(teamA.summary).toEqual({ pass: 7, fail: 2, warn: 1, error: 1, skip: 0 });
    expect(teamA.metadata.annotations).toMatchObject({ [ANNOTATION_TRUNCATED]: 'true', [ANNOTATION_RESULTS_TOTAL]: '4' });
    expect(teamA.configuration?.limits.maxResults).toBe(2);
    // Reports within the bound are not marked.
    expect(reports.get('team-b')?.metadata.annotations).not.toHaveProperty(ANNOTATION_TRUNCATED);
    // 1 is the floor of the bound.
    expect(byNamespace(buildReports(run(), { format: 'wgpolicyk8s', maxResultsPerReport: 0 })).get('team-a')?.results).toHaveLength(1);
  });

  it('a run cut at its own bound marks every report', () => {
    for (const r of buildReports(run({ truncated: true }), { format: 'wgpolicyk8s', maxResultsPerReport: 10 })) {
      expect(r.metadata.annotations[ANNOTATION_RUN_TRUNCATED]).toBe('true');
    }
    for (const r of buildReports(run(), { format: 'wgpolicyk8s', maxResultsPerReport: 10 })) expect(r.metadata.annotations).not.toHaveProperty(ANNOTATION_RUN_TRUNCATED);
  });

  it('a very long message is cut to MAX_MESSAGE_CHARS with an ellipsis; a custom source is used everywhere', () => {
    const long = finding('team-a', 'p', 'Pod', 'x', 'fail', { message: 'm'.repeat(MAX_MESSAGE_CHARS * 2) });
    const [report] = buildReports(run({ findings: [long], passes: [], notAuditable: [] }), { format: 'openreports', maxResultsPerReport: 10, source: 'bouncer-staging' });
    expect(report?.results[0]?.message).toHaveLength(MAX_MESSAGE_CHARS);
    expect(report?.results[0]?.message.endsWith('…')).toBe(true);
    expect(report?.source).toBe('bouncer-staging');
    expect(report?.results[0]?.source).toBe('bouncer-staging');
  });

  it('an empty run still gives the cluster report, with the run annotations', () => {
    const reports = buildReports(run({ findings: [], passes: [], notAuditable: [] }), { format: 'openreports', maxResultsPerReport: 10 });
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ kind: 'ClusterReport', summary: { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 }, results: [] });
  });
});

describe('truncateReport', () => {
  it('halving twice keeps the original total, the most severe results and the summary; the input is untouched', () => {
    const [report] = buildReports(run(), { format: 'openreports', maxResultsPerReport: 100 });
    const full = report as ReportObject;
    const before = JSON.stringify(full);
    const half = truncateReport(full, 2);
    const quarter = truncateReport(half, 1);
    expect(JSON.stringify(full)).toBe(before);
    expect(half.results.map((r) => r.result)).toEqual(['fail', 'fail']);
    expect(quarter.results.map((r) => r.resources?.[0]?.name)).toEqual(['web']);
    expect(quarter.metadata.annotations).toMatchObject({ [ANNOTATION_TRUNCATED]: 'true', [ANNOTATION_RESULTS_TOTAL]: '4' });
    expect(quarter.summary).toEqual(full.summary);
    expect(truncateReport(full, 10)).toBe(full);
  });
});
