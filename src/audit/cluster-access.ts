// What the audit needs from a cluster, as interfaces the cluster layer implements structurally
// (src/cluster/resource-discovery.ts and src/cluster/object-pages.ts; cluster/ never imports
// audit/): the resources the API server serves, and a kind's objects page by page.

/** A listable resource as discovery names it (main resources only, no subresources). */
export interface ApiResource {
  /** '' for the core group. */
  readonly group: string;
  /** The group's preferred version (or the first version serving the resource). */
  readonly version: string;
  /** Plural, e.g. "configmaps". */
  readonly resource: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

/** A group version whose resource list discovery could not read (an aggregated API server down). */
export interface DiscoveryFailure {
  readonly groupVersion: string;
  readonly message: string;
}

export interface ResourceDiscovery {
  /**
   * Every resource with the `list` verb, each group/resource once (at its group's preferred
   * version, as client-go's ServerPreferredResources). Group versions that could not be read
   * are returned as failures, not thrown: the rest can still be audited.
   */
  resources(): Promise<{ readonly resources: readonly ApiResource[]; readonly failures: readonly DiscoveryFailure[] }>;
}

/** One page of a list (limit/continue). */
export interface ObjectPage {
  /** The objects as the API server sent them (built-in kinds come without apiVersion/kind). */
  readonly items: readonly unknown[];
  /** The token for the next page; absent or '' on the last page. */
  readonly continue?: string;
  readonly resourceVersion?: string;
}

export interface PageOptions {
  /** Resume a list from this continue token (after a transient failure). */
  readonly continue?: string;
  readonly signal?: AbortSignal;
}

export interface ObjectPager {
  /**
   * The resource's objects in every namespace, `pageSize` per request. Each page is fetched when
   * the previous one has been consumed. Failures are thrown with the HTTP status in
   * `details.httpStatus` (BouncerError CLUSTER_FAILED), none for a connection failure: 410 means
   * the continue token expired, 403 forbidden, 404 the resource is no longer served.
   */
  pages(resource: ApiResource, pageSize: number, options?: PageOptions): AsyncIterable<ObjectPage>;
}

/** The HTTP status a pager failure carries, if any. */
export function httpStatusOf(err: unknown): number | undefined {
  const details = (err as { details?: { httpStatus?: unknown } } | null)?.details;
  return typeof details?.httpStatus === 'number' ? details.httpStatus : undefined;
}
