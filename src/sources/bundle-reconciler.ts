// Reconciling bundle pointers into the policy registry, apart from the Kubernetes watch
// that delivers them (bundle-watcher.ts), so ordering, rollback, dedupe, removal and the
// cold-start fallback can be tested as tables of events.
//
// - Each bundle is reconciled alone, one change at a time, in arrival order.
// - A revision is built completely (verified, compiled, instantiated, self-checked) before
//   the registry publishes it with one reference swap; any failure keeps the last good
//   revision serving and is reported as a status annotation, an Event, a metric and a log line.
// - The digest the pointer publishes is checked against the revision's bytes before they
//   are loaded (nothing unpublished is ever compiled).
// - Revisions are ordered by sequence number: an older one is refused unless the pointer
//   says it is a rollback. Re-delivered pointers (relist after 410 Gone, reconnects) are
//   recognised by sequence and digest and neither reapplied nor re-reported.
// - A replica with no revision of a bundle active (a cold start, or a bundle it never ran)
//   whose pointer names a revision it refuses falls back to the newest older revision of
//   the bundle's history that loads, as a replica that was already running keeps serving
//   its last good revision; with none, the bundle stays missing and readiness says which
//   revision was refused and why. See docs/reliability.md.
import type { V1ConfigMap } from '@kubernetes/client-node';
import { bundleDigest, type LoadedBundle } from '../bundles/bundle.js';
import type { PolicyRegistry } from '../bundles/registry.js';
import { revisionBytes, revisionName, type Pointer, type ReplicaStatus } from '../cluster/bundle-objects.js';
import type { BundleStore } from '../cluster/bundle-store.js';
import { BouncerError, describeThrown, isBouncerError } from '../errors/errors.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics, RolloutMetrics } from '../telemetry/metrics.js';
import { createCandidateReconciler, type CandidateState } from './candidate-reconciler.js';

export interface BundleReconcilerDeps {
  readonly store: Pick<BundleStore, 'history' | 'readRevision' | 'reportStatus' | 'event'>;
  /** A revision ConfigMap already at hand (the informer's cache), before asking the store. */
  readonly cached?: (name: string) => V1ConfigMap | undefined;
  readonly registry: PolicyRegistry;
  /** Verifies, compiles and self-checks a bundle (signature key, limits and budgets bound by main). */
  readonly load: (name: string, bytes: Uint8Array) => Promise<LoadedBundle>;
  /** This replica's name in status annotations (the pod name in a cluster). */
  readonly replica: string;
  readonly log: Logger;
  readonly metrics: Pick<Metrics, 'bundleActivated' | 'bundleRefused' | 'bundleRemoved'>;
  /** Candidate (shadow, canary) metrics; candidates are staged with or without them. */
  readonly rolloutMetrics?: RolloutMetrics;
  readonly now?: () => number;
}

export interface BundleReconciler {
  /** A pointer as it is now (added or updated); reconciled after what is queued for its bundle. */
  pointer(pointer: Pointer): void;
  /** The bundle's pointer was deleted: an explicit removal. */
  removed(bundle: string): void;
  /** The active sequence of each bundle on this replica. */
  active(): ReadonlyMap<string, number>;
  /** Each of `expected` that is not active, with the refusal that keeps it out when there is one. */
  missing(expected: Iterable<string>): string[];
  /** Settles when every queued reconcile has finished. */
  idle(): Promise<void>;
  /** Each bundle's candidate on this replica (shadow or canary), loaded or refused. */
  candidates(): ReadonlyMap<string, CandidateState>;
}

interface Applied {
  readonly sequence: number;
  readonly digest: string;
  /** Active because the pointer's revision was refused at a time nothing else was active. */
  readonly fallback?: boolean;
}

interface Refused extends Applied {
  readonly code: string;
}

export function createBundleReconciler(deps: BundleReconcilerDeps): BundleReconciler {
  const { store, registry, log, metrics, replica } = deps;
  const now = deps.now ?? Date.now;
  const active = new Map<string, Applied>();
  const refused = new Map<string, Refused>();
  const queues = new Map<string, Promise<void>>();

  const enqueue = (bundle: string, work: () => Promise<void>): void => {
    const previous = queues.get(bundle) ?? Promise.resolve();
    const next = previous.then(work).catch((err: unknown) => log.error({ err, bundle }, 'bundle reconcile failed unexpectedly'));
    queues.set(bundle, next);
  };

  async function report(bundle: string, status: ReplicaStatus, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    await store.reportStatus(bundle, replica, status).catch((err: unknown) => log.warn({ err, bundle }, 'could not write the bundle status annotation'));
    await store.event(bundle, type, reason, message, `bouncer/${replica}`).catch((err: unknown) => log.warn({ err, bundle }, 'could not record an event'));
  }

  const candidates = createCandidateReconciler({
    store,
    registry,
    load: deps.load,
    content: (bundle, sequence, digest) => revisionContent(bundle, sequence, digest),
    replica,
    log,
    ...(deps.rolloutMetrics ? { metrics: deps.rolloutMetrics } : {}),
  });

  async function refuse(pointer: Pointer, err: BouncerError): Promise<void> {
    refused.set(pointer.bundle, { sequence: pointer.sequence, digest: pointer.digest, code: err.code });
    metrics.bundleRefused(pointer.bundle, err.code);
    const serving = active.get(pointer.bundle)?.sequence;
    log.warn(
      { bundle: pointer.bundle, sequence: pointer.sequence, revision: pointer.revision, code: err.code, err, serving },
      'bundle revision refused; the last good revision keeps serving',
    );
    await report(
      pointer.bundle,
      {
        state: 'refused',
        sequence: pointer.sequence,
        revision: pointer.revision,
        at: new Date(now()).toISOString(),
        code: err.code,
        reason: err.message.slice(0, 512),
        ...(serving === undefined ? {} : { serving }),
      },
      'Warning',
      'BundleRefused',
      `revision ${pointer.sequence} (${pointer.revision}) refused by ${replica}: ${err.code}: ${err.message}${serving === undefined ? '' : `; still serving revision ${serving}`}`,
    );
  }

  /** The bytes of a stored revision, checked against the digest published for it before anything reads them. */
  async function revisionContent(bundle: string, sequence: number, digest: string): Promise<Uint8Array> {
    const cm = deps.cached?.(revisionName(bundle, sequence)) ?? (await store.readRevision(bundle, sequence));
    if (!cm) throw new BouncerError('BUNDLE_CORRUPT', `the revision ConfigMap ${revisionName(bundle, sequence)} does not exist`);
    const bytes = revisionBytes(cm);
    const actual = bundleDigest(bytes);
    if (digest && actual !== digest) throw new BouncerError('BUNDLE_CORRUPT', `the revision's sha256 ${actual} is not the published ${digest}`);
    return bytes;
  }

  /**
   * With nothing of this bundle active and its pointer's revision refused: activates the
   * newest older revision of its history that loads. Returns its sequence, or undefined.
   */
  async function fallBack(pointer: Pointer): Promise<number | undefined> {
    let older;
    try {
      older = (await store.history(pointer.bundle)).revisions.filter((r) => r.sequence < pointer.sequence).sort((a, b) => b.sequence - a.sequence);
    } catch (err) {
      log.warn({ err, bundle: pointer.bundle }, 'cannot list the bundle history to fall back to an older revision');
      return undefined;
    }
    for (const revision of older) {
      try {
        const bundle = await deps.load(pointer.bundle, await revisionContent(pointer.bundle, revision.sequence, revision.digest));
        registry.activate(bundle);
        active.set(pointer.bundle, { sequence: revision.sequence, digest: revision.digest, fallback: true });
        metrics.bundleActivated(pointer.bundle, undefined);
        log.warn(
          { bundle: pointer.bundle, sequence: revision.sequence, revision: bundle.revision, refused: pointer.sequence },
          'the active revision is refused and nothing else was serving: serving the newest older revision that loads',
        );
        return revision.sequence;
      } catch (err) {
        log.warn({ err, bundle: pointer.bundle, sequence: revision.sequence, code: isBouncerError(err) ? err.code : undefined }, 'older revision refused too');
      }
    }
    return undefined;
  }

  async function apply(pointer: Pointer): Promise<void> {
    const current = active.get(pointer.bundle);
    const same = (a: Applied | undefined) => a !== undefined && a.sequence === pointer.sequence && a.digest === pointer.digest;
    // A revision active as a fallback is applied again when the pointer names it (a rollback), to report it active.
    if ((same(current) && !current?.fallback) || same(refused.get(pointer.bundle))) return;
    if (current && pointer.sequence < current.sequence && pointer.action !== 'rollback') {
      return refuse(
        pointer,
        new BouncerError('BUNDLE_REVISION_OLDER', `revision ${pointer.sequence} is older than the active revision ${current.sequence}; use bouncer rollback`),
      );
    }
    try {
      // A promoted candidate is already loaded and prepared: it is activated as it is.
      const bundle =
        candidates.loaded(pointer.bundle, pointer.digest) ?? (await deps.load(pointer.bundle, await revisionContent(pointer.bundle, pointer.sequence, pointer.digest)));
      registry.activate(bundle);
      active.set(pointer.bundle, { sequence: pointer.sequence, digest: pointer.digest });
      refused.delete(pointer.bundle);
      const propagation = pointer.publishedAt > 0 ? (now() - pointer.publishedAt) / 1000 : undefined;
      metrics.bundleActivated(pointer.bundle, propagation);
      log.info(
        { bundle: pointer.bundle, sequence: pointer.sequence, revision: bundle.revision, action: pointer.action, propagationSeconds: propagation, policies: bundle.policies.length },
        'bundle revision activated',
      );
      await report(
        pointer.bundle,
        { state: 'active', sequence: pointer.sequence, revision: bundle.revision, at: new Date(now()).toISOString() },
        'Normal',
        pointer.action === 'rollback' ? 'BundleRolledBack' : pointer.action === 'promote' ? 'BundlePromoted' : 'BundleActivated',
        `revision ${pointer.sequence} (${bundle.revision}) active on ${replica}`,
      );
    } catch (err) {
      const failure = isBouncerError(err) ? err : new BouncerError('BUNDLE_CORRUPT', describeThrown(err), { cause: err });
      if (!active.has(pointer.bundle)) await fallBack(pointer);
      await refuse(pointer, failure);
    }
  }

  async function remove(bundle: string): Promise<void> {
    if (!active.has(bundle)) return;
    active.delete(bundle);
    refused.delete(bundle);
    candidates.removed(bundle);
    registry.remove(bundle);
    metrics.bundleRemoved(bundle);
    log.warn({ bundle, remaining: registry.current()?.revision ?? 'none' }, 'bundle removed: its pointer ConfigMap was deleted');
    await store
      .event(bundle, 'Warning', 'BundleRemoved', `bundle ${bundle} removed from ${replica}: its pointer was deleted`, `bouncer/${replica}`)
      .catch((err: unknown) => log.warn({ err, bundle }, 'could not record an event'));
  }

  return {
    pointer: (pointer) =>
      enqueue(pointer.bundle, async () => {
        await apply(pointer);
        await candidates.apply(pointer);
      }),
    removed: (bundle) => enqueue(bundle, () => remove(bundle)),
    active: () => new Map([...active].map(([b, a]) => [b, a.sequence])),
    missing: (expected) =>
      [...new Set(expected)]
        .filter((b) => !active.has(b))
        .map((b) => {
          const r = refused.get(b);
          return r ? `${b} (revision ${r.sequence} refused: ${r.code}, and no older revision loads)` : b;
        }),
    candidates: () => candidates.states(),
    async idle() {
      for (;;) {
        const pending = [...queues.values()];
        await Promise.all(pending);
        if (pending.length === queues.size && pending.every((p, i) => p === [...queues.values()][i])) return;
      }
    },
  };
}
