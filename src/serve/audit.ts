// The background audit of `bouncer serve`, wired, and the two pieces `bouncer audit` shares
// with it: writing a run's reports, and seeding a bundle with the replicated objects it reads.
//
// The audit is a second caller of admission's reviewer: the same backend (so the same policy
// instances with the same replicated data), the same Namespace cache, the same policy set
// snapshot per run.
import { createAuditRunner, type AuditRunner } from '../audit/audit-runner.js';
import { createAuditor } from '../audit/auditor.js';
import { buildReports, reportWriteTarget, type ReportFormat } from '../audit/report-build.js';
import type { AuditRun } from '../audit/types.js';
import type { LoadedBundle } from '../bundles/bundle.js';
import type { PolicySet } from '../bundles/policy-set.js';
import type { loadKubeConfig } from '../cluster/kubeconfig.js';
import type { NamespaceCache } from '../cluster/namespace-cache.js';
import type { EvalBackend } from '../engine/backend.js';
import { createInventoryFeed } from '../inventory/data-feed.js';
import { createInventoryStore } from '../inventory/store.js';
import type { DecisionLog } from '../telemetry/decision-log.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';

type KubeConfigLike = ReturnType<typeof loadKubeConfig>;

export interface ReportOptions {
  readonly format: ReportFormat;
  readonly maxResultsPerReport: number;
}

/**
 * Writes a run's reports. Stale reports (namespaces no longer reported) are deleted only after
 * a complete run: a kind that could not be listed would otherwise take its namespaces' results
 * away. Failures of single reports are in the result (already logged); only a missing CRD or an
 * unreachable cluster throws.
 */
export async function publishReports(kc: KubeConfigLike, run: AuditRun, options: ReportOptions & { readonly logger?: Logger }): Promise<unknown> {
  const { writeReports } = await import('../cluster/report-writer.js');
  const complete = run.kinds.every((k) => k.error === undefined) && !run.truncated;
  return writeReports(kc, buildReports(run, { format: options.format, maxResultsPerReport: options.maxResultsPerReport }), {
    ...reportWriteTarget(options.format),
    deleteStale: complete,
    ...(options.logger ? { logger: { warn: (fields, message) => options.logger?.warn(fields, message) } } : {}),
  });
}

/**
 * For `bouncer audit`: the bundle with the replicated objects its policies read (listed once
 * from the cluster), applied to its in-process instance. A kind that cannot be listed within
 * `waitMs` is an error: auditing a referential policy on an empty inventory would report
 * passes that mean nothing.
 */
export async function seedInventory(kc: KubeConfigLike, bundle: LoadedBundle, logger: Logger, waitMs = 60_000): Promise<LoadedBundle> {
  const kinds = bundle.manifest.inventory.kinds;
  if (kinds.length === 0) return bundle;
  const { createInventoryReplicator } = await import('../cluster/inventory-replicator.js');
  const store = createInventoryStore({ maxBytes: Number.MAX_SAFE_INTEGER, maxStalenessMs: Number.MAX_SAFE_INTEGER });
  const replicator = createInventoryReplicator({ kubeConfig: kc, store, logger });
  try {
    replicator.require(kinds);
    const deadline = Date.now() + waitMs;
    while (!replicator.synced(kinds)) {
      if (Date.now() > deadline) {
        const { BouncerError } = await import('../errors/errors.js');
        throw new BouncerError('INVENTORY_KIND_UNAVAILABLE', `the replicated kinds the policies read could not be listed within ${waitMs} ms: ${replicator.readiness().reasons.join('; ')}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const feed = createInventoryFeed({ view: store, backend: { updateData: () => undefined } });
    bundle.evaluator.applyData(feed.attach(bundle.key, bundle.manifest.inventory)());
    return bundle;
  } finally {
    await replicator.close();
  }
}

export interface BackgroundAuditOptions {
  readonly kubeConfig: KubeConfigLike;
  readonly namespace: string;
  readonly replica: string;
  readonly intervalMs: number;
  readonly pageSize: number;
  readonly maxFindings: number;
  /** Skipped besides kube-system, kube-node-lease and `namespace` (the webhooks' own exclusions). */
  readonly excludedNamespaces?: readonly string[];
  readonly reviewBudgetMs: number;
  readonly reports?: ReportOptions;
  readonly policies: () => PolicySet | undefined;
  readonly backend: EvalBackend;
  readonly namespaces?: NamespaceCache;
  readonly decisionLog: DecisionLog;
  /** True once the replicated kinds are listed. */
  readonly dataReady: () => boolean;
  /** Changes whenever the replicated objects do. */
  readonly dataVersion: () => string;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** The audit runner (not started): every interval, in the replica holding the `bouncer-audit` Lease. */
export async function createBackgroundAudit(options: BackgroundAuditOptions): Promise<AuditRunner> {
  const [{ kubeResourceDiscovery }, { kubeObjectPages }, { createLeaderElector }] = await Promise.all([
    import('../cluster/resource-discovery.js'),
    import('../cluster/object-pages.js'),
    import('../cluster/lease.js'),
  ]);
  const kc = options.kubeConfig;
  const logger = options.logger.child({ component: 'audit' });
  const ns = options.namespaces;
  const auditor = createAuditor(
    {
      policies: options.policies,
      discovery: kubeResourceDiscovery(kc),
      pager: kubeObjectPages(kc),
      backend: options.backend,
      reviewBudgetMs: options.reviewBudgetMs,
      ...(ns ? { namespaces: ns.lookup, readNamespace: (name: string) => ns.read(name) } : {}),
      decisionLog: options.decisionLog,
      dataVersion: options.dataVersion,
      logger,
    },
    { pageSize: options.pageSize, maxFindings: options.maxFindings, excludedNamespaces: ['kube-system', 'kube-node-lease', options.namespace, ...(options.excludedNamespaces ?? [])] },
  );
  const reports = options.reports;
  return createAuditRunner({
    auditor,
    intervalMs: options.intervalMs,
    leader: createLeaderElector(kc, options.namespace, 'bouncer-audit', options.replica),
    ready: () => options.policies() !== undefined && options.dataReady() && (ns?.synced() ?? true),
    ...(reports ? { onRun: async (run: AuditRun) => void (await publishReports(kc, run, { ...reports, logger })) } : {}),
    metrics: options.metrics.audit,
    logger,
  });
}
