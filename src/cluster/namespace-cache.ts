// A watch-backed cache of the cluster's Namespaces (name, labels, annotations), for the
// namespaceSelector of Gatekeeper constraints and input.review.namespaceObject.
//
// - client-node's ListWatch (what makeInformer builds) does list + watch from the list's
//   resourceVersion, and relists by itself on 410 Gone (an ERROR event or a 410 answer).
//   It stops on any other error; it is restarted here with capped exponential backoff, as
//   the bundle watch does (src/sources/bundle-watcher.ts).
// - makeInformer keeps every object as received. This cache hands the ListWatch its own
//   Watch and list function instead, which project each Namespace (namespace-projection.ts)
//   before the ListWatch stores it: the full object is never retained.
// - Watches ask for bookmarks and end server-side after timeoutSeconds (5-10 min, as
//   client-go's reflector), so the resourceVersion stays fresh and a half-open connection
//   is noticed: a watch with no end by then (plus a grace) is aborted and restarted.
// - Bounded to maxNamespaces: past it, new Namespaces are not stored (counted, logged
//   once); their lookups return undefined, like any unknown name, so a match needing them
//   is an error, never an allow. Deleting Namespaces makes room for later adds; a relist
//   fills it again.
// - Not synced before the initial list: lookups return undefined until then.
// - read(name) asks the API server for a Namespace a lookup missed (namespace-reads.ts).
import { ListWatch, type KubeConfig, type KubernetesListObject, type KubernetesObject, type V1Namespace, type V1NamespaceList, type Watch } from '@kubernetes/client-node';
import { BouncerError } from '../errors/errors.js';
import { kubeNamespaceTransport } from './namespace-transport.js';
import { namespaceReader } from './namespace-reads.js';
import { DEFAULT_MAX_ANNOTATION_CHARS, projectNamespace, type NamespaceInfo, type NamespaceLookup, type NamespaceMetadata } from './namespace-projection.js';

export type { NamespaceInfo, NamespaceLookup } from './namespace-projection.js';

export const DEFAULT_MAX_NAMESPACES = 10_000;

export interface NamespaceCache {
  /** The Namespace of that name, or undefined: not synced yet, no such Namespace, or past the bound. */
  readonly lookup: NamespaceLookup;
  /** True once the initial list has been stored (stays true across relists and restarts). */
  synced(): boolean;
  /** Lists and starts watching; resolves once the initial list is stored (retrying until then). */
  start(): Promise<void>;
  close(): Promise<void>;
  /** Namespaces held. */
  size(): number;
  /**
   * The Namespace as the API server has it now (one GET), for a lookup that missed: a Namespace
   * created a moment ago whose watch event is still on its way, or one past the bound.
   * Gatekeeper's webhook does the same (its cached client, then a direct read). Undefined when
   * it does not exist, the read failed, or maxReadsInFlight reads are already waiting: the
   * match then fails closed. Nothing read is stored (the watch keeps the cache).
   */
  read(name: string): Promise<NamespaceInfo | undefined>;
}

/** Structurally the `namespaceCache` member of Metrics (src/telemetry/metrics.ts). */
export interface NamespaceCacheMetrics {
  namespaces(count: number): void;
  /** A watch ended and was started again: closed (by the API server), gone (410), stalled, or an error code. */
  watchRestarted(reason: string): void;
  /** A full list: initial, gone (410 Gone), error (after a failed list). */
  relisted(reason: string): void;
  /** The cache was confirmed current (a list stored, or a watch event or bookmark received). */
  synced(): void;
  /** A Namespace not stored (limit), or stored without its annotations (annotations). */
  refused(reason: 'limit' | 'annotations'): void;
  /** A read from the API server after a missed lookup: found, missing (404), error, or refused (too many in flight). */
  read(result: 'found' | 'missing' | 'error' | 'refused'): void;
}

export interface NamespaceCacheLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** The API calls the cache makes: a list of Namespaces, client-node's Watch.watch, and a read of one (undefined: 404). */
export interface NamespaceTransport {
  list(): Promise<V1NamespaceList>;
  watch: Watch['watch'];
  read(name: string): Promise<V1Namespace | undefined>;
}

export interface NamespaceCacheOptions {
  readonly logger: NamespaceCacheLogger;
  readonly metrics?: NamespaceCacheMetrics;
  readonly maxNamespaces?: number;
  /** Bound on each Namespace's annotations (see namespace-projection.ts). */
  readonly maxAnnotationChars?: number;
  /** First restart delay after an error, doubled up to maxBackoffMs. */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Server-side watch timeout; default random in [300, 600) s. */
  readonly watchTimeoutSeconds?: () => number;
  /** How long past its timeout a watch may stay open before it is taken for dead. */
  readonly stallGraceMs?: number;
  /** Reads from the API server (see NamespaceCache.read) waiting at once, beyond which read answers undefined. */
  readonly maxReadsInFlight?: number;
}

const PATH = '/api/v1/namespaces';

export function createNamespaceCache(options: NamespaceCacheOptions & { readonly kubeConfig: KubeConfig; readonly listPageSize?: number }): NamespaceCache {
  return namespaceCache(kubeNamespaceTransport(options.kubeConfig, options.listPageSize), options);
}

/** What the ListWatch stores per Namespace: what it needs to key and version it, and the info. */
interface CachedNamespace extends KubernetesObject {
  readonly metadata: { readonly name: string; readonly resourceVersion?: string };
  readonly info: NamespaceInfo;
}

const NO_METRICS: NamespaceCacheMetrics = { namespaces() {}, watchRestarted() {}, relisted() {}, synced() {}, refused() {}, read() {} };

const isGone = (err: unknown): boolean =>
  typeof err === 'object' && err !== null && ((err as { statusCode?: unknown }).statusCode === 410 || (err as { code?: unknown }).code === 410);

function reasonOf(err: unknown): string {
  if (typeof err !== 'object' || err === null) return 'error';
  const { statusCode, code } = err as { statusCode?: unknown; code?: unknown };
  if (statusCode !== undefined) return String(statusCode);
  return typeof code === 'string' || typeof code === 'number' ? String(code) : 'error';
}

export function namespaceCache(transport: NamespaceTransport, options: NamespaceCacheOptions): NamespaceCache {
  const log = options.logger;
  const metrics = options.metrics ?? NO_METRICS;
  const maxNamespaces = options.maxNamespaces ?? DEFAULT_MAX_NAMESPACES;
  const maxAnnotationChars = options.maxAnnotationChars ?? DEFAULT_MAX_ANNOTATION_CHARS;
  const initialBackoffMs = options.initialBackoffMs ?? 500;
  const timeoutSeconds = options.watchTimeoutSeconds ?? (() => 300 + Math.floor(Math.random() * 300));
  const stallGraceMs = options.stallGraceMs ?? 30_000;
  let count = 0;
  let synced = false;
  let stopped = false;
  let listed = false;
  let listReason = 'initial';
  let backoffMs = initialBackoffMs;
  let restartTimer: NodeJS.Timeout | undefined;
  const watchdogs = new Set<NodeJS.Timeout>();
  let overLimitLogged = false;
  const annotationsLogged = new Set<string>();
  let starting: Promise<void> | undefined;
  const read = namespaceReader({
    read: (name) => transport.read(name),
    maxInFlight: options.maxReadsInFlight ?? 8,
    maxAnnotationChars,
    onRead: (result) => metrics.read(result),
    onError: (err, namespace) => log.warn({ err, namespace }, 'namespace read failed'),
  });
  let waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];

  const project = (metadata: NamespaceMetadata): CachedNamespace => {
    const { info, annotationsDropped } = projectNamespace(metadata, maxAnnotationChars);
    if (annotationsDropped) {
      metrics.refused('annotations');
      // Once per Namespace name, and the set is bounded like the cache.
      if (!annotationsLogged.has(info.name) && annotationsLogged.size < maxNamespaces) {
        annotationsLogged.add(info.name);
        log.warn({ namespace: info.name, maxAnnotationChars }, 'namespace annotations are over the bound: cached without annotations');
      }
    }
    const resourceVersion = (metadata as { resourceVersion?: string }).resourceVersion;
    return { metadata: { name: info.name, ...(resourceVersion ? { resourceVersion } : {}) }, info };
  };

  const refuse = (name: string | undefined): void => {
    metrics.refused('limit');
    if (overLimitLogged) return;
    overLimitLogged = true;
    log.warn({ namespace: name, maxNamespaces }, 'namespace cache is full: further Namespaces are not cached, and constraints whose match needs them fail closed');
  };

  const list = async (): Promise<KubernetesListObject<CachedNamespace>> => {
    metrics.relisted(listReason);
    listReason = 'error';
    const result = await transport.list();
    backoffMs = initialBackoffMs;
    const items: CachedNamespace[] = [];
    for (const ns of result.items) {
      if (items.length >= maxNamespaces) refuse(ns.metadata?.name);
      else items.push(project(ns.metadata ?? {}));
    }
    // The ListWatch stores the items right after this resolves, then calls watch(): that call marks the list as stored.
    listed = true;
    return { apiVersion: result.apiVersion, kind: result.kind, metadata: { ...(result.metadata?.resourceVersion ? { resourceVersion: result.metadata.resourceVersion } : {}) }, items };
  };

  const watch: Watch['watch'] = async (path, query, callback, done) => {
    if (listed) {
      listed = false;
      metrics.synced();
      metrics.namespaces(count);
      if (!synced) {
        synced = true;
        for (const w of waiters) w.resolve();
        waiters = [];
        log.info({ namespaces: count }, 'namespace cache synced');
      }
    }
    const seconds = timeoutSeconds();
    let gone = false;
    let ended = false;
    let stalled = false;
    const onEvent = (phase: string, obj: V1Namespace, raw?: unknown): void => {
      metrics.synced();
      backoffMs = initialBackoffMs;
      if (phase === 'ERROR') {
        if ((obj as { code?: unknown }).code === 410) gone = true;
        callback(phase, obj, raw);
        return;
      }
      if (phase !== 'ADDED' && phase !== 'MODIFIED' && phase !== 'DELETED') {
        callback(phase, obj, raw);
        return;
      }
      const name = obj.metadata?.name;
      if (phase !== 'DELETED' && count >= maxNamespaces && !(name && informer.get(name))) {
        refuse(name);
        // Passed on as a bookmark: the ListWatch only moves its resourceVersion past it.
        callback('BOOKMARK', { metadata: { resourceVersion: obj.metadata?.resourceVersion } }, undefined);
        return;
      }
      callback(phase, project(obj.metadata ?? {}), undefined);
    };
    const onDone = (err: unknown): void => {
      ended = true;
      clearTimeout(watchdog);
      watchdogs.delete(watchdog);
      if (!stopped) {
        if (gone || isGone(err)) {
          listReason = 'gone';
          metrics.watchRestarted('gone');
        } else if (stalled) metrics.watchRestarted('stalled');
        else if (!err) metrics.watchRestarted('closed');
      }
      done(err);
    };
    let controller: AbortController | undefined;
    const watchdog = setTimeout(() => {
      if (ended) return;
      stalled = true;
      log.warn({ timeoutSeconds: seconds }, 'namespace watch outlived its timeout: taking the connection for dead');
      controller?.abort();
    }, seconds * 1000 + stallGraceMs);
    watchdogs.add(watchdog);
    try {
      controller = await transport.watch(path, { ...query, allowWatchBookmarks: true, timeoutSeconds: seconds }, onEvent, onDone);
    } catch (err) {
      // Watch.watch reports failures through done; anything it throws goes the same way, so the restart still happens.
      controller = new AbortController();
      if (!ended) onDone(err);
    }
    if (stopped) controller.abort();
    return controller;
  };

  // The ListWatch calls only watch() of its Watch (client-node cache.js).
  const informer = new ListWatch<CachedNamespace>(PATH, { watch } as unknown as Watch, list, false);
  informer.on('add', () => {
    count++;
    metrics.namespaces(count);
  });
  informer.on('delete', () => {
    count--;
    metrics.namespaces(count);
  });
  informer.on('error', (err: unknown) => {
    if (stopped) return;
    // A stalled watch was aborted on purpose: its restart is counted as stalled in onDone.
    if (!(err instanceof Error && err.name === 'AbortError')) metrics.watchRestarted(reasonOf(err));
    log.warn({ err, retryInMs: backoffMs }, 'namespace watch failed; restarting');
    restartTimer = setTimeout(() => {
      if (!stopped) informer.start().catch((e: unknown) => log.warn({ err: e }, 'namespace watch restart failed'));
    }, backoffMs);
    backoffMs = Math.min(backoffMs * 2, options.maxBackoffMs ?? 30_000);
  });

  return {
    lookup: (name) => (synced ? informer.get(name)?.info : undefined),
    synced: () => synced,
    size: () => count,
    read,
    start() {
      starting ??= (async () => {
        const ready = new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
        await informer.start();
        await ready;
      })();
      return starting;
    },
    async close() {
      stopped = true;
      if (restartTimer) clearTimeout(restartTimer);
      for (const t of watchdogs) clearTimeout(t);
      watchdogs.clear();
      await informer.stop();
      for (const w of waiters) w.reject(new BouncerError('CLUSTER_FAILED', 'the namespace cache was closed before its initial list of Namespaces'));
      waiters = [];
    },
  };
}
