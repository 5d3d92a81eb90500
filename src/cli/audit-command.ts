// bouncer audit [--policies DIR | --bundle FILE] [--kubeconfig F] [--context C] ...
// Audits what already exists in a cluster: every object of every kind the policies match is
// listed page by page and reviewed as a CREATE by the same reviewer as admission (the audit
// of `bouncer serve`, run once, in this process). Read-only unless --write-reports.
// Prints a summary per policy with examples, or the AuditRun as JSON (--format json).
// Exit 0: no object violates a deny policy; 1: some object does (admission would reject it
// as it is); 2: the audit is incomplete or could not run (a kind not listable, an object that
// cannot be reviewed, a policy failing to evaluate) — 2 wins over 1, since an incomplete audit
// cannot say the cluster is clean.
import { createAuditor, AUDIT_DEFAULTS } from '../audit/auditor.js';
import type { AuditRun } from '../audit/types.js';
import type { LoadedBundle } from '../bundles/bundle.js';
import { createPolicySet } from '../bundles/policy-set.js';
import { kubeObjectPages } from '../cluster/object-pages.js';
import { kubeResourceDiscovery } from '../cluster/resource-discovery.js';
import { kubeNamespaceTransport } from '../cluster/namespace-transport.js';
import { projectNamespace } from '../cluster/namespace-projection.js';
import { BouncerError } from '../errors/errors.js';
import type { NamespaceInfo } from '../gatekeeper/types.js';
import { clusterArgs, DEFAULT_NAMESPACE, kubeConfigFor } from './cluster-context.js';
import { EXIT, type CliContext } from './context.js';
import { loadPolicySource } from './policy-source.js';

export const AUDIT_USAGE =
  'usage: bouncer audit [--policies DIR | --bundle FILE] [--kubeconfig FILE] [--context NAME] [--page-size 500] [--max-findings 10000] [--exclude-namespaces kube-system,kube-node-lease,bouncer-system] [--examples 3] [--format text|json] [--write-reports [--report-format openreports|wgpolicyk8s]]';

type KubeConfigLike = ReturnType<typeof kubeConfigFor>;

/** Writes the run's reports to the cluster (src/cluster/report-writer.ts writeReports). */
export type ReportWriter = (kc: KubeConfigLike, run: AuditRun, options: { readonly format?: string }) => Promise<unknown>;

export interface AuditCommandDeps {
  readonly writeReports?: ReportWriter;
  /**
   * The bundle with its replicated data seeded from the cluster (data.inventory), for policies
   * that read other objects; without it they see an empty inventory.
   */
  readonly inventory?: (kc: KubeConfigLike, bundle: LoadedBundle) => Promise<LoadedBundle>;
}

function count(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new BouncerError('CONFIG_INVALID', `--${name} must be a positive integer\n${AUDIT_USAGE}`);
  return n;
}

/** The cluster's Namespaces (labels, annotations), listed once for constraints' namespaceSelector. */
async function listNamespaces(kc: KubeConfigLike): Promise<Map<string, NamespaceInfo>> {
  const list = await kubeNamespaceTransport(kc).list();
  return new Map(list.items.flatMap((ns) => (ns.metadata?.name ? [[ns.metadata.name, projectNamespace(ns.metadata).info] as const] : [])));
}

export async function auditCommand(ctx: CliContext, deps: AuditCommandDeps = {}): Promise<number> {
  const { values } = clusterArgs(
    ctx,
    {
      policies: { type: 'string' },
      bundle: { type: 'string' },
      opa: { type: 'string' },
      context: { type: 'string' },
      'page-size': { type: 'string' },
      'max-findings': { type: 'string' },
      'exclude-namespaces': { type: 'string' },
      examples: { type: 'string' },
      format: { type: 'string' },
      'write-reports': { type: 'boolean' },
      'report-format': { type: 'string' },
    },
    AUDIT_USAGE,
  );
  if (values.bundle && values.policies) throw new BouncerError('CONFIG_INVALID', `give --bundle or --policies, not both\n${AUDIT_USAGE}`);
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw new BouncerError('CONFIG_INVALID', `--format must be text or json\n${AUDIT_USAGE}`);
  if (values['write-reports'] && !deps.writeReports) throw new BouncerError('CONFIG_INVALID', '--write-reports: this build has no report writer');
  const reportFormat = values['report-format'];
  if (reportFormat !== undefined && reportFormat !== 'openreports' && reportFormat !== 'wgpolicyk8s') {
    throw new BouncerError('CONFIG_INVALID', `--report-format must be openreports or wgpolicyk8s, not ${JSON.stringify(reportFormat)}\n${AUDIT_USAGE}`);
  }
  const kc = kubeConfigFor(ctx, values);
  const namespace = typeof values.namespace === 'string' ? values.namespace : (ctx.env.BOUNCER_NAMESPACE ?? DEFAULT_NAMESPACE);
  const excluded = values['exclude-namespaces'] !== undefined ? values['exclude-namespaces'].split(',').filter(Boolean) : ['kube-system', 'kube-node-lease', namespace];
  let bundle = await loadPolicySource(ctx, { bundle: values.bundle, policies: values.policies, opa: values.opa });
  if (deps.inventory) bundle = await deps.inventory(kc, bundle);
  const set = createPolicySet([bundle]);
  const namespaces = bundle.templates.length > 0 ? await listNamespaces(kc) : undefined;
  const warn = (obj: object, msg: string) => {
    const o = obj as { code?: string; err?: unknown };
    ctx.stderr(`bouncer audit: ${o.code ? `${o.code}: ` : ''}${msg}${o.err instanceof Error ? ` (${o.err.message})` : ''}\n`);
  };
  const auditor = createAuditor(
    {
      policies: () => set,
      discovery: kubeResourceDiscovery(kc),
      pager: kubeObjectPages(kc),
      ...(namespaces ? { namespaces: (n: string) => namespaces.get(n) } : {}),
      logger: { info: () => undefined, warn, error: warn },
    },
    {
      pageSize: count('page-size', values['page-size'], AUDIT_DEFAULTS.pageSize),
      maxFindings: count('max-findings', values['max-findings'], AUDIT_DEFAULTS.maxFindings),
      excludedNamespaces: excluded,
    },
  );
  const run = await auditor.run();
  if (values['write-reports'] && deps.writeReports) await deps.writeReports(kc, run, values['report-format'] ? { format: values['report-format'] } : {});
  ctx.stdout(format === 'json' ? `${JSON.stringify(run, null, 2)}\n` : summary(run, count('examples', values.examples, 3), kc.getCurrentCluster()?.server ?? '?'));
  return auditExit(run);
}

/** The exit status of a run (see the header). */
export function auditExit(run: AuditRun): number {
  const incomplete = run.kinds.some((k) => k.error) || (run.objectsInvalid ?? 0) > 0 || run.findings.some((f) => f.result === 'error') || (run.summary ?? []).some((s) => s.error > 0);
  if (incomplete) return EXIT.error;
  const denied = run.findings.some((f) => f.result === 'fail' && f.enforcement === 'deny') || (run.summary ?? []).some((s) => s.enforcement === 'deny' && s.fail > 0);
  return denied ? EXIT.failed : EXIT.ok;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** The human summary: totals, kinds not listed, policies not auditable, then per policy its counts and examples. */
export function summary(run: AuditRun, examples: number, server: string): string {
  const lines: string[] = [];
  const seconds = ((run.finishedAt.getTime() - run.startedAt.getTime()) / 1000).toFixed(1);
  lines.push(`audit ${run.id} of ${server} against ${run.revision}`);
  lines.push(`  ${run.kinds.length} kinds, ${run.objectsScanned} objects (${run.objectsEvaluated} evaluated, ${run.objectsInvalid ?? 0} could not be reviewed), ${run.apiRequests} list requests, ${seconds} s`);
  const failed = run.kinds.filter((k) => k.error);
  if (failed.length > 0) {
    lines.push('kinds not listed completely:');
    for (const k of failed) lines.push(`  ${k.kind}: ${k.error?.code} ${k.error?.message} (${k.objects} objects seen)`);
  }
  if (run.notAuditable.length > 0) {
    lines.push('policies not auditable (skipped):');
    for (const p of run.notAuditable) lines.push(`  ${p.policy}: ${p.reason}`);
  }
  const rows = run.summary ?? [];
  const width = Math.max(6, ...rows.map((r) => r.policy.length)) + 2;
  lines.push(`${pad('policy', width)}${pad('enforcement', 13)}${pad('fail', 7)}${pad('warn', 7)}${pad('error', 7)}pass`);
  for (const r of rows) {
    lines.push(`${pad(r.policy, width)}${pad(r.enforcement, 13)}${pad(String(r.fail), 7)}${pad(String(r.warn), 7)}${pad(String(r.error), 7)}${r.pass}`);
    if ((r.skip ?? 0) > 0) lines.push(`    ${r.skip} exempted by policy exceptions in force (skip; docs/exceptions.md)`);
    for (const f of run.findings.filter((x) => x.policy === r.policy).slice(0, examples)) {
      const where = `${f.resource.namespace ? `${f.resource.namespace}/` : ''}${f.resource.kind}/${f.resource.name}`;
      lines.push(`    ${f.result} ${where}: ${f.message.split('\n').join('; ')}`);
    }
  }
  if (run.truncated) lines.push(`findings were cut at ${run.findings.length} (--max-findings); the counts above are complete`);
  return `${lines.join('\n')}\n`;
}
