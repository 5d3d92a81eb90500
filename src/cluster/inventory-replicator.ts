// Replicates the kinds policies declared (InventoryRequirement) from the API server into the
// inventory store: one list + watch per kind, shared by every policy that reads it.
//
// Per kind, as client-go's reflector (tools/cache/reflector.go) does:
// - discovery of the kind's resource (plural, namespaced) in its group version; a kind not
//   served (a missing CRD) is an 'error' and is looked up again with backoff, so a CRD
//   installed later is picked up;
// - a list page by page (limit/continue; pageSize, 500 by default as client-go's pager), stored
//   with replaceAll once complete, so the store never holds a half-listed kind;
// - a watch from the list's resourceVersion with bookmarks and a server-side timeoutSeconds
//   of 5-10 min; a watch the server ends is resumed from the last resourceVersion seen, a
//   watch open past its timeout (plus a grace) is taken for dead and restarted, a 410 Gone
//   (an ERROR event or an answer) relists; any other failure relists after a capped
//   exponential backoff (reflector: watch errors end ListAndWatch, which lists again).
// - Health (store.markError): 403 → INVENTORY_KIND_FORBIDDEN naming the verb, group and
//   resource (the ClusterRole rule to add); not served → INVENTORY_KIND_UNAVAILABLE; other
//   failures → INVENTORY_KIND_FAILED once failuresBeforeError happened in a row (a single
//   broken connection is not an outage). A list, event, bookmark or accepted watch confirms
//   the kind current (store.markSynced); staleness is the store's.
// - Objects that do not project (not an object, no name) are logged with
//   INVENTORY_OBJECT_INVALID and skipped; objects the budget refuses are counted, logged once
//   per episode, and a kind over budget is relisted as soon as the store has room for what it
//   refused.
// - Every health change of a kind is logged with its code, and a Warning Event is recorded
//   when a kind becomes 'error' or 'over-budget' (the recorder rate-limits and never throws).
import type { KubeConfig } from '@kubernetes/client-node';
import type { GroupVersionKind, KindState } from '../inventory/types.js';
import { groupVersion, kindKey } from '../inventory/types.js';
import type { InventoryStore } from '../inventory/store.js';
import { projectObject } from './inventory-projection.js';
import { KubeApiError, kubeInventoryTransport, type ApiResource, type InventoryTransport } from './inventory-transport.js';

/** A kind to replicate; InventoryRequirement is one. */
export interface ReplicatedKind extends GroupVersionKind {
  readonly status: boolean;
}

/** Structurally the `inventory` member of Metrics the lead adds (src/telemetry/metrics.ts). */
export interface InventoryMetrics {
  /** Gauges, refreshed every tick: bouncer_inventory_objects{kind}, bouncer_inventory_bytes, bouncer_inventory_staleness_seconds{kind}. */
  objects(kind: string, count: number): void;
  bytes(total: number): void;
  staleness(kind: string, seconds: number): void;
  /** bouncer_inventory_kind_state{kind,state}: 1 for the kind's current state, 0 for the others. */
  kindState(kind: string, state: KindState): void;
  /** bouncer_inventory_kind_errors_total{kind,code}: a list or watch of the kind failed with that code. */
  kindError(kind: string, code: string): void;
  /** bouncer_inventory_refused_objects_total{kind,reason}: budget or invalid. */
  refused(kind: string, reason: 'budget' | 'invalid'): void;
  /** bouncer_inventory_relists_total{kind,reason}: initial, gone (410), error, budget (room made). */
  relisted(kind: string, reason: string): void;
  /** bouncer_inventory_watch_restarts_total{kind,reason}: closed (by the server) or stalled. */
  watchRestarted(kind: string, reason: string): void;
  /** The kind is no longer replicated: drop its label values. */
  forgotten(kind: string): void;
}

export interface InventoryReplicatorLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Where Warning Events go (src/cluster/event-recorder.ts); must not throw. */
export interface InventoryEventSink {
  warning(reason: string, message: string): void;
}

export interface InventoryReplicator {
  /** The kinds to replicate from now on: new ones start, ones no longer listed stop and are forgotten. */
  require(kinds: readonly ReplicatedKind[]): void;
  /** True when each kind (every required kind if none given) has been listed once. */
  synced(kinds?: readonly GroupVersionKind[]): boolean;
  /** Ready once every required kind listed once; reasons name every required kind not 'synced' now. */
  readiness(): { readonly ready: boolean; readonly reasons: readonly string[] };
  close(): Promise<void>;
}

export interface InventoryReplicatorOptions {
  readonly store: InventoryStore;
  readonly logger: InventoryReplicatorLogger;
  readonly metrics?: InventoryMetrics;
  readonly events?: InventoryEventSink;
  /** Objects per list page (default 500, client-go's pager). */
  readonly pageSize?: number;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Failures in a row (other than 403 and not served) before the kind is an error. */
  readonly failuresBeforeError?: number;
  /** Server-side watch timeout; default random in [300, 600) s. */
  readonly watchTimeoutSeconds?: () => number;
  /** How long past its timeout a watch may stay open before it is taken for dead. */
  readonly stallGraceMs?: number;
  /** How often metrics are refreshed, health changes noticed and over-budget kinds retried. */
  readonly tickMs?: number;
}

const NO_METRICS: InventoryMetrics = {
  objects() {}, bytes() {}, staleness() {}, kindState() {}, kindError() {}, refused() {}, relisted() {}, watchRestarted() {}, forgotten() {},
};

export function createInventoryReplicator(options: InventoryReplicatorOptions & { readonly kubeConfig: KubeConfig }): InventoryReplicator {
  return inventoryReplicator(kubeInventoryTransport(options.kubeConfig), options);
}

/** A failure with the code and operator-facing reason it puts on the kind. */
class KindFailure extends Error {
  constructor(
    readonly code: 'INVENTORY_KIND_UNAVAILABLE' | 'INVENTORY_KIND_FORBIDDEN' | 'INVENTORY_KIND_FAILED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface Runner {
  readonly kind: ReplicatedKind;
  readonly key: string;
  readonly controller: AbortController;
  /** Ends the current watch so the kind is listed again (room made for refused objects). */
  relistNow?: () => void;
  done?: Promise<void>;
  refusing: boolean;
  lastState?: KindState;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

type WatchEnd = { readonly outcome: 'closed' | 'stalled' | 'gone' | 'budget'; readonly resourceVersion: string };

export function inventoryReplicator(transport: InventoryTransport, options: InventoryReplicatorOptions): InventoryReplicator {
  const { store, logger: log } = options;
  const metrics = options.metrics ?? NO_METRICS;
  const pageSize = options.pageSize ?? 500;
  const initialBackoffMs = options.initialBackoffMs ?? 500;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const failuresBeforeError = options.failuresBeforeError ?? 3;
  const timeoutSeconds = options.watchTimeoutSeconds ?? (() => 300 + Math.floor(Math.random() * 300));
  const stallGraceMs = options.stallGraceMs ?? 30_000;
  const runners = new Map<string, Runner>();
  let closed = false;

  const discover = async (kind: GroupVersionKind): Promise<{ path: string; resource: ApiResource }> => {
    const gv = groupVersion(kind);
    const resources = await transport.resources(gv);
    if (!resources) throw new KindFailure('INVENTORY_KIND_UNAVAILABLE', `the API server does not serve ${gv} (is the CRD defining ${kind.kind} installed?)`);
    const resource = resources.find((r) => r.kind === kind.kind && !r.name.includes('/'));
    if (!resource) throw new KindFailure('INVENTORY_KIND_UNAVAILABLE', `the API server serves ${gv} but no kind ${kind.kind} in it`);
    return { path: `${kind.group === '' ? '/api' : '/apis'}/${gv}/${resource.name}`, resource };
  };

  /** The failure as the kind's health: what to tell the operator. */
  const classify = (err: unknown, kind: GroupVersionKind, verb: string, resource: string | undefined): KindFailure => {
    if (err instanceof KindFailure) return err;
    const res = resource ?? kind.kind.toLowerCase();
    if (err instanceof KubeApiError && err.statusCode === 403) {
      return new KindFailure(
        'INVENTORY_KIND_FORBIDDEN',
        `bouncer may not ${verb} ${res} in API group "${kind.group}" (${err.message}): add a ClusterRole rule {apiGroups: ["${kind.group}"], resources: ["${res}"], verbs: ["list", "watch"]} bound to bouncer's service account`,
        { cause: err },
      );
    }
    if (err instanceof KubeApiError && err.statusCode === 404) {
      return new KindFailure('INVENTORY_KIND_UNAVAILABLE', `${kindKey(kind)} is no longer served (${verb} ${res}: ${err.message}); was its CRD deleted?`, { cause: err });
    }
    const detail = err instanceof Error ? err.message : String(err);
    return new KindFailure('INVENTORY_KIND_FAILED', `${verb} ${res} of ${kindKey(kind)} failed: ${detail}`, { cause: err });
  };

  /** Lists the kind page by page and stores it whole; the resourceVersion to watch from. */
  const relist = async (r: Runner, path: string, reason: string): Promise<string> => {
    metrics.relisted(r.key, reason);
    const { free, kindBytes } = store.room(r.kind);
    // Past what could be stored, only the names and sizes are kept (they are refused anyway): a
    // kind far larger than the budget is never held whole while it is listed.
    let room = free + kindBytes;
    const objects: { namespace: string; name: string; json: Uint8Array }[] = [];
    const overflow: { namespace: string; name: string; size: number }[] = [];
    let next: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await transport.list(path, { limit: pageSize, ...(next ? { continue: next } : {}) }, r.controller.signal);
      for (const item of page.items) {
        const p = projectObject(item, r.kind, r.kind.status);
        if (!p) {
          invalid(r, item);
          continue;
        }
        if (p.json.byteLength <= room) {
          room -= p.json.byteLength;
          objects.push({ namespace: p.namespace, name: p.name, json: p.json });
        } else overflow.push({ namespace: p.namespace, name: p.name, size: p.json.byteLength });
      }
      next = page.continue;
      resourceVersion = page.resourceVersion;
    } while (next && !r.controller.signal.aborted);
    if (r.controller.signal.aborted) return '';
    const refused = store.replaceAll(r.kind, objects, overflow);
    store.markSynced(r.kind);
    if (refused > 0) refuse(r, refused);
    else r.refusing = false;
    log.info({ kind: r.key, objects: objects.length, refused, resourceVersion, reason }, 'inventory kind listed');
    observe(r);
    if (!resourceVersion) throw new KindFailure('INVENTORY_KIND_FAILED', `the list of ${r.key} carried no resourceVersion`);
    return resourceVersion;
  };

  const invalid = (r: Runner, object: unknown): void => {
    metrics.refused(r.key, 'invalid');
    const meta = (object as { metadata?: { namespace?: unknown; name?: unknown } } | null)?.metadata;
    log.warn({ code: 'INVENTORY_OBJECT_INVALID', kind: r.key, namespace: meta?.namespace, name: meta?.name }, 'a replicated object cannot be read (no metadata.name): skipped');
  };

  const refuse = (r: Runner, count: number): void => {
    for (let i = 0; i < count; i++) metrics.refused(r.key, 'budget');
    if (r.refusing) return;
    r.refusing = true;
    log.warn({ code: 'INVENTORY_OVER_BUDGET', kind: r.key, refused: count, ...store.room(r.kind) }, 'replicated data at its budget: objects refused');
  };

  /** One watch from resourceVersion until it ends; a failure (not 410) is thrown. */
  const watchOnce = (r: Runner, path: string, from: string): Promise<WatchEnd> =>
    new Promise<WatchEnd>((resolve, reject) => {
      let resourceVersion = from;
      let outcome: WatchEnd['outcome'] | undefined;
      let failure: unknown;
      const seconds = timeoutSeconds();
      const onEvent = (type: string, object: unknown): void => {
        const meta = (object as { metadata?: { resourceVersion?: unknown } }).metadata;
        if (type === 'ERROR') {
          const status = object as { code?: unknown; message?: unknown };
          if (status.code === 410) outcome = 'gone';
          else failure = new KubeApiError(typeof status.code === 'number' ? status.code : 0, undefined, String(status.message ?? 'watch error event'));
          abort();
          return;
        }
        if (typeof meta?.resourceVersion === 'string' && meta.resourceVersion !== '') resourceVersion = meta.resourceVersion;
        store.markSynced(r.kind);
        if (type === 'BOOKMARK') return;
        const p = projectObject(object, r.kind, r.kind.status);
        if (!p) return invalid(r, object);
        if (type === 'DELETED') store.delete(r.kind, p.namespace, p.name);
        else if (type === 'ADDED' || type === 'MODIFIED') {
          if (!store.put(r.kind, p.namespace, p.name, p.json)) {
            refuse(r, 1);
            observe(r);
          } else if (r.refusing && store.health(r.kind).state !== 'over-budget') {
            r.refusing = false;
            observe(r);
          }
        }
      };
      const abort = transport.watch(path, { resourceVersion: from, timeoutSeconds: seconds }, {
        onOpen: () => store.markSynced(r.kind),
        onEvent: (type, object) => {
          try {
            onEvent(type, object);
          } catch (err) {
            // Never let one event break the stream: logged, and the kind relisted.
            failure = err;
            abort();
          }
        },
        onInvalid: (line) => {
          metrics.refused(r.key, 'invalid');
          log.warn({ code: 'INVENTORY_OBJECT_INVALID', kind: r.key, line: line.slice(0, 200) }, 'a watch line of a replicated kind is not a watch event: skipped');
        },
        onDone: (err) => {
          clearTimeout(watchdog);
          r.relistNow = undefined;
          r.controller.signal.removeEventListener('abort', abort);
          if (outcome) return resolve({ outcome, resourceVersion });
          if (failure) return reject(failure);
          if (err instanceof KubeApiError && err.statusCode === 410) return resolve({ outcome: 'gone', resourceVersion });
          // An abort here is the runner stopping; anything else not an error is the server ending the watch.
          if (err && !(err instanceof Error && err.name === 'AbortError')) return reject(err);
          resolve({ outcome: 'closed', resourceVersion });
        },
      });
      const watchdog = setTimeout(() => {
        outcome = 'stalled';
        log.warn({ kind: r.key, timeoutSeconds: seconds }, 'inventory watch outlived its timeout: taking the connection for dead');
        abort();
      }, seconds * 1000 + stallGraceMs);
      r.relistNow = () => {
        outcome = 'budget';
        abort();
      };
      r.controller.signal.addEventListener('abort', abort, { once: true });
    });

  const run = async (r: Runner): Promise<void> => {
    let backoffMs = initialBackoffMs;
    let failures = 0;
    let reason = 'initial';
    while (!r.controller.signal.aborted) {
      let verb = 'discover';
      let resource: string | undefined;
      try {
        const found = await discover(r.kind);
        resource = found.resource.name;
        verb = 'list';
        let resourceVersion = await relist(r, found.path, reason);
        failures = 0;
        backoffMs = initialBackoffMs;
        verb = 'watch';
        for (;;) {
          if (r.controller.signal.aborted) return;
          const end = await watchOnce(r, found.path, resourceVersion);
          resourceVersion = end.resourceVersion;
          if (end.outcome === 'gone' || end.outcome === 'budget') {
            reason = end.outcome;
            if (end.outcome === 'gone') log.info({ kind: r.key }, 'inventory watch answered 410 Gone: listing again');
            break;
          }
          if (!r.controller.signal.aborted) metrics.watchRestarted(r.key, end.outcome);
        }
      } catch (err) {
        if (r.controller.signal.aborted) return;
        if (err instanceof KubeApiError && err.statusCode === 410) {
          // A continue token expired mid-list: list again from the start, now.
          reason = 'gone';
          continue;
        }
        failures++;
        const f = classify(err, r.kind, verb, resource);
        metrics.kindError(r.key, f.code);
        if (f.code !== 'INVENTORY_KIND_FAILED' || failures >= failuresBeforeError) store.markError(r.kind, f.code, f.message);
        log.warn({ err, code: f.code, kind: r.key, failures, retryInMs: backoffMs }, f.message);
        observe(r);
        await sleep(backoffMs, r.controller.signal);
        backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
        reason = 'error';
      }
    }
  };

  /** Logs a kind's health change (with its code) and records an Event for error and over-budget. */
  const observe = (r: Runner): void => {
    const h = store.health(r.kind);
    if (h.state === r.lastState) return;
    const from = r.lastState;
    r.lastState = h.state;
    if (h.state === 'synced') {
      if (from !== undefined && from !== 'syncing') log.info({ kind: r.key, from }, 'inventory kind usable again');
      return;
    }
    if (h.state === 'syncing') return;
    log.warn({ code: h.code, kind: r.key, state: h.state, from }, h.reason ?? h.state);
    if (h.state === 'error') options.events?.warning('InventoryKindUnavailable', `${r.key}: ${h.reason ?? 'cannot be listed or watched'}`);
    if (h.state === 'over-budget') options.events?.warning('InventoryOverBudget', `${r.key}: ${h.reason ?? 'objects refused'}`);
  };

  const tick = (): void => {
    const stats = store.stats();
    metrics.bytes(stats.bytes);
    for (const k of stats.kinds) {
      const r = runners.get(k.key);
      if (!r) continue;
      metrics.objects(k.key, k.objects);
      metrics.staleness(k.key, k.stalenessSeconds);
      metrics.kindState(k.key, k.health.state);
      observe(r);
      if (k.health.state === 'over-budget' && r.relistNow) {
        const room = store.room(r.kind);
        if (room.free >= room.refusedBytes) r.relistNow();
      }
    }
  };
  const timer = setInterval(tick, options.tickMs ?? 5000);
  timer.unref();

  const start = (kind: ReplicatedKind): void => {
    const key = kindKey(kind);
    const r: Runner = { kind: { group: kind.group, version: kind.version, kind: kind.kind, status: kind.status }, key, controller: new AbortController(), refusing: false };
    runners.set(key, r);
    r.done = run(r).catch((err: unknown) => log.warn({ err, kind: key }, 'inventory replication of a kind ended unexpectedly'));
  };

  const stop = async (r: Runner, forget: boolean): Promise<void> => {
    runners.delete(r.key);
    // Aborting stops every write of the runner at once, so the kind can be forgotten now (a
    // runner started for it again right after writes into a clean slate).
    r.controller.abort();
    if (forget) {
      store.forget(r.kind);
      metrics.forgotten(r.key);
    }
    await r.done;
  };

  return {
    require(kinds) {
      if (closed) return;
      const wanted = new Map<string, ReplicatedKind>();
      for (const k of kinds) {
        const key = kindKey(k);
        const prior = wanted.get(key);
        wanted.set(key, { group: k.group, version: k.version, kind: k.kind, status: k.status || (prior?.status ?? false) });
      }
      for (const [key, r] of runners) {
        const w = wanted.get(key);
        if (!w) void stop(r, true);
        else if (w.status !== r.kind.status) {
          // A different projection: listed again (the store keeps the old objects until the relist replaces them).
          void stop(r, false);
          start(w);
        }
      }
      for (const [key, w] of wanted) if (!runners.has(key)) start(w);
      for (const r of runners.values()) metrics.kindState(r.key, store.health(r.kind).state);
    },
    synced(kinds) {
      const list = kinds ?? [...runners.values()].map((r) => r.kind);
      return list.every((k) => store.listed(k));
    },
    readiness() {
      const reasons: string[] = [];
      let ready = true;
      for (const r of runners.values()) {
        if (!store.listed(r.kind)) ready = false;
        const h = store.health(r.kind);
        if (h.state !== 'synced') reasons.push(`${r.key}: ${h.state}${h.code ? ` (${h.code})` : ''}: ${h.reason ?? ''}`);
      }
      return { ready, reasons };
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await Promise.all([...runners.values()].map((r) => stop(r, false)));
    },
  };
}
