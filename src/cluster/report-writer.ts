// Writes the audit's reports to the cluster and removes the ones the audit no longer produces.
//
// Contract (writeReports):
// - The report kinds must be served: discovery of their group version, before anything is
//   written. If they are not, REPORT_CRD_MISSING names each CRD and the manifest that ships it;
//   nothing is written.
// - Each report is created, or replaced with the resourceVersion just read (optimistic
//   concurrency). A report whose stored content (labels, annotations and every field but
//   metadata) is already the one given is left alone: an unchanged audit causes no writes.
// - 409 Conflict (someone wrote in between, or a concurrent create): re-read and try again, at
//   most conflictRetries times, then REPORT_CONFLICT.
// - Too large (413 from the API server's 3 MiB body limit, or etcd's "request is too large"
//   past its --max-request-bytes, 1.5 MiB by default): written again with half the results,
//   down to none, through options.truncate (which marks the report truncated; its summary
//   still counts everything), then REPORT_TOO_LARGE.
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
// apiVersion, kind, metadata and optional results.
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { BouncerError, describeThrown, type ErrorCode } from '../errors/errors.js';
import { clusterError } from './bundle-store.js';

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

/** The report kinds of one format. */
export interface ReportKinds {
  readonly apiVersion: string;
  readonly namespaced: string;
  readonly cluster: string;
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
  /** The wait before retrying a 429 without Retry-After; default 500 ms. */
  readonly busyDelayMs?: number;
  /**
   * Report kinds of formats no longer written (the other format, after a switch): with
   * deleteStale, every labelled report of theirs is deleted, where the cluster serves them.
   */
  readonly retiredKinds?: readonly ReportKinds[];
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
  /** Written with fewer results than given, because the whole was too large. */
  readonly truncated: (ReportRef & { readonly results: number })[];
  readonly deleted: ReportRef[];
  readonly failed: (ReportRef & { readonly code: ErrorCode; readonly message: string })[];
  /** 409 Conflicts met (and retried) across all reports. */
  conflicts: number;
}

const PAGE = 500;
/** 429 answers (API Priority and Fairness, or a resource's storage still initialising) are retried this often. */
const BUSY_RETRIES = 5;

/** Runs call again on 429 Too Many Requests, after the server's Retry-After (capped) or busyDelayMs. */
export async function unlessBusy<T>(call: () => Promise<T>, busyDelayMs: number): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof ApiException) || err.code !== 429 || attempt >= BUSY_RETRIES) throw err;
      const after = Number((err.headers as Record<string, string> | undefined)?.['retry-after']);
      await sleep(Number.isFinite(after) && after > 0 ? Math.min(after * 1000, 5000) : busyDelayMs);
    }
  }
}

interface Resource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
}

const statusOf = (err: unknown): number | undefined => (err instanceof ApiException ? err.code : undefined);

function bodyMessage(err: unknown): string {
  if (!(err instanceof ApiException)) return describeThrown(err);
  try {
    return (JSON.parse(String(err.body)) as { message?: string }).message ?? String(err.body);
  } catch {
    return String(err.body);
  }
}

/** The API server's or etcd's size limit (the latter surfaces as a 500 with etcd's message). */
export function isTooLarge(err: unknown): boolean {
  if (statusOf(err) === 413) return true;
  return /request is too large|request entity too large|larger than max/i.test(bodyMessage(err));
}

/** JSON with object keys sorted: the API server does not keep the order a report was sent in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What the writer owns in a report: everything but the server's metadata. */
function content(report: Record<string, unknown>): string {
  const metadata = (report.metadata ?? {}) as { labels?: unknown; annotations?: unknown };
  const { metadata: _, ...rest } = report;
  return canonical({ ...rest, labels: metadata.labels ?? {}, annotations: metadata.annotations ?? {} });
}

const refOf = (r: WritableReport): ReportRef => ({ kind: r.kind, namespace: r.metadata.namespace ?? '', name: r.metadata.name });
const keyOf = (r: ReportRef): string => `${r.kind}/${r.namespace}/${r.name}`;

export async function writeReports<R extends WritableReport>(kc: KubeConfig, reports: readonly R[], options: ReportWriterOptions<R>): Promise<ReportWriteResult> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const server = kc.getCurrentCluster()?.server ?? '(no server)';
  const { namespaced, cluster } = await resolveKinds(api, server, options.kinds);
  const retries = options.conflictRetries ?? 5;
  const busy = <T>(call: () => Promise<T>) => unlessBusy(call, options.busyDelayMs ?? 500);
  const out: ReportWriteResult = { written: [], unchanged: [], truncated: [], deleted: [], failed: [], conflicts: 0 };

  const resourceOf = (r: WritableReport): Resource => {
    if (r.apiVersion !== options.kinds.apiVersion || (r.kind !== namespaced.kind && r.kind !== cluster.kind)) {
      throw new BouncerError('REPORT_WRITE_FAILED', `${r.apiVersion} ${r.kind} is not a report kind of ${options.kinds.apiVersion}`);
    }
    if ((r.kind === namespaced.kind) !== Boolean(r.metadata.namespace)) {
      throw new BouncerError('REPORT_WRITE_FAILED', `${r.kind} ${r.metadata.name}: ${r.kind === namespaced.kind ? 'a namespaced report needs a namespace' : 'a cluster report has no namespace'}`);
    }
    return r.kind === namespaced.kind ? namespaced : cluster;
  };

  async function read(res: Resource, ref: ReportRef): Promise<Record<string, unknown> | undefined> {
    const at = { group: res.group, version: res.version, plural: res.plural, name: ref.name };
    try {
      return (await busy(() => (ref.namespace ? api.getNamespacedCustomObject({ ...at, namespace: ref.namespace }) : api.getClusterCustomObject(at)))) as Record<string, unknown>;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
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

  function noteTruncated(ref: ReportRef, given: R, sent: R): void {
    const kept = sent.results?.length ?? 0;
    if (kept < (given.results?.length ?? 0)) out.truncated.push({ ...ref, results: kept });
  }

  async function writeOne(report: R): Promise<void> {
    const ref = refOf(report);
    const res = resourceOf(report);
    let body = report;
    let conflicts = 0;
    for (;;) {
      const stored = await read(res, ref).catch((err: unknown) => {
        throw new BouncerError('REPORT_WRITE_FAILED', `reading ${describe(ref)}: HTTP ${statusOf(err) ?? '-'}: ${bodyMessage(err)}`, { cause: err });
      });
      if (stored && content(stored) === content(body as unknown as Record<string, unknown>)) {
        out.unchanged.push(ref);
        noteTruncated(ref, report, body);
        return;
      }
      try {
        await put(res, ref, body, stored ? String((stored.metadata as { resourceVersion?: unknown }).resourceVersion ?? '') : undefined);
        out.written.push(ref);
        noteTruncated(ref, report, body);
        return;
      } catch (err) {
        if (statusOf(err) === 409) {
          conflicts += 1;
          out.conflicts += 1;
          if (conflicts > retries) throw new BouncerError('REPORT_CONFLICT', `${describe(ref)} changed under the writer ${conflicts} times in a row: ${bodyMessage(err)}`, { cause: err });
          continue;
        }
        if (isTooLarge(err)) {
          const results = body.results?.length ?? 0;
          if (results === 0) throw new BouncerError('REPORT_TOO_LARGE', `${describe(ref)} is too large even without results: ${bodyMessage(err)}`, { cause: err });
          body = options.truncate(body, Math.floor(results / 2));
          options.logger?.warn({ code: 'REPORT_TOO_LARGE', report: describe(ref), status: statusOf(err), reason: bodyMessage(err), results: body.results?.length ?? 0, given: report.results?.length ?? 0 }, 'audit report too large: writing it again with fewer results');
          continue;
        }
        throw new BouncerError('REPORT_WRITE_FAILED', `writing ${describe(ref)}: HTTP ${statusOf(err) ?? '-'}: ${bodyMessage(err)}`, { cause: err });
      }
    }
  }

  await pool(reports, options.concurrency ?? 4, async (report) => {
    try {
      await writeOne(report);
    } catch (err) {
      const e = err instanceof BouncerError ? err : new BouncerError('REPORT_WRITE_FAILED', describeThrown(err), { cause: err });
      const ref = refOf(report);
      out.failed.push({ ...ref, code: e.code, message: e.message });
      options.logger?.warn({ err: e, code: e.code, report: describe(ref) }, 'audit report not written');
    }
  });

  const selector = `${options.managedBy.key}=${options.managedBy.value}`;
  /** Deletes every labelled report of the resources not in keep. */
  async function sweep(resources: readonly { res: Resource; namespaced: boolean }[], keep: ReadonlySet<string>, what: string): Promise<void> {
    for (const { res, namespaced: isNamespaced } of resources) {
      let stale: ReportRef[];
      try {
        stale = (await listAll(api, res, selector, isNamespaced, busy)).filter((ref) => !keep.has(keyOf(ref)));
      } catch (err) {
        const e = new BouncerError('REPORT_WRITE_FAILED', `listing ${res.plural}.${res.group} to remove ${what} reports: HTTP ${statusOf(err) ?? '-'}: ${bodyMessage(err)}`, { cause: err });
        out.failed.push({ kind: res.kind, namespace: '', name: '', code: e.code, message: e.message });
        options.logger?.warn({ err: e, code: e.code }, `${what} audit reports not removed`);
        continue;
      }
      for (const ref of stale) {
        const at = { group: res.group, version: res.version, plural: res.plural, name: ref.name };
        try {
          await busy(() => (ref.namespace ? api.deleteNamespacedCustomObject({ ...at, namespace: ref.namespace }) : api.deleteClusterCustomObject(at)));
          out.deleted.push(ref);
        } catch (err) {
          if (statusOf(err) === 404) continue;
          const e = new BouncerError('REPORT_WRITE_FAILED', `deleting the ${what} ${describe(ref)}: HTTP ${statusOf(err) ?? '-'}: ${bodyMessage(err)}`, { cause: err });
          out.failed.push({ ...ref, code: e.code, message: e.message });
          options.logger?.warn({ err: e, code: e.code, report: describe(ref) }, `${what} audit report not removed`);
        }
      }
    }
  }

  if (options.deleteStale ?? true) {
    await sweep([{ res: namespaced, namespaced: true }, { res: cluster, namespaced: false }], new Set(reports.map((r) => keyOf(refOf(r)))), 'stale');
    for (const retired of options.retiredKinds ?? []) {
      let kinds: { namespaced: Resource; cluster: Resource };
      try {
        kinds = await resolveKinds(api, server, retired);
      } catch (err) {
        // Not served: there is nothing of that format to remove.
        if (err instanceof BouncerError && err.code === 'REPORT_CRD_MISSING') continue;
        const e = err instanceof BouncerError ? err : new BouncerError('REPORT_WRITE_FAILED', describeThrown(err), { cause: err });
        out.failed.push({ kind: retired.namespaced, namespace: '', name: '', code: e.code, message: e.message });
        options.logger?.warn({ err: e, code: e.code }, 'retired-format audit reports not removed');
        continue;
      }
      await sweep([{ res: kinds.namespaced, namespaced: true }, { res: kinds.cluster, namespaced: false }], new Set(), 'retired-format');
    }
  }
  return out;
}

function describe(ref: ReportRef): string {
  return ref.namespace ? `${ref.kind} ${ref.namespace}/${ref.name}` : `${ref.kind} ${ref.name}`;
}

/** The kinds' resources from discovery; REPORT_CRD_MISSING when the cluster does not serve them. */
async function resolveKinds(api: CustomObjectsApi, server: string, kinds: ReportKinds): Promise<{ namespaced: Resource; cluster: Resource }> {
  const [group = '', version = ''] = kinds.apiVersion.split('/');
  const crd = (kind: string) => `${kind.toLowerCase()}s.${group}`;
  const missing = (which: readonly string[], why: string) =>
    new BouncerError(
      'REPORT_CRD_MISSING',
      `the cluster at ${server} ${why}: install the CRD${which.length > 1 ? 's' : ''} ${which.map(crd).join(' and ')} (${which.map((k) => `manifests/base/crds/${group}_${k.toLowerCase()}s.yaml`).join(', ')}) or choose another report format`,
      { details: { crds: which.map(crd) } },
    );
  let served: { name: string; kind: string; namespaced: boolean }[];
  try {
    served = (await api.getAPIResources({ group, version })).resources;
  } catch (err) {
    if (statusOf(err) === 404) throw missing([kinds.namespaced, kinds.cluster], `does not serve ${kinds.apiVersion}`);
    throw clusterError(err, `reading the resources of ${kinds.apiVersion} on ${server}`);
  }
  const find = (kind: string, namespaced: boolean) => served.find((r) => r.kind === kind && r.namespaced === namespaced && !r.name.includes('/'));
  const n = find(kinds.namespaced, true);
  const c = find(kinds.cluster, false);
  const absent = [...(n ? [] : [kinds.namespaced]), ...(c ? [] : [kinds.cluster])];
  if (!n || !c) throw missing(absent, `serves ${kinds.apiVersion} without ${absent.join(' and ')}`);
  return { namespaced: { group, version, plural: n.name, kind: n.kind }, cluster: { group, version, plural: c.name, kind: c.kind } };
}

/** Every report of a kind carrying the label, page by page. */
async function listAll(api: CustomObjectsApi, res: Resource, labelSelector: string, namespaced: boolean, busy: <T>(call: () => Promise<T>) => Promise<T>): Promise<ReportRef[]> {
  const refs: ReportRef[] = [];
  let token: string | undefined;
  do {
    const at = { group: res.group, version: res.version, plural: res.plural, labelSelector, limit: PAGE, ...(token ? { _continue: token } : {}) };
    const page = (await busy(() => (namespaced ? api.listCustomObjectForAllNamespaces(at) : api.listClusterCustomObject(at)))) as {
      items?: { metadata?: { name?: string; namespace?: string } }[];
      metadata?: { continue?: string };
    };
    for (const item of page.items ?? []) refs.push({ kind: res.kind, namespace: item.metadata?.namespace ?? '', name: item.metadata?.name ?? '' });
    token = page.metadata?.continue || undefined;
  } while (token);
  return refs;
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
