// The API calls of the report writer (report-writer.ts): discovery of the report kinds, the
// metadata-only list of bouncer's reports, and how the API server's refusals are read.
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, type CustomObjectsApi, setHeaderOptions } from '@kubernetes/client-node';
import { BouncerError, describeThrown } from '../errors/errors.js';
import { clusterError } from './bundle-store.js';
import { parseJson } from '../json/parse-json.js';

/** The report kinds of one format. */
export interface ReportKinds {
  readonly apiVersion: string;
  readonly namespaced: string;
  readonly cluster: string;
}

export interface Resource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

/** A stored report as the metadata-only list shows it. */
export interface StoredReport {
  readonly kind: string;
  /** '' for a cluster report. */
  readonly namespace: string;
  readonly name: string;
  readonly resourceVersion: string;
  readonly annotations: Readonly<Record<string, string>>;
}

const PAGE = 500;
/** 429 answers (API Priority and Fairness, or a resource's storage still initialising) are retried this often. */
const BUSY_RETRIES = 5;
/** Only metadata in list answers: a page of full reports could be hundreds of MB. */
export const METADATA_ONLY = 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json';

export const statusOf = (err: unknown): number | undefined => (err instanceof ApiException ? err.code : undefined);

/** The API server's message in a refusal (its Status body), else a description of the error. */
export function bodyMessage(err: unknown): string {
  if (!(err instanceof ApiException)) return describeThrown(err);
  try {
    return (parseJson(String(err.body)) as { message?: string }).message ?? String(err.body);
  } catch {
    return String(err.body);
  }
}

/** The API server's or etcd's size limit (the latter surfaces as a 500 with etcd's message). */
export function isTooLarge(err: unknown): boolean {
  if (statusOf(err) === 413) return true;
  return /request is too large|request entity too large|larger than max/i.test(bodyMessage(err));
}

/** Runs call again on 429 Too Many Requests, after the server's Retry-After (capped at 5 s) or busyDelayMs. */
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

/** The kinds' resources from discovery; REPORT_CRD_MISSING when the cluster does not serve them. */
export async function resolveKinds(api: CustomObjectsApi, server: string, kinds: ReportKinds): Promise<{ namespaced: Resource; cluster: Resource }> {
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
  return { namespaced: { group, version, plural: n.name, kind: n.kind, namespaced: true }, cluster: { group, version, plural: c.name, kind: c.kind, namespaced: false } };
}

/** Every report of a resource carrying the label, metadata only, page by page. */
export async function listReports(api: CustomObjectsApi, res: Resource, labelSelector: string, busy: <T>(call: () => Promise<T>) => Promise<T>): Promise<StoredReport[]> {
  const out: StoredReport[] = [];
  const accept = setHeaderOptions('Accept', METADATA_ONLY);
  let token: string | undefined;
  do {
    const at = { group: res.group, version: res.version, plural: res.plural, labelSelector, limit: PAGE, ...(token ? { _continue: token } : {}) };
    const page = (await busy(() => (res.namespaced ? api.listCustomObjectForAllNamespaces(at, accept) : api.listClusterCustomObject(at, accept)))) as {
      items?: { metadata?: { name?: string; namespace?: string; resourceVersion?: string; annotations?: Record<string, string> } }[];
      metadata?: { continue?: string };
    };
    for (const { metadata: m = {} } of page.items ?? []) {
      out.push({ kind: res.kind, namespace: m.namespace ?? '', name: m.name ?? '', resourceVersion: m.resourceVersion ?? '', annotations: m.annotations ?? {} });
    }
    token = page.metadata?.continue || undefined;
  } while (token);
  return out;
}
