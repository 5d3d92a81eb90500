// One audit run: every kind an audited policy matches is listed page by page, each object is
// reviewed as a CREATE through a Reviewer made by admission's createReviewer (same evaluator,
// bundle instances, matching and builtins; no decision cache) and its results aggregated; the
// page is then let go. The auditor keeps, between runs, only the compact per-object results
// that make the next run incremental (audit-memory.ts).
//
// Faults, each confined to its kind (AuditRun.kinds[].error, a log line with the code):
// - 410 Gone (the continue token expired): the kind is listed again from the start; its partial
//   results are discarded and the objects already evaluated are recalled, not evaluated again
//   (at most maxRestarts times);
// - no answer, 429 or 5xx (the API server restarting): retried with capped exponential backoff,
//   resuming at the last continue token (at most `retries` attempts in a row);
// - 401, 403 (RBAC), 404 (the resource is gone: a CRD deleted mid-audit) and anything past the
//   retry bounds: the kind is reported with AUDIT_KIND_UNLISTABLE and the run goes on;
// - an object that cannot be reviewed: logged with AUDIT_OBJECT_INVALID and counted.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadedBundle } from '../bundles/bundle.js';
import type { PolicySet } from '../bundles/policy-set.js';
import type { EvalBackend } from '../engine/backend.js';
import { BouncerError, isBouncerError } from '../errors/errors.js';
import type { NamespaceInfo, NamespaceLookup } from '../gatekeeper/types.js';
import { toDecisionEvent, type DecisionEvent } from '../review/decision-event.js';
import { createReviewer, type Reviewer } from '../review/reviewer.js';
import { exceptionsInForce } from '../review/exemptions.js';
import type { DecisionLog } from '../telemetry/decision-log.js';
import { BoundedFindings, objectResults, type ObjectResults } from './audit-findings.js';
import { auditKinds, kindSelectors, resourceKindKey } from './audit-kinds.js';
import { AuditMemory } from './audit-memory.js';
import { auditPolicySet } from './audit-policy-set.js';
import { auditResource, auditReview } from './audit-review.js';
import { httpStatusOf, type ApiResource, type ObjectPager, type ResourceDiscovery } from './cluster-access.js';
import { notAuditable as buildMarks, type NotAuditable } from './not-auditable.js';
import type { AuditFinding, AuditKindReport, AuditRun } from './types.js';

export interface AuditLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface AuditorDeps {
  /** The active policy set; a run reads it once and evaluates that snapshot to the end. */
  readonly policies: () => PolicySet | undefined;
  readonly discovery: ResourceDiscovery;
  readonly pager: ObjectPager;
  /** Where WASM runs: admission's backend (worker pool) in `bouncer serve`, this thread in the CLI. */
  readonly backend?: EvalBackend;
  /** Each object's review budget (as admission's --review-timeout). */
  readonly reviewBudgetMs?: number;
  /** Namespaces for constraints' namespaceSelector and namespaceObject (admission's Namespace cache). */
  readonly namespaces?: NamespaceLookup;
  readonly readNamespace?: (name: string) => Promise<NamespaceInfo | undefined>;
  /** The build's not-auditable marks of a bundle (default: not-auditable.ts). */
  readonly notAuditable?: (bundle: LoadedBundle) => readonly NotAuditable[];
  /** Where fail, warn and error findings are recorded as decision events (with audit_id). */
  readonly decisionLog?: DecisionLog;
  /**
   * Changes whenever data the policies read changes (the replicated inventory's version): an
   * object whose verdict may depend on it is then evaluated again. Absent: the data never changes.
   */
  readonly dataVersion?: () => string;
  readonly logger: AuditLogger;
  readonly now?: () => Date;
  readonly newRunId?: () => string;
  /** Waits between retries (default: a timer cancelled by the run's signal). */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface AuditOptions {
  /** Objects per list request (limit); Gatekeeper's --audit-chunk-size defaults to 500 too. */
  readonly pageSize?: number;
  /** Findings kept per run, in AuditRun order; past it the run is marked truncated. */
  readonly maxFindings?: number;
  /** Objects whose results are remembered for the next run. */
  readonly maxRemembered?: number;
  /** Kinds listed per run (wildcards can select every resource of a cluster). */
  readonly maxKinds?: number;
  /** Objects in these namespaces (and these Namespace objects) are not audited: those the webhook configuration excludes. */
  readonly excludedNamespaces?: readonly string[];
  /** Attempts in a row for a list request that fails without an answer, with 429 or with 5xx. */
  readonly retries?: number;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** Relists of a kind after 410 Gone, per run. */
  readonly maxRestarts?: number;
}

export const AUDIT_DEFAULTS = {
  pageSize: 500,
  maxFindings: 10_000,
  maxRemembered: 100_000,
  maxKinds: 500,
  retries: 6,
  retryBaseMs: 500,
  retryMaxMs: 8_000,
  maxRestarts: 3,
} as const;

export interface Auditor {
  /** One complete run; rejects with AUDIT_RUN_FAILED when it cannot complete (stopped, no policy set, discovery failed). */
  run(signal?: AbortSignal): Promise<AuditRun>;
  /** Objects remembered for incremental runs. */
  remembered(): number;
}

/** What one kind's listing contributed; discarded and rebuilt when the kind is listed again after a 410. */
class KindTally {
  objects = 0;
  invalid = 0;
  readonly passes = new Map<string, number>();
  /** Per policy: pass, fail, warn, error, skip. */
  readonly totals = new Map<string, [number, number, number, number, number]>();
  readonly findings: BoundedFindings;
  constructor(maxFindings: number) {
    this.findings = new BoundedFindings(maxFindings);
  }

  add(results: ObjectResults, namespace: string): void {
    for (const f of results.findings) {
      this.findings.add(f);
      this.count(f.policy, f.result === 'fail' ? 1 : f.result === 'warn' ? 2 : f.result === 'skip' ? 4 : 3);
    }
    for (const policy of results.passed) {
      const key = `${namespace}\u0000${policy}`;
      this.passes.set(key, (this.passes.get(key) ?? 0) + 1);
      this.count(policy, 0);
    }
  }

  private count(policy: string, slot: 0 | 1 | 2 | 3 | 4): void {
    let t = this.totals.get(policy);
    if (!t) this.totals.set(policy, (t = [0, 0, 0, 0, 0]));
    t[slot] += 1;
  }
}

const RETRIED = (status: number | undefined) => status === undefined || status === 429 || status >= 500;

function stopped(): BouncerError {
  return new BouncerError('AUDIT_RUN_FAILED', 'the audit run was stopped before it completed');
}

export function createAuditor(deps: AuditorDeps, options: AuditOptions = {}): Auditor {
  const o = { ...AUDIT_DEFAULTS, ...options };
  const memory = new AuditMemory(o.maxRemembered);
  const excluded = new Set(options.excludedNamespaces ?? []);
  const now = deps.now ?? (() => new Date());
  const wait = deps.sleep ?? ((ms: number, signal?: AbortSignal) => sleep(ms, undefined, signal ? { signal } : {}));
  const marks = deps.notAuditable ?? buildMarks;
  const log = deps.logger;

  async function run(signal?: AbortSignal): Promise<AuditRun> {
    const id = (deps.newRunId ?? randomUUID)();
    const startedAt = now();
    const active = deps.policies();
    if (!active) throw new BouncerError('AUDIT_RUN_FAILED', 'no policy set is active yet');
    const view = auditPolicySet(active, marks);
    const reviewer: Reviewer = createReviewer({
      policies: () => view.set,
      ...(deps.backend ? { backend: deps.backend } : {}),
      ...(deps.reviewBudgetMs ? { reviewBudgetMs: deps.reviewBudgetMs } : {}),
      ...(deps.namespaces ? { namespaces: deps.namespaces } : {}),
      ...(deps.readNamespace ? { readNamespace: deps.readNamespace } : {}),
      // Policy exceptions are compared with the audit's clock, as admission compares them with its own.
      clock: () => now().getTime(),
    });
    let served;
    try {
      served = await deps.discovery.resources();
    } catch (cause) {
      throw new BouncerError('AUDIT_RUN_FAILED', `discovery failed: ${(cause as Error).message}`, { cause });
    }
    memory.begin(active.digest);
    const selectors = kindSelectors(view.set);
    const kinds = auditKinds(selectors, served.resources, o.maxKinds);
    if (kinds.unserved.length > 0) log.info({ audit_id: id, kinds: kinds.unserved }, 'audit: kinds the policies name are not served by the cluster (no objects to audit)');
    const reports: AuditKindReport[] = [];
    const unlistable = (kind: string, message: string): AuditKindReport => {
      log.error({ audit_id: id, code: 'AUDIT_KIND_UNLISTABLE', kind }, `audit: ${kind}: ${message}`);
      return { kind, objects: 0, error: { code: 'AUDIT_KIND_UNLISTABLE', message } };
    };
    const groups = new Set(selectors.map((s) => s.group));
    for (const f of served.failures) {
      const group = f.groupVersion.includes('/') ? f.groupVersion.slice(0, f.groupVersion.indexOf('/')) : '';
      if (groups.has('*') || groups.has(group)) reports.push(unlistable(`${f.groupVersion}/*`, `discovery could not read the group version: ${f.message}`));
    }
    for (const r of kinds.overBound) reports.push(unlistable(resourceKindKey(r), `not listed: the run lists at most ${o.maxKinds} kinds`));

    const hasTemplates = view.set.bundles.some((b) => b.templates.some((t) => t.constraints.length > 0));
    const dataVersion = deps.dataVersion?.() ?? '';
    const stamps = new Map<string, string>();
    /** What an object's verdict depends on besides itself and the policy set. */
    const stampOf = (namespace: string): string => {
      if (!hasTemplates || namespace === '') return dataVersion;
      let s = stamps.get(namespace);
      if (s === undefined) {
        const info = deps.namespaces?.(namespace);
        s = `${dataVersion}\u0000${info ? JSON.stringify([info.labels, info.annotations ?? {}]) : '?'}`;
        stamps.set(namespace, s);
      }
      return s;
    };

    let apiRequests = 0;
    const findings = new BoundedFindings(o.maxFindings);
    const passes = new Map<string, number>();
    const totals = new Map<string, readonly [number, number, number, number, number]>();
    let scanned = 0;
    let evaluated = 0;
    let invalid = 0;

    const record = deps.decisionLog?.active ? deps.decisionLog : undefined;

    async function review(api: ApiResource, item: unknown, tally: KindTally): Promise<void> {
      let resource;
      try {
        resource = auditResource(api, item);
        if (excluded.has(resource.namespace) || (api.group === '' && api.kind === 'Namespace' && excluded.has(resource.name))) return;
        tally.objects += 1;
        const key = `${api.group}/${api.resource}/${resource.uid}`;
        // The exceptions in force are part of what a remembered result depends on: one that
        // expires (or starts to apply with a new set) makes the object evaluated again.
        const inForce = exceptionsInForce(view.set, now().getTime());
        const stamp = inForce === '' ? stampOf(resource.namespace) : `${stampOf(resource.namespace)}\u0000${inForce}`;
        let results = memory.recall(key, resource.resourceVersion, stamp);
        if (!results) {
          const subject = auditReview(api, item as Record<string, unknown>, resource, id);
          const decision = await reviewer.review('validate', subject.review, subject.bytes);
          evaluated += 1;
          results = objectResults(decision, resource);
          if (record && results.findings.length > 0) {
            const event: DecisionEvent = { ...toDecisionEvent(decision, now()), audit_id: id };
            record.record(event);
            results = { ...results, findings: results.findings.map((f): AuditFinding => ({ ...f, decisionId: decision.id })) };
          }
          memory.remember(key, resource.resourceVersion, stamp, results);
        }
        tally.add(results, resource.namespace);
      } catch (err) {
        tally.invalid += 1;
        const code = isBouncerError(err) ? err.code : 'INTERNAL';
        const where = resource ? { namespace: resource.namespace, name: resource.name, uid: resource.uid } : {};
        log.warn({ audit_id: id, code, kind: resourceKindKey(api), ...where, err }, 'audit: an object could not be reviewed; counted and skipped');
      }
    }

    async function listKind(api: ApiResource): Promise<AuditKindReport> {
      const kind = resourceKindKey(api);
      let tally = new KindTally(o.maxFindings);
      let token: string | undefined;
      let attempts = 0;
      let restarts = 0;
      let error: AuditKindReport['error'];
      for (;;) {
        try {
          for await (const page of deps.pager.pages(api, o.pageSize, { ...(token ? { continue: token } : {}), ...(signal ? { signal } : {}) })) {
            apiRequests += 1;
            attempts = 0;
            let n = 0;
            for (const item of page.items) {
              if (signal?.aborted) throw stopped();
              await review(api, item, tally);
              // Let timers and I/O (lease renewals, admission requests) run between objects.
              if (++n % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
            }
            token = page.continue || undefined;
          }
          break;
        } catch (err) {
          if (signal?.aborted) throw stopped();
          if (isBouncerError(err, 'AUDIT_RUN_FAILED')) throw err;
          apiRequests += 1;
          const status = httpStatusOf(err);
          const message = (err as Error).message;
          if (status === 410 && restarts < o.maxRestarts) {
            restarts += 1;
            log.info({ audit_id: id, code: 'AUDIT_LIST_EXPIRED', kind, restart: restarts }, `audit: ${kind}: the continue token expired; listing the kind again from the start`);
            tally = new KindTally(o.maxFindings);
            token = undefined;
            continue;
          }
          if (RETRIED(status) && status !== 410 && attempts < o.retries) {
            attempts += 1;
            const delay = Math.min(o.retryMaxMs, o.retryBaseMs * 2 ** (attempts - 1));
            log.warn({ audit_id: id, code: 'CLUSTER_FAILED', kind, attempt: attempts, delayMs: delay, httpStatus: status, err }, `audit: listing ${kind} failed; retrying`);
            try {
              await wait(delay, signal);
            } catch {
              throw stopped();
            }
            continue;
          }
          const why = status === 403 || status === 401 ? 'forbidden' : status === 404 ? 'no longer served (deleted?)' : status === 410 ? 'the list kept expiring' : 'the API server kept failing';
          error = { code: 'AUDIT_KIND_UNLISTABLE', message: `${why}${status ? ` (HTTP ${status})` : ''}: ${message}` };
          log.error({ audit_id: id, code: 'AUDIT_KIND_UNLISTABLE', kind, httpStatus: status, objects: tally.objects, err }, `audit: ${kind} could not be listed completely; the run goes on with the other kinds`);
          break;
        }
      }
      scanned += tally.objects;
      invalid += tally.invalid;
      const part = tally.findings.result();
      for (const f of part.findings) findings.add(f);
      if (part.truncated) findings.markTruncated();
      for (const [k, n] of tally.passes) passes.set(k, (passes.get(k) ?? 0) + n);
      for (const [policy, t] of tally.totals) {
        const sum = totals.get(policy) ?? [0, 0, 0, 0, 0];
        totals.set(policy, [sum[0] + t[0], sum[1] + t[1], sum[2] + t[2], sum[3] + t[3], sum[4] + t[4]]);
      }
      return { kind, objects: tally.objects, ...(error ? { error } : {}) };
    }

    for (const api of kinds.resources) {
      if (signal?.aborted) throw stopped();
      reports.push(await listKind(api));
    }
    const forgotten = memory.end();
    const { findings: kept, truncated } = findings.result();
    const finishedAt = now();
    const auditRun: AuditRun = {
      id,
      revision: active.revision,
      startedAt,
      finishedAt,
      objectsScanned: scanned,
      objectsEvaluated: evaluated,
      objectsInvalid: invalid,
      apiRequests,
      kinds: reports.sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0)),
      notAuditable: view.notAuditable,
      findings: kept,
      passes: [...passes]
        .map(([key, count]) => {
          const at = key.indexOf('\u0000');
          return { namespace: key.slice(0, at), policy: key.slice(at + 1), count };
        })
        .sort((a, b) => (a.namespace !== b.namespace ? (a.namespace < b.namespace ? -1 : 1) : a.policy < b.policy ? -1 : a.policy > b.policy ? 1 : 0)),
      summary: view.audited.map((p) => {
        const [pass, fail, warn, error, skip] = totals.get(p.policy) ?? [0, 0, 0, 0, 0];
        return { ...p, pass, fail, warn, error, ...(skip > 0 ? { skip } : {}) };
      }),
      truncated,
    };
    log.info(
      {
        audit_id: id,
        revision: active.revision,
        kinds: reports.length,
        kindErrors: reports.filter((k) => k.error).length,
        objects: scanned,
        evaluated,
        invalid,
        findings: kept.length,
        truncated,
        forgotten,
        remembered: memory.size,
        apiRequests,
        durationMs: finishedAt.getTime() - startedAt.getTime(),
      },
      'audit run completed',
    );
    return auditRun;
  }

  return { run, remembered: () => memory.size };
}
