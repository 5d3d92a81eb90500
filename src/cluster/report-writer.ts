// Writes the audit's reports to the cluster and removes the ones the audit no longer produces.
//
// Contract (writeReports):
// - The report kinds must be served: discovery of their group version, before anything is
//   written. If they are not, REPORT_CRD_MISSING names each CRD and the manifest that ships it;
//   nothing is written.
// - What is stored comes from one metadata-only list of bouncer's reports (by the label): each
//   carries ANNOTATION_CONTENT_HASH, the SHA-256 of the report as given (every field but the
//   server's metadata). A report stored with the hash of the one given is left alone, so an
//   unchanged audit makes no write and no per-report read. Otherwise it is created, or replaced
//   with the listed resourceVersion (optimistic concurrency).
// - 409 Conflict (someone wrote in between, or a concurrent create): re-read and try again, at
//   most conflictRetries times, then REPORT_CONFLICT.
// - Too large (413 from the API server's 3 MiB body limit, or etcd's "request is too large"
//   past its --max-request-bytes, 1.5 MiB by default): written again with half the results,
//   down to none, through options.truncate (which marks the report truncated; its summary
//   still counts everything), then REPORT_TOO_LARGE. The hash stays the given report's, and
//   the cut is deterministic, so the next run with the same report makes no write either.
//   https://kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/ (--max-request-bytes is etcd's)
// - 429 Too Many Requests (API Priority and Fairness; a just-established CRD's storage still
//   initialising): waited out and retried, a few times.
// - Any other failure: REPORT_WRITE_FAILED with the API server's status.
// - A report that fails is recorded (failed[], with its code, and logged with it) and the
//   others are still written.
// - Stale reports: every report of the two kinds carrying the managed-by label whose
//   (namespace, name) was not among the given reports is deleted; nothing without the label is
//   touched. A report that failed to write was given, so it is not deleted. Labelled reports of
//   retiredKinds (the format written before a switch) are all deleted.
//
// The report shape is structural (src/cluster does not import src/audit): any object with
// apiVersion, kind, metadata and optional results. Requests: discovery, the list pages, one
// write per changed report, one delete per stale one (plus the retired format's discovery and
// list); a re-read only after a 409.
import { createHash } from 'node:crypto';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { BouncerError, describeThrown, type ErrorCode } from '../errors/errors.js';
import { bodyMessage, isTooLarge, listReports, type ReportKinds, type Resource, resolveKinds, statusOf, type StoredReport, unlessBusy } from './report-api.js';

export type { ReportKinds } from './report-api.js';

/** The SHA-256 of the report as given, on every report written. */
export const ANNOTATION_CONTENT_HASH = 'bouncer.dev/content-sha256';

export interface WritableReport {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly results?: readonly unknown[];
}

export interface ReportWriterLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface ReportWriterOptions<R extends WritableReport> {
  readonly kinds: ReportKinds;
  /** The label that marks bouncer's reports (only those are ever deleted). */
  readonly managedBy: { readonly key: string; readonly value: string };
  /** A copy of the report with at most max results, marked truncated. */
  readonly truncate: (report: R, max: number) => R;
  /** Default 5. */
  readonly conflictRetries?: number;
  /** Reports written at the same time; default 4. */
  readonly concurrency?: number;
  /** Default true. */
  readonly deleteStale?: boolean;
  /**
   * Report kinds of formats no longer written (the other format, after a switch): with
   * deleteStale, every labelled report of theirs is deleted, where the cluster serves them.
   */
  readonly retiredKinds?: readonly ReportKinds[];
  /** The wait before retrying a 429 without Retry-After; default 500 ms. */
  readonly busyDelayMs?: number;
  readonly logger?: ReportWriterLogger;
}

export interface ReportRef {
  readonly kind: string;
  /** '' for a cluster report. */
  readonly namespace: string;
  readonly name: string;
}

export interface ReportWriteResult {
  /** Created or replaced. */
  readonly written: ReportRef[];
  /** Already stored as given. */
  readonly unchanged: ReportRef[];
  /** Written in this call with fewer results than given, because the whole was too large. */
  readonly truncated: (ReportRef & { readonly results: number })[];
  readonly deleted: ReportRef[];
  readonly failed: (ReportRef & { readonly code: ErrorCode; readonly message: string })[];
  /** 409 Conflicts met (and retried) across all reports. */
  conflicts: number;
}

/** JSON with object keys sorted: the same report hashes the same whatever its key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The hash of what the writer owns in a report: everything but the server's metadata. */
export function contentHash(report: WritableReport): string {
  const { metadata, ...rest } = report;
  const { [ANNOTATION_CONTENT_HASH]: _, ...annotations } = metadata.annotations ?? {};
  const owned = { ...rest, name: metadata.name, namespace: metadata.namespace ?? '', labels: metadata.labels ?? {}, annotations };
  return createHash('sha256').update(canonical(owned)).digest('hex');
}

const refOf = (r: WritableReport): ReportRef => ({ kind: r.kind, namespace: r.metadata.namespace ?? '', name: r.metadata.name });
const keyOf = (r: ReportRef): string => `${r.kind}/${r.namespace}/${r.name}`;
const describe = (ref: ReportRef): string => (ref.namespace ? `${ref.kind} ${ref.namespace}/${ref.name}` : `${ref.kind} ${ref.name}`);

export async function writeReports<R extends WritableReport>(kc: KubeConfig, reports: readonly R[], options: ReportWriterOptions<R>): Promise<ReportWriteResult> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const server = kc.getCurrentCluster()?.server ?? '(no server)';
  const { namespaced, cluster } = await resolveKinds(api, server, options.kinds);
  const retries = options.conflictRetries ?? 5;
  const busy = <T>(call: () => Promise<T>) => unlessBusy(call, options.busyDelayMs ?? 500);
  const selector = `${options.managedBy.key}=${options.managedBy.value}`;
  const out: ReportWriteResult = { written: [], unchanged: [], truncated: [], deleted: [], failed: [], conflicts: 0 };
  const fail = (ref: ReportRef, err: unknown, message: string) => {
    const e = err instanceof BouncerError ? err : new BouncerError('REPORT_WRITE_FAILED', describeThrown(err), { cause: err });
    out.failed.push({ ...ref, code: e.code, message: e.message });
    options.logger?.warn({ err: e, code: e.code, ...(ref.name ? { report: describe(ref) } : {}) }, message);
  };
  const apiError = (what: string, err: unknown) => new BouncerError('REPORT_WRITE_FAILED', `${what}: HTTP ${statusOf(err) ?? '-'}: ${bodyMessage(err)}`, { cause: err });

  /** Lists the labelled reports of the resources; a resource that cannot be listed is recorded and left out. */
  async function listed(resources: readonly Resource[], what: string): Promise<{ stored: StoredReport[]; complete: boolean }> {
    const stored: StoredReport[] = [];
    let complete = true;
    for (const res of resources) {
      try {
        stored.push(...(await listReports(api, res, selector, busy)));
      } catch (err) {
        complete = false;
        fail({ kind: res.kind, namespace: '', name: '' }, apiError(`listing ${res.plural}.${res.group} (${what})`, err), `audit reports not listed (${what})`);
      }
    }
    return { stored, complete };
  }

  const current = await listed([namespaced, cluster], 'to compare and to remove stale ones');
  const stored = new Map(current.stored.map((r) => [keyOf(r), r]));

  const resourceOf = (r: WritableReport): Resource => {
    if (r.apiVersion !== options.kinds.apiVersion || (r.kind !== namespaced.kind && r.kind !== cluster.kind)) {
      throw new BouncerError('REPORT_WRITE_FAILED', `${r.apiVersion} ${r.kind} is not a report kind of ${options.kinds.apiVersion}`);
    }
    if ((r.kind === namespaced.kind) !== Boolean(r.metadata.namespace)) {
      throw new BouncerError('REPORT_WRITE_FAILED', `${r.kind} ${r.metadata.name}: ${r.kind === namespaced.kind ? 'a namespaced report needs a namespace' : 'a cluster report has no namespace'}`);
    }
    return r.kind === namespaced.kind ? namespaced : cluster;
  };

  /** The stored report's version and hash, read again (after a conflict). */
  async function reread(res: Resource, ref: ReportRef): Promise<{ resourceVersion: string; hash: string | undefined } | undefined> {
    const at = { group: res.group, version: res.version, plural: res.plural, name: ref.name };
    try {
      const got = (await busy(() => (ref.namespace ? api.getNamespacedCustomObject({ ...at, namespace: ref.namespace }) : api.getClusterCustomObject(at)))) as {
        metadata?: { resourceVersion?: string; annotations?: Record<string, string> };
      };
      return { resourceVersion: got.metadata?.resourceVersion ?? '', hash: got.metadata?.annotations?.[ANNOTATION_CONTENT_HASH] };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw apiError(`reading ${describe(ref)}`, err);
    }
  }

  async function put(res: Resource, ref: ReportRef, body: R, resourceVersion: string | undefined): Promise<void> {
    const at = { group: res.group, version: res.version, plural: res.plural };
    const withVersion = resourceVersion === undefined ? body : { ...body, metadata: { ...body.metadata, resourceVersion } };
    const fieldManager = 'bouncer';
    await busy(() => {
      if (ref.namespace) {
        return resourceVersion === undefined
          ? api.createNamespacedCustomObject({ ...at, namespace: ref.namespace, body: withVersion, fieldManager })
          : api.replaceNamespacedCustomObject({ ...at, namespace: ref.namespace, name: ref.name, body: withVersion, fieldManager });
      }
      return resourceVersion === undefined ? api.createClusterCustomObject({ ...at, body: withVersion, fieldManager }) : api.replaceClusterCustomObject({ ...at, name: ref.name, body: withVersion, fieldManager });
    });
  }

  const hashed = (report: R, hash: string): R => ({ ...report, metadata: { ...report.metadata, annotations: { ...report.metadata.annotations, [ANNOTATION_CONTENT_HASH]: hash } } });

  async function writeOne(report: R): Promise<void> {
    const ref = refOf(report);
    const res = resourceOf(report);
    const hash = contentHash(report);
    const listedNow = stored.get(keyOf(ref));
    let known = listedNow ? { resourceVersion: listedNow.resourceVersion, hash: listedNow.annotations[ANNOTATION_CONTENT_HASH] } : undefined;
    let body = hashed(report, hash);
    let conflicts = 0;
    for (;;) {
      if (known?.hash === hash) {
        out.unchanged.push(ref);
        return;
      }
      try {
        await put(res, ref, body, known?.resourceVersion);
        out.written.push(ref);
        const kept = body.results?.length ?? 0;
        if (kept < (report.results?.length ?? 0)) out.truncated.push({ ...ref, results: kept });
        return;
      } catch (err) {
        if (statusOf(err) === 409) {
          conflicts += 1;
          out.conflicts += 1;
          if (conflicts > retries) throw new BouncerError('REPORT_CONFLICT', `${describe(ref)} changed under the writer ${conflicts} times in a row: ${bodyMessage(err)}`, { cause: err });
          known = await reread(res, ref);
          continue;
        }
        if (isTooLarge(err)) {
          const results = body.results?.length ?? 0;
          if (results === 0) throw new BouncerError('REPORT_TOO_LARGE', `${describe(ref)} is too large even without results: ${bodyMessage(err)}`, { cause: err });
          // The cut keeps the given report's hash: the same report next time is recognised as stored.
          body = hashed(options.truncate(body, Math.floor(results / 2)), hash);
          options.logger?.warn(
            { code: 'REPORT_TOO_LARGE', report: describe(ref), status: statusOf(err), reason: bodyMessage(err), results: body.results?.length ?? 0, given: report.results?.length ?? 0 },
            'audit report too large: writing it again with fewer results',
          );
          continue;
        }
        throw apiError(`writing ${describe(ref)}`, err);
      }
    }
  }

  await pool(reports, options.concurrency ?? 4, async (report) => {
    try {
      await writeOne(report);
    } catch (err) {
      fail(refOf(report), err, 'audit report not written');
    }
  });

  async function remove(doomed: readonly StoredReport[], resources: readonly Resource[], what: string): Promise<void> {
    for (const ref of doomed) {
      const res = resources.find((r) => r.kind === ref.kind) as Resource;
      const at = { group: res.group, version: res.version, plural: res.plural, name: ref.name };
      try {
        await busy(() => (ref.namespace ? api.deleteNamespacedCustomObject({ ...at, namespace: ref.namespace }) : api.deleteClusterCustomObject(at)));
        out.deleted.push({ kind: ref.kind, namespace: ref.namespace, name: ref.name });
      } catch (err) {
        if (statusOf(err) !== 404) fail(ref, apiError(`deleting the ${what} ${describe(ref)}`, err), `${what} audit report not removed`);
      }
    }
  }

  if (options.deleteStale ?? true) {
    const given = new Set(reports.map((r) => keyOf(refOf(r))));
    await remove(current.stored.filter((r) => !given.has(keyOf(r))), [namespaced, cluster], 'stale');
    for (const retired of options.retiredKinds ?? []) {
      let kinds: { namespaced: Resource; cluster: Resource };
      try {
        kinds = await resolveKinds(api, server, retired);
      } catch (err) {
        // Not served: there is nothing of that format to remove.
        if (err instanceof BouncerError && err.code === 'REPORT_CRD_MISSING') continue;
        fail({ kind: retired.namespaced, namespace: '', name: '' }, err, 'retired-format audit reports not removed');
        continue;
      }
      const old = await listed([kinds.namespaced, kinds.cluster], 'of the retired format');
      await remove(old.stored, [kinds.namespaced, kinds.cluster], 'retired-format');
    }
  }
  return out;
}

/** Runs work over items with at most `limit` at a time. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
