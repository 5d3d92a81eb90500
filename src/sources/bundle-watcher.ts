// Watches the bundle ConfigMaps of bouncer's namespace and hands each pointer change to the
// bundle reconciler (bundle-reconciler.ts), which swaps revisions in.
//
// - client-node's informer relists by itself on 410 Gone but stops on any other error;
//   it is restarted here with capped exponential backoff.
// - Ready once the initial list is reconciled and every bundle present then (and every
//   required one) is active.
import { CoreV1Api, makeInformer, type Informer, type KubeConfig, type ObjectCache, type V1ConfigMap } from '@kubernetes/client-node';
import type { LoadedBundle } from '../bundles/bundle.js';
import type { PolicyRegistry } from '../bundles/registry.js';
import { LABEL_BUNDLE, bundleOf, readPointer, roleOf } from '../cluster/bundle-objects.js';
import type { BundleStore } from '../cluster/bundle-store.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { createBundleReconciler } from './bundle-reconciler.js';
import type { CandidateState } from './candidate-reconciler.js';

export interface Readiness {
  readonly ready: boolean;
  readonly reason?: string;
}

export interface BundleWatcherDeps {
  readonly kc: KubeConfig;
  readonly store: BundleStore;
  readonly registry: PolicyRegistry;
  /** Verifies, compiles and self-checks a bundle (signature key, limits and budgets bound by main). */
  readonly load: (name: string, bytes: Uint8Array) => Promise<LoadedBundle>;
  /** This replica's name in status annotations (the pod name in a cluster). */
  readonly replica: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Bundles that must be active before this replica is ready, besides those present at startup. */
  readonly requiredBundles?: readonly string[];
  readonly now?: () => number;
  readonly maxBackoffMs?: number;
}

export interface BundleWatcher {
  /** Lists and starts watching; resolves once the initial list has been processed. */
  start(): Promise<void>;
  stop(): Promise<void>;
  readiness(): Readiness;
  /** The active sequence of each bundle on this replica. */
  active(): ReadonlyMap<string, number>;
  /** Settles when every queued reconcile has finished (tests, shutdown). */
  idle(): Promise<void>;
  /** Each bundle's candidate on this replica (the rollout report carries it). */
  candidates(): ReadonlyMap<string, CandidateState>;
}

export function createBundleWatcher(deps: BundleWatcherDeps): BundleWatcher {
  const { store, registry, logger, metrics } = deps;
  const namespace = store.namespace;
  const log = logger.child({ component: 'bundle-watcher', namespace });
  const core = deps.kc.makeApiClient(CoreV1Api);
  const presentAtStart = new Set<string>();
  let synced = false;
  let stopped = false;
  let backoffMs = 500;
  let restartTimer: NodeJS.Timeout | undefined;

  const informer: Informer<V1ConfigMap> & ObjectCache<V1ConfigMap> = makeInformer(
    deps.kc,
    `/api/v1/namespaces/${namespace}/configmaps`,
    async () => {
      metrics.watchRelisted();
      // The informer only applies the selector to the watch; the list must apply it too.
      const list = await core.listNamespacedConfigMap({ namespace, labelSelector: LABEL_BUNDLE });
      backoffMs = 500;
      return list;
    },
    LABEL_BUNDLE,
  );

  const reconciler = createBundleReconciler({
    store,
    cached: (name) => informer.get(name, namespace),
    registry,
    load: deps.load,
    replica: deps.replica,
    log,
    metrics,
    rolloutMetrics: metrics.rollout,
    ...(deps.now ? { now: deps.now } : {}),
  });

  const onChange = (cm: V1ConfigMap): void => {
    if (cm.metadata?.namespace !== namespace || roleOf(cm) !== 'pointer') return;
    const pointer = readPointer(cm);
    const bundle = bundleOf(cm);
    if (!bundle) return;
    if (!synced) presentAtStart.add(bundle);
    if (!pointer) {
      log.warn({ bundle, name: cm.metadata?.name }, 'ignoring a malformed bundle pointer');
      return;
    }
    reconciler.pointer(pointer);
  };

  informer.on('add', onChange);
  informer.on('update', onChange);
  informer.on('delete', (cm) => {
    const bundle = bundleOf(cm);
    if (cm.metadata?.namespace === namespace && roleOf(cm) === 'pointer' && bundle) reconciler.removed(bundle);
  });
  informer.on('error', (err: unknown) => {
    if (stopped) return;
    metrics.watchRestarted(typeof err === 'object' && err && 'code' in err ? String((err as { code: unknown }).code) : 'error');
    log.warn({ err, retryInMs: backoffMs }, 'bundle watch failed; restarting');
    restartTimer = setTimeout(() => {
      if (!stopped) informer.start().catch((e: unknown) => log.warn({ err: e }, 'bundle watch restart failed'));
    }, backoffMs);
    backoffMs = Math.min(backoffMs * 2, deps.maxBackoffMs ?? 30_000);
  });

  return {
    async start() {
      stopped = false;
      await informer.start();
      await reconciler.idle();
      synced = true;
    },
    async stop() {
      stopped = true;
      if (restartTimer) clearTimeout(restartTimer);
      await informer.stop();
    },
    readiness() {
      if (!synced) return { ready: false, reason: 'waiting for the initial list of bundles' };
      const missing = reconciler.missing([...presentAtStart, ...(deps.requiredBundles ?? [])]);
      if (missing.length > 0) return { ready: false, reason: `bundles not active yet: ${missing.join(', ')}` };
      if (!registry.current()) return { ready: false, reason: 'no bundle is active' };
      return { ready: true };
    },
    active: reconciler.active,
    idle: reconciler.idle,
    candidates: reconciler.candidates,
  };
}
