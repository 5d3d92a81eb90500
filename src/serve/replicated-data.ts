// The replicated cluster objects of `bouncer serve`, wired: the store, the replicator (cluster
// mode only), the feed into every policy instance, the admitted overlay, and what the reviewer,
// the bundle loader and readiness read of them.
//
// Order on a bundle load: the kinds the new bundle declares are replicated first (added to the
// required set, listed), then the bundle is prepared on every worker with a seed read from the
// store at that moment, then it is published. A hot swap that adds a kind so does not open a
// window where its readers fail closed while the kind lists; a kind that cannot be listed
// within the wait is not waited for longer (its readers fail by their failure mode, and the
// kind's health says why everywhere).
import type { AdmissionRequest } from '../admission/types.js';
import type { LoadedBundle } from '../bundles/bundle.js';
import type { PolicySet } from '../bundles/policy-set.js';
import type { EventRecorder } from '../cluster/event-recorder.js';
import type { loadKubeConfig } from '../cluster/kubeconfig.js';
import { projectObject } from '../cluster/inventory-projection.js';
import type { InventoryReplicator, ReplicatedKind } from '../cluster/inventory-replicator.js';
import type { EvalBackend } from '../engine/backend.js';
import { createAdmittedOverlay } from '../inventory/admitted-overlay.js';
import { createInventoryFeed } from '../inventory/data-feed.js';
import { createInventoryStore, type InventoryStore } from '../inventory/store.js';
import { kindKey, type GroupVersionKind, type KindHealth } from '../inventory/types.js';
import type { Decision } from '../review/decision.js';
import type { InventoryHealth } from '../review/inventory-gate.js';
import type { Reviewer } from '../review/reviewer.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';

export interface ReplicatedData {
  readonly store: InventoryStore;
  /** The loader's prepare: the bundle's kinds replicated (waited for), then prepared with its seed. */
  prepare(bundle: LoadedBundle): Promise<void>;
  /** The active set changed: replicate what it declares, stop feeding bundles that left it. */
  activate(set: PolicySet): void;
  /** What the reviewer reads: health per kind, and a generation for the decision cache. */
  readonly reviewer: InventoryHealth & { generation(): number };
  /**
   * The reviewer with read-your-own-admissions: validating reviews of a replicated kind are
   * decided one at a time per kind on this replica, and an allowed write is put into the
   * replicated objects (the admitted overlay) before the next one of its kind is decided, so
   * two conflicting writes reaching this replica together cannot both pass a uniqueness policy.
   */
  serialize(reviewer: Reviewer): Reviewer;
  /** Not ready while a required kind has not been listed once and is still being tried (not in error). */
  readiness(): { readonly ready: boolean; readonly reason?: string };
  close(): Promise<void>;
}

export interface ReplicatedDataOptions {
  readonly kubeConfig: ReturnType<typeof loadKubeConfig> | undefined;
  readonly backend: EvalBackend;
  readonly maxBytes: number;
  readonly maxStalenessMs: number;
  /** How long a bundle load waits for its new kinds to list. */
  readonly listWaitMs: number;
  /** How long an admitted object is visible without its watch event. */
  readonly admittedTtlMs: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Warning Events go on this Pod (bouncer's own): with a cluster only. */
  readonly pod?: { readonly namespace: string; readonly name: string };
}

const NO_CLUSTER: KindHealth = {
  state: 'error',
  code: 'INVENTORY_KIND_UNAVAILABLE',
  reason: 'bouncer serves without a cluster (no --watch-namespace): nothing is replicated',
};

/** The union of declared kinds, status kept where any reader asks for it. */
function unionKinds(lists: Iterable<readonly ReplicatedKind[]>): ReplicatedKind[] {
  const byKey = new Map<string, ReplicatedKind>();
  for (const list of lists) {
    for (const k of list) {
      const key = kindKey(k);
      const had = byKey.get(key);
      byKey.set(key, { group: k.group, version: k.version, kind: k.kind, status: k.status || (had?.status ?? false) });
    }
  }
  return [...byKey.values()];
}

export async function createReplicatedData(options: ReplicatedDataOptions): Promise<ReplicatedData> {
  const { backend, logger } = options;
  const store = createInventoryStore({ maxBytes: options.maxBytes, maxStalenessMs: options.maxStalenessMs });
  const feed = createInventoryFeed({ view: store, backend });
  let generation = 0;
  store.subscribe((events) => {
    generation++;
    feed.apply(events);
  });
  let replicator: InventoryReplicator | undefined;
  if (options.kubeConfig) {
    const { createInventoryReplicator } = await import('../cluster/inventory-replicator.js');
    let events: EventRecorder | undefined;
    if (options.pod) {
      const { createEventRecorder } = await import('../cluster/event-recorder.js');
      events = createEventRecorder({
        kubeConfig: options.kubeConfig,
        involvedObject: { apiVersion: 'v1', kind: 'Pod', ...options.pod },
        component: 'bouncer',
        logger: logger.child({ component: 'events' }),
      });
    }
    replicator = createInventoryReplicator({
      kubeConfig: options.kubeConfig,
      store,
      logger: logger.child({ component: 'inventory' }),
      metrics: options.metrics.inventory,
      ...(events ? { events } : {}),
    });
  }
  /** Kinds of the active set, and of bundles being loaded (by key). */
  let active: ReplicatedKind[] = [];
  const loading = new Map<string, readonly ReplicatedKind[]>();
  let attached = new Set<string>();
  const required = new Map<string, ReplicatedKind>();
  const requireNow = () => {
    const kinds = unionKinds([active, ...loading.values()]);
    required.clear();
    for (const k of kinds) required.set(kindKey(k), k);
    replicator?.require(kinds);
  };

  const overlay = createAdmittedOverlay({
    store,
    replicated: (kind) => required.get(kindKey(kind)),
    project: (object, kind, status) => projectObject(object, kind, status)?.json,
    ttlMs: options.admittedTtlMs,
  });
  const expiry = setInterval(() => overlay.expire(), Math.max(100, Math.min(1000, options.admittedTtlMs / 4)));
  expiry.unref();

  const admitted = (decision: Decision, request: AdmissionRequest) => {
    if (!decision.allowed) return;
    const { group, version, kind } = request.kind;
    overlay.admitted({
      kind: { group, version, kind },
      namespace: request.namespace ?? '',
      name: request.name ?? '',
      operation: request.operation,
      dryRun: request.dryRun === true,
      object: request.object,
    });
  };

  const waitListed = async (kinds: readonly GroupVersionKind[]) => {
    const deadline = Date.now() + options.listWaitMs;
    while (replicator && !replicator.synced(kinds) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  };

  return {
    store,
    async prepare(bundle) {
      const kinds = bundle.manifest.inventory.kinds;
      if (kinds.length > 0 && replicator) {
        loading.set(bundle.key, kinds);
        requireNow();
        await waitListed(kinds);
      }
      await backend.prepare(bundle, feed.attach(bundle.key, bundle.manifest.inventory));
    },
    activate(set) {
      const keys = new Set(set.bundles.map((b) => b.key));
      for (const key of attached) if (!keys.has(key) && !loading.has(key)) feed.detach(key);
      attached = keys;
      for (const key of keys) loading.delete(key);
      active = unionKinds(set.bundles.map((b) => b.manifest.inventory.kinds));
      requireNow();
    },
    reviewer: {
      health: (kind) => (replicator ? store.health(kind) : NO_CLUSTER),
      generation: () => generation,
    },
    serialize(reviewer) {
      const tails = new Map<string, Promise<unknown>>();
      return {
        ...reviewer,
        review(endpoint, review, raw, receivedAt) {
          const { group, version, kind } = review.request.kind;
          const key = kindKey({ group, version, kind });
          if (endpoint !== 'validate' || !required.has(key)) return reviewer.review(endpoint, review, raw, receivedAt);
          // The queue's wait counts against the review's budget (receivedAt), as any wait does.
          const run = (tails.get(key) ?? Promise.resolve()).then(async () => {
            const decision = await reviewer.review(endpoint, review, raw, receivedAt);
            admitted(decision, review.request);
            return decision;
          });
          const tail = run.catch(() => undefined);
          tails.set(key, tail);
          void tail.then(() => tails.get(key) === tail && tails.delete(key));
          return run;
        },
      };
    },
    readiness() {
      if (!replicator) return { ready: true };
      // Only kinds never listed and still trying hold readiness: a kind that cannot be listed
      // (RBAC, a missing CRD) is an error its readers fail on, loudly, and holding every
      // replica unready for it would turn one policy's missing permission into an outage of
      // the whole webhook (a bundle swap reaches every replica at once).
      const waiting = [...required.values()].filter((k) => store.health(k).state === 'syncing');
      if (waiting.length === 0) return { ready: true };
      return { ready: false, reason: `replicated kinds not listed yet: ${waiting.map((k) => `${kindKey(k)} (${store.health(k).reason ?? 'syncing'})`).join('; ')}` };
    },
    async close() {
      clearInterval(expiry);
      await replicator?.close();
    },
  };
}
