// Audit reports on the real kube-apiserver (src/audit/report-build.ts, src/cluster/report-writer.ts)
// with the CRDs of manifests/base/crds applied: reports written as built, an unchanged re-write
// makes no write, stale reports deleted (and nothing else), concurrent writers retried through
// 409s, a report over the API server's and etcd's size limits written again truncated, another
// failure recorded while the rest are written, the CRDs missing named, and the committed RBAC
// (manifests/base/rbac-reports.yaml) enough.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { CustomObjectsApi, KubeConfig, setHeaderOptions } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  ANNOTATION_RESULTS_TOTAL,
  ANNOTATION_TRUNCATED,
  buildReports,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  MAX_MESSAGE_CHARS,
  REPORT_KINDS,
  type ReportFormat,
  type ReportObject,
  reportWriteTarget,
} from '../../src/audit/report-build.js';
import type { AuditFinding, AuditRun } from '../../src/audit/types.js';
import { isBouncerError } from '../../src/errors/errors.js';
import { METADATA_ONLY } from '../../src/cluster/report-api.js';
import { ANNOTATION_CONTENT_HASH, writeReports, type ReportWriterOptions, type ReportWriteResult } from '../../src/cluster/report-writer.js';
import { kubectl } from '../support/kubectl.js';
import { createNamespace, kubeFor, uniqueName, waitFor } from '../support/kube.js';

const GROUP = 'openreports.io';
const VERSION = 'v1alpha1';

function finding(namespace: string, policy: string, name: string, message = `${policy}: ${name} is not allowed`): AuditFinding {
  return {
    policy,
    bundle: 'baseline',
    enforcement: 'deny',
    result: 'fail',
    message,
    resource: { apiVersion: namespace ? 'v1' : 'rbac.authorization.k8s.io/v1', kind: namespace ? 'Pod' : 'ClusterRole', namespace, name, uid: `uid-${namespace}-${name}` },
  };
}

function auditRun(id: string, findings: AuditFinding[]): AuditRun {
  const at = new Date('2026-03-01T10:00:00Z');
  return {
    id,
    revision: 'rev-1',
    startedAt: at,
    finishedAt: at,
    objectsScanned: findings.length,
    objectsEvaluated: findings.length,
    apiRequests: 1,
    kinds: [],
    notAuditable: [],
    findings,
    passes: [],
    truncated: false,
  };
}

function capture() {
  const lines: { fields: Record<string, unknown>; message: string }[] = [];
  return { lines, logger: { warn: (fields: Record<string, unknown>, message: string) => lines.push({ fields, message }) } };
}

function options(format: ReportFormat = 'openreports', extra: Partial<ReportWriterOptions<ReportObject>> = {}): ReportWriterOptions<ReportObject> {
  return { ...reportWriteTarget(format), ...extra };
}

/** The stored object without the server's metadata and the writer's hash, to compare with what was built. */
function stripped(stored: Record<string, unknown>): Record<string, unknown> {
  const { metadata, ...rest } = stored as { metadata: { name: string; namespace?: string; labels?: unknown; annotations?: Record<string, string> } };
  const { [ANNOTATION_CONTENT_HASH]: hash, ...annotations } = metadata.annotations ?? {};
  expect(hash).toMatch(/^[0-9a-f]{64}$/);
  return { ...rest, metadata: { name: metadata.name, ...(metadata.namespace ? { namespace: metadata.namespace } : {}), labels: metadata.labels, annotations } };
}

describe('audit reports on a real API server', () => {
  const state = inject('controlPlane');
  const external = inject('externalCluster');
  const kube = kubeFor(state);
  const custom = kube.kc.makeApiClient(CustomObjectsApi);
  const namespaces: string[] = [];
  const ok = (args: string[], input?: string) => {
    const r = kubectl(state, args, input);
    expect(r.code, `kubectl ${args.join(' ')}\n${r.stderr}`).toBe(0);
    return r;
  };
  const read = async (namespace: string, name = 'bouncer-audit') =>
    (namespace
      ? await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: 'reports', namespace, name })
      : await custom.getClusterCustomObject({ group: GROUP, version: VERSION, plural: 'clusterreports', name })) as Record<string, unknown> & {
      metadata: { resourceVersion: string; annotations?: Record<string, string> };
      results?: unknown[];
      summary: Record<string, number>;
    };
  const noFailures = (r: ReportWriteResult) => expect(r.failed, JSON.stringify(r.failed)).toEqual([]);

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      const name = uniqueName('reports');
      await createNamespace(kube, name);
      namespaces.push(name);
    }
  });

  afterAll(async () => {
    // Drop this file's reports (the cluster report too) so no other file sees them.
    await writeReports(kube.kc, [], options()).catch(() => undefined);
    for (const ns of namespaces) await kube.core.deleteNamespace({ name: ns }).catch(() => undefined);
  });

  // First, while the CRDs are absent (they are cluster-wide; an existing cluster has them).
  it.skipIf(external)('without the CRDs: REPORT_CRD_MISSING naming each CRD and the manifest that ships it; nothing written', async () => {
    // Files run one after another on one control plane: an earlier one (manifests/base applied)
    // may have installed them; this file installs them again below.
    ok(['delete', 'crd', 'reports.openreports.io', 'clusterreports.openreports.io', 'policyreports.wgpolicyk8s.io', 'clusterpolicyreports.wgpolicyk8s.io', '--ignore-not-found', '--wait=true']);
    for (const format of ['openreports', 'wgpolicyk8s'] as const) {
      const reports = buildReports(auditRun('missing', [finding(namespaces[0] as string, 'p', 'a')]), { format, maxResultsPerReport: 10 });
      const err = await writeReports(kube.kc, reports, options(format)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isBouncerError(err, 'REPORT_CRD_MISSING'), String(err)).toBe(true);
      const [namespaced, cluster] = format === 'openreports' ? ['reports', 'clusterreports'] : ['policyreports', 'clusterpolicyreports'];
      const group = REPORT_KINDS[format].apiVersion.split('/')[0];
      expect((err as Error).message).toContain(`${namespaced}.${group} and ${cluster}.${group}`);
      expect((err as Error).message).toContain(`manifests/base/crds/${group}_${namespaced}.yaml`);
    }
  });

  describe('with the CRDs of manifests/base/crds', () => {
    beforeAll(async () => {
      for (const file of ['openreports.io_reports', 'openreports.io_clusterreports', 'wgpolicyk8s.io_policyreports', 'wgpolicyk8s.io_clusterpolicyreports']) {
        ok(['apply', '--server-side', '--field-manager=bouncer-e2e', '-f', `manifests/base/crds/${file}.yaml`]);
      }
      const crds = ['reports.openreports.io', 'clusterreports.openreports.io', 'policyreports.wgpolicyk8s.io', 'clusterpolicyreports.wgpolicyk8s.io'];
      ok(['wait', '--for=condition=Established', '--timeout=30s', ...crds.map((c) => `crd/${c}`)]);
      // Discovery follows Established by a moment.
      await waitFor(async () => (await custom.getAPIResources({ group: 'wgpolicyk8s.io', version: 'v1alpha2' })).resources.length >= 2, 20_000, 'the report kinds in discovery');
      await waitFor(async () => (await custom.getAPIResources({ group: GROUP, version: VERSION })).resources.length >= 2, 20_000, 'the report kinds in discovery');
    });

    it('writes each report as built; the same reports again make no write; a new run rewrites; a namespace gone from the run loses its report, nothing else is touched', async () => {
      const [a, b] = namespaces as [string, string];
      const findings = [finding(a, 'disallow-latest', 'web'), finding(b, 'require-labels', 'api'), finding('', 'K8sNoWildcardVerbs/all', 'admin')];
      const reports = buildReports(auditRun('run-1', findings), { format: 'openreports', maxResultsPerReport: 100 });
      const first = await writeReports(kube.kc, reports, options());
      noFailures(first);
      expect(first.written.map((r) => `${r.kind} ${r.namespace}`).sort()).toEqual([`ClusterReport `, `Report ${a}`, `Report ${b}`].sort());
      for (const report of reports) expect(stripped(await read(report.metadata.namespace ?? ''))).toEqual(report);
      // The writer's list asks for metadata only (a page of full reports could be hundreds of MB).
      const list = (await custom.listCustomObjectForAllNamespaces({ group: GROUP, version: VERSION, plural: 'reports', labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` }, setHeaderOptions('Accept', METADATA_ONLY))) as { kind: string; items: Record<string, unknown>[] };
      expect(list.kind).toBe('PartialObjectMetadataList');
      expect(list.items.length).toBeGreaterThanOrEqual(2);
      for (const item of list.items) expect(item).not.toHaveProperty('results');

      const versions = await Promise.all(['', a, b].map(async (ns) => (await read(ns)).metadata.resourceVersion));
      const again = await writeReports(kube.kc, buildReports(auditRun('run-1', [...findings].reverse()), { format: 'openreports', maxResultsPerReport: 100 }), options());
      noFailures(again);
      expect(again.written).toEqual([]);
      expect(again.unchanged).toHaveLength(3);
      expect(await Promise.all(['', a, b].map(async (ns) => (await read(ns)).metadata.resourceVersion))).toEqual(versions);

      // A report of the same kind in b that bouncer does not manage (no label): never deleted.
      await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: 'reports', namespace: b, body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'Report', metadata: { name: 'someone-else' }, summary: { pass: 1 } } });
      const next = await writeReports(kube.kc, buildReports(auditRun('run-2', findings.filter((f) => f.resource.namespace !== b)), { format: 'openreports', maxResultsPerReport: 100 }), options());
      noFailures(next);
      expect(next.written).toHaveLength(2);
      expect(next.deleted).toEqual([{ kind: 'Report', namespace: b, name: 'bouncer-audit' }]);
      await expect(read(b)).rejects.toMatchObject({ code: 404 });
      expect((await read(b, 'someone-else')).summary).toEqual({ pass: 1 });
      expect((await read(a)).metadata.annotations?.['bouncer.dev/audit-id']).toBe('run-2');
    });

    it('concurrent writers of the same reports: 409 Conflicts re-read and retried, every write lands, one run wins whole', async () => {
      const findings = namespaces.map((ns) => finding(ns, 'disallow-latest', 'web'));
      const runs = Array.from({ length: 6 }, (_, i) => buildReports(auditRun(`race-${i}`, findings), { format: 'openreports', maxResultsPerReport: 100 }));
      let conflicts = 0;
      // Races are not certain: up to 5 rounds until one met a conflict (each round is a real race).
      for (let round = 0; round < 5 && conflicts === 0; round++) {
        const results = await Promise.all(runs.map((reports) => writeReports(kube.kc, reports, options('openreports', { conflictRetries: 20, deleteStale: false }))));
        for (const r of results) noFailures(r);
        conflicts += results.reduce((n, r) => n + r.conflicts, 0);
        // Every report holds one run's content, as built.
        for (const ns of [...namespaces, '']) {
          const stored = stripped(await read(ns));
          const id = (stored.metadata as { annotations: Record<string, string> }).annotations['bouncer.dev/audit-id'] as string;
          const built = runs[Number(id.split('-')[1])]?.find((r) => (r.metadata.namespace ?? '') === ns);
          expect(stored).toEqual(built);
        }
      }
      console.log(`audit reports: ${conflicts} conflicts met and retried by 6 concurrent writers`);
      expect(conflicts).toBeGreaterThan(0);
    });

    it('out of conflict retries: REPORT_CONFLICT recorded for that report, the stored report still one run\'s whole', async () => {
      const findings = namespaces.map((ns) => finding(ns, 'require-labels', 'api'));
      const runs = Array.from({ length: 6 }, (_, i) => buildReports(auditRun(`norace-${i}`, findings), { format: 'openreports', maxResultsPerReport: 100 }));
      let failed: ReportWriteResult['failed'] = [];
      for (let round = 0; round < 5 && failed.length === 0; round++) {
        const log = capture();
        const results = await Promise.all(runs.map((reports) => writeReports(kube.kc, reports, options('openreports', { conflictRetries: 0, deleteStale: false, logger: log.logger }))));
        failed = results.flatMap((r) => r.failed);
        expect(log.lines.filter((l) => l.message === 'audit report not written')).toHaveLength(failed.length);
      }
      expect(failed.length).toBeGreaterThan(0);
      expect(new Set(failed.map((f) => f.code))).toEqual(new Set(['REPORT_CONFLICT']));
      for (const ns of [...namespaces, '']) {
        const stored = stripped(await read(ns));
        const id = (stored.metadata as { annotations: Record<string, string> }).annotations['bouncer.dev/audit-id'] as string;
        expect(stored).toEqual(runs[Number(id.split('-')[1])]?.find((r) => (r.metadata.namespace ?? '') === ns));
      }
    });

    it('a report over the size limits (413 at 3 MiB, then etcd\'s request is too large) is written again with fewer results, marked truncated', async () => {
      const ns = namespaces[0] as string;
      // 800 results of ~4 KiB: ~3.4 MB (over the API server's body limit), then ~1.7 MB (over
      // etcd's 1.5 MiB request limit), then ~0.85 MB, which is stored.
      const findings = Array.from({ length: 800 }, (_, i) => finding(ns, 'big', `pod-${String(i).padStart(4, '0')}`, `${i} `.padEnd(MAX_MESSAGE_CHARS, 'x')));
      const reports = buildReports(auditRun('big', findings), { format: 'openreports', maxResultsPerReport: 1000 });
      const log = capture();
      const result = await writeReports(kube.kc, reports, options('openreports', { logger: log.logger, deleteStale: false }));
      noFailures(result);
      expect(result.truncated).toEqual([{ kind: 'Report', namespace: ns, name: 'bouncer-audit', results: 200 }]);
      const stored = await read(ns);
      expect(stored.results).toHaveLength(200);
      expect(stored.metadata.annotations).toMatchObject({ [ANNOTATION_TRUNCATED]: 'true', [ANNOTATION_RESULTS_TOTAL]: '800' });
      expect(stored.summary).toMatchObject({ fail: 800 });
      console.log(`audit reports: too large: ${log.lines.map((l) => `HTTP ${String(l.fields.status)} ${String(l.fields.reason)}`).join('; ')}`);
      expect(log.lines.map((l) => [l.fields.code, l.fields.results])).toEqual([
        ['REPORT_TOO_LARGE', 400],
        ['REPORT_TOO_LARGE', 200],
      ]);
      // The first refusal is the API server's body limit, the second etcd's request limit.
      expect(log.lines[0]?.fields.status).toBe(413);
      expect(String(log.lines[1]?.fields.reason)).toMatch(/request is too large/);
      // The same run again: the stored (truncated) report is recognised by the given report's
      // hash, with no write at all (no second round of refusals).
      const again = capture();
      const second = await writeReports(kube.kc, reports, options('openreports', { deleteStale: false, logger: again.logger }));
      noFailures(second);
      expect(second.written).toEqual([]);
      expect(second.unchanged.map((r) => r.namespace).sort()).toEqual(['', ns]);
      expect(again.lines).toEqual([]);
      expect((await read(ns)).metadata.resourceVersion).toBe(stored.metadata.resourceVersion);
    });

    it('a report that cannot be written is recorded with its code; the others are still written', async () => {
      const missing = uniqueName('no-such-namespace');
      const reports = buildReports(auditRun('partial', [finding(missing, 'p', 'a'), finding(namespaces[1] as string, 'p', 'b')]), { format: 'openreports', maxResultsPerReport: 10 });
      const log = capture();
      const result = await writeReports(kube.kc, reports, options('openreports', { logger: log.logger, deleteStale: false }));
      expect(result.failed).toEqual([expect.objectContaining({ kind: 'Report', namespace: missing, name: 'bouncer-audit', code: 'REPORT_WRITE_FAILED' })]);
      expect(result.failed[0]?.message).toContain('HTTP 404');
      expect(result.written.map((r) => r.namespace).sort()).toEqual(['', namespaces[1]]);
      expect(log.lines).toEqual([expect.objectContaining({ message: 'audit report not written', fields: expect.objectContaining({ code: 'REPORT_WRITE_FAILED' }) })]);
    });

    it('wgpolicyk8s: PolicyReports and a ClusterPolicyReport stored as built; bouncer\'s openreports reports (the format before the switch) removed', async () => {
      const labelled = async (plural: string) =>
        ((await custom.listCustomObjectForAllNamespaces({ group: GROUP, version: VERSION, plural, labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` })) as { items: unknown[] }).items.length;
      expect(await labelled('reports')).toBeGreaterThan(0);
      // Not bouncer's: stays.
      await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: 'reports', namespace: namespaces[2] as string, body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'Report', metadata: { name: 'kept', labels: { [MANAGED_BY_LABEL]: 'someone-else' } } } });
      const reports = buildReports(auditRun('wg', [finding(namespaces[2] as string, 'p', 'a'), finding('', 'q', 'b')]), { format: 'wgpolicyk8s', maxResultsPerReport: 10 });
      const result = await writeReports(kube.kc, reports, options('wgpolicyk8s'));
      noFailures(result);
      expect(result.written.map((r) => r.kind).sort()).toEqual(['ClusterPolicyReport', 'PolicyReport']);
      const stored = (await custom.getNamespacedCustomObject({ group: 'wgpolicyk8s.io', version: 'v1alpha2', plural: 'policyreports', namespace: namespaces[2] as string, name: 'bouncer-audit' })) as Record<string, unknown>;
      expect(stripped(stored)).toEqual(reports[0]);
      expect(new Set(result.deleted.map((r) => r.kind))).toEqual(new Set(['Report', 'ClusterReport']));
      expect(await labelled('reports')).toBe(0);
      expect(await labelled('clusterreports')).toBe(0);
      await expect(read(namespaces[2] as string, 'kept')).resolves.toBeDefined();
      // Clean up this format's reports.
      expect((await writeReports(kube.kc, [], options('wgpolicyk8s'))).deleted).toHaveLength(2);
    });

    it('200 namespaces: the first write, an unchanged re-write and a full rewrite, timed', async () => {
      const many = Array.from({ length: 200 }, (_, i) => `${uniqueName('reports-many')}-${i}`);
      await Promise.all(many.map((ns) => createNamespace(kube, ns)));
      namespaces.push(...many);
      const findings = many.flatMap((ns) => Array.from({ length: 10 }, (_, i) => finding(ns, `policy-${i % 3}`, `pod-${i}`)));
      const timed = async (id: string) => {
        const started = performance.now();
        const result = await writeReports(kube.kc, buildReports(auditRun(id, findings), { format: 'openreports', maxResultsPerReport: 100 }), options('openreports', { deleteStale: false }));
        noFailures(result);
        return { ms: Math.round(performance.now() - started), written: result.written.length, unchanged: result.unchanged.length };
      };
      const first = await timed('many-1');
      const same = await timed('many-1');
      const next = await timed('many-2');
      console.log(`audit reports, 201 reports of 10 results: first write ${first.ms} ms, unchanged ${same.ms} ms, rewritten ${next.ms} ms (concurrency 4)`);
      expect([first.written, same.unchanged, next.written]).toEqual([201, 201, 201]);
    }, 180_000);

    it.skipIf(external)('needs and is enough with the RBAC of manifests/base/rbac-reports.yaml', async () => {
      const user = uniqueName('reports-writer');
      const objects = parseAllDocuments(readFileSync('manifests/base/rbac-reports.yaml', 'utf8')).map((d) => d.toJS() as Record<string, unknown> & { metadata: { name: string } });
      const role = objects.find((o) => o.kind === 'ClusterRole') as (typeof objects)[number];
      const binding = objects.find((o) => o.kind === 'ClusterRoleBinding') as (typeof objects)[number] & { roleRef: { name: string } };
      const base = new KubeConfig();
      base.loadFromFile(state.kubeconfig);
      const as = new KubeConfig();
      as.loadFromOptions({ clusters: base.clusters, contexts: base.contexts, currentContext: base.currentContext, users: base.users.map((u) => ({ ...u, impersonateUser: user })) });
      const [a] = namespaces as [string];
      const reports = buildReports(auditRun('rbac', [finding(a, 'p', 'x')]), { format: 'openreports', maxResultsPerReport: 10 });
      try {
        const denied = await writeReports(as, reports, options());
        expect(denied.failed.length).toBeGreaterThan(0);
        expect(denied.failed[0]?.message).toContain('HTTP 403');
        ok(['apply', '-f', '-'], JSON.stringify({
          apiVersion: 'v1',
          kind: 'List',
          items: [
            { ...role, metadata: { ...role.metadata, name: user } },
            { ...binding, metadata: { ...binding.metadata, name: user }, roleRef: { ...binding.roleRef, name: user }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }] },
          ],
        }));
        await waitFor(async () => (await writeReports(as, reports, options())).failed.length === 0, 10_000, 'written with the granted verbs');
        // Stale deletion (list + delete) with the same grant.
        expect((await writeReports(as, [], options())).failed).toEqual([]);
        await expect(read(a)).rejects.toMatchObject({ code: 404 });
      } finally {
        kubectl(state, ['delete', 'clusterrolebinding', user, '--ignore-not-found']);
        kubectl(state, ['delete', 'clusterrole', user, '--ignore-not-found']);
      }
    });
  });
});
