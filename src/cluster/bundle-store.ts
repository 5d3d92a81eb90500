// Bundle storage in ConfigMaps of one namespace: push, rollback, history, status, and the
// status annotations and Events a watcher reports with. The only code that writes these
// objects; both the CLI and the watcher use it.
import { createHash } from 'node:crypto';
import { ApiException, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { BouncerError, describeThrown } from '../errors/errors.js';
import {
  ANNOTATION_DIGEST,
  ANNOTATION_REVISION,
  ANNOTATION_SEQUENCE,
  BUNDLE_KEY,
  LABEL_BUNDLE,
  LABEL_ROLE,
  MAX_CONFIGMAP_DATA,
  ROLLOUT_PREFIX,
  STATUS_PREFIX,
  checkBundleName,
  pointerData,
  pointerName,
  readPointer,
  readRevisionInfo,
  revisionName,
  type Pointer,
  type ReplicaStatus,
  type RevisionInfo,
} from './bundle-objects.js';
import { candidateOf, rolloutData, withoutCandidates, withStep, type CanarySlice, type HistoryStep, type PromotionPolicy, type StepAction } from './rollout-objects.js';
import { parseJson } from '../json/parse-json.js';

export interface PushResult {
  readonly pointer: Pointer;
  readonly pruned: readonly number[];
}

export interface BundleStatus {
  readonly pointer: Pointer;
  readonly replicas: Readonly<Record<string, ReplicaStatus>>;
  /** Each replica's rollout report (its candidate and window counts), as it wrote it. */
  readonly rollout?: Readonly<Record<string, unknown>>;
}

/** A push that stores the revision as a candidate instead of activating it. */
export type CandidateRequest = { readonly mode: 'shadow' } | { readonly mode: 'canary'; readonly slice: CanarySlice; readonly policy: PromotionPolicy };

export interface StepOptions {
  /** Who takes the step, for the history (default `cli`). */
  readonly by?: string;
  readonly reason?: string;
  /** The step applies only while this candidate sequence is in progress (the promotion controller's guard). */
  readonly expect?: { readonly sequence: number; readonly startedAt: number };
  readonly now?: () => number;
}

export interface BundleStore {
  readonly namespace: string;
  push(bundle: string, bytes: Uint8Array, revision: string, options?: { keep?: number; now?: () => number; candidate?: CandidateRequest; by?: string }): Promise<PushResult>;
  /** With a candidate in progress (and no `toSequence`): drops the candidate, the active revision untouched. */
  rollback(bundle: string, toSequence?: number, options?: StepOptions): Promise<Pointer>;
  /** Makes the candidate in progress the active revision. */
  promote(bundle: string, options?: StepOptions): Promise<Pointer>;
  /** This replica's rollout report on the pointer (annotation rollout.bouncer.dev/<replica>). */
  reportRollout(bundle: string, replica: string, report: unknown): Promise<void>;
  /** The stored revisions, the active one, the candidate in progress and the pointer's steps (oldest first). */
  history(bundle: string): Promise<{ revisions: RevisionInfo[]; active?: number; candidate?: { mode: 'shadow' | 'canary'; sequence: number }; steps?: readonly HistoryStep[] }>;
  status(): Promise<BundleStatus[]>;
  readRevision(bundle: string, sequence: number): Promise<V1ConfigMap | undefined>;
  reportStatus(bundle: string, replica: string, status: ReplicaStatus): Promise<void>;
  event(bundle: string, type: 'Normal' | 'Warning', reason: string, message: string, component: string): Promise<void>;
}

/** Turns an API failure into an error that says what to fix. */
export function clusterError(err: unknown, what: string): BouncerError {
  if (err instanceof BouncerError) return err;
  if (err instanceof ApiException) {
    const hint = err.code === 401 ? ' (not authenticated: check the kubeconfig)' : err.code === 403 ? ' (forbidden: the current user lacks RBAC permission)' : '';
    let message = '';
    try {
      message = (parseJson(String(err.body)) as { message?: string }).message ?? '';
    } catch {
      message = String(err.body);
    }
    return new BouncerError('CLUSTER_FAILED', `${what}: HTTP ${err.code}${hint}: ${message}`, { cause: err, details: { status: err.code } });
  }
  return new BouncerError('CLUSTER_FAILED', `${what}: cannot reach the cluster: ${describeThrown(err)}`, { cause: err });
}

const isStatus = (err: unknown, code: number): boolean => err instanceof ApiException && err.code === code;

export function createBundleStore(kc: KubeConfig, namespace: string): BundleStore {
  const core = kc.makeApiClient(CoreV1Api);
  const selector = (bundle: string, role: string) => `${LABEL_BUNDLE}=${bundle},${LABEL_ROLE}=${role}`;

  async function revisions(bundle: string): Promise<V1ConfigMap[]> {
    try {
      const list = await core.listNamespacedConfigMap({ namespace, labelSelector: selector(bundle, 'revision') });
      return list.items;
    } catch (err) {
      throw clusterError(err, `listing revisions of bundle ${bundle} in ${namespace}`);
    }
  }

  async function readPointerObject(bundle: string): Promise<V1ConfigMap | undefined> {
    try {
      return await core.readNamespacedConfigMap({ namespace, name: pointerName(bundle) });
    } catch (err) {
      if (isStatus(err, 404)) return undefined;
      throw clusterError(err, `reading the pointer of bundle ${bundle}`);
    }
  }

  /**
   * Moves the pointer with optimistic concurrency: `next` computes the new pointer from the
   * one read (undefined when there is none) and may refuse by throwing; the write carries
   * the read resourceVersion, and on a conflict (another writer, or a replica's status
   * annotation) the pointer is read again and `next` asked again, so its checks always hold
   * against what is actually replaced.
   */
  async function updatePointer(bundle: string, next: (current: Pointer | undefined) => Pointer): Promise<Pointer> {
    for (let attempt = 0; ; attempt++) {
      const object = await readPointerObject(bundle);
      const current = object ? readPointer(object) : undefined;
      const pointer = next(current);
      const data = { ...pointerData(pointer), ...rolloutData(pointer) };
      try {
        if (!object) {
          const created = Object.fromEntries(Object.entries(data).filter((e): e is [string, string] => e[1] !== null));
          await core.createNamespacedConfigMap({
            namespace,
            body: { metadata: { name: pointerName(bundle), namespace, labels: { [LABEL_BUNDLE]: bundle, [LABEL_ROLE]: 'pointer' } }, data: created },
          });
        } else {
          const body = { metadata: { resourceVersion: object.metadata?.resourceVersion }, data };
          await core.patchNamespacedConfigMap({ namespace, name: pointerName(bundle), body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
        }
        return pointer;
      } catch (err) {
        if (isStatus(err, 409) && attempt < 20) continue;
        throw clusterError(err, `moving the pointer of bundle ${bundle}`);
      }
    }
  }

  const inProgress = (p: Pointer | undefined): string | undefined => {
    const c = p && candidateOf(p);
    return c ? `revision ${c.candidate.sequence} (${c.candidate.revision}) is already in progress as a ${c.mode} since ${new Date(c.candidate.startedAt).toISOString()}` : undefined;
  };
  const conflict = (bundle: string, why: string, hint: string) => new BouncerError('ROLLOUT_CONFLICT', `bundle ${bundle}: ${why}; ${hint}`);
  const guard = (bundle: string, p: Pointer | undefined, expect: StepOptions['expect']): void => {
    if (!expect) return;
    const c = p && candidateOf(p);
    if (!c || c.candidate.sequence !== expect.sequence || c.candidate.startedAt !== expect.startedAt) {
      throw conflict(bundle, `the candidate changed (expected revision ${expect.sequence})`, 'nothing done');
    }
  };

  async function patchAnnotations(name: string, annotations: Record<string, string>): Promise<void> {
    await core.patchNamespacedConfigMap({ namespace, name, body: { metadata: { annotations } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  }

  return {
    namespace,

    async push(bundle, bytes, revision, options = {}) {
      checkBundleName(bundle);
      if (bytes.byteLength + BUNDLE_KEY.length > MAX_CONFIGMAP_DATA) {
        throw new BouncerError(
          'BUNDLE_TOO_LARGE',
          `the bundle is ${bytes.byteLength} bytes; a ConfigMap holds at most ${MAX_CONFIGMAP_DATA - BUNDLE_KEY.length} (split the policies into several bundles)`,
        );
      }
      const digest = createHash('sha256').update(bytes).digest('hex');
      const now = options.now ?? Date.now;
      const by = options.by ?? 'cli';
      // Refused before anything is stored, and again (authoritatively) when the pointer moves.
      const before = await readPointerObject(bundle);
      const beforePointer = before ? readPointer(before) : undefined;
      // The same bytes as the shadow in progress, pushed as a canary: the shadow becomes the canary (shadow → canary).
      if (options.candidate?.mode === 'canary' && beforePointer?.shadow?.digest === digest) {
        const slice = options.candidate.slice;
        const policy = options.candidate.policy;
        const pointer = await updatePointer(bundle, (current) => {
          const shadow = current?.shadow;
          if (!current || !shadow || shadow.digest !== digest) throw conflict(bundle, 'the shadow changed', 'push again');
          const at = now();
          const { shadow: _s, ...rest } = current;
          const ref = { sequence: shadow.sequence, revision: shadow.revision, digest, startedAt: at };
          return { ...rest, canary: { ...ref, slice, policy }, history: withStep(current.history, { at, action: 'canary', sequence: shadow.sequence, revision: shadow.revision, by, reason: 'the shadow became a canary' }) };
        });
        return { pointer, pruned: [] };
      }
      const busy = inProgress(beforePointer);
      if (busy) throw conflict(bundle, busy, 'promote it or roll it back first (bouncer promote / bouncer rollback)');
      if (options.candidate && !before) throw conflict(bundle, 'has no active revision', 'push one without --shadow/--canary first');
      const existing = (await revisions(bundle)).map(readRevisionInfo).filter((r): r is RevisionInfo => r !== undefined);
      let sequence = Math.max(0, ...existing.map((r) => r.sequence)) + 1;
      for (;;) {
        const body: V1ConfigMap = {
          metadata: {
            name: revisionName(bundle, sequence),
            namespace,
            labels: { [LABEL_BUNDLE]: bundle, [LABEL_ROLE]: 'revision' },
            annotations: { [ANNOTATION_REVISION]: revision, [ANNOTATION_SEQUENCE]: String(sequence), [ANNOTATION_DIGEST]: digest },
          },
          immutable: true,
          binaryData: { [BUNDLE_KEY]: Buffer.from(bytes).toString('base64') },
        };
        try {
          await core.createNamespacedConfigMap({ namespace, body });
          break;
        } catch (err) {
          // Another pusher took this sequence number: take the next one.
          if (isStatus(err, 409)) {
            sequence++;
            continue;
          }
          throw clusterError(err, `storing revision ${sequence} of bundle ${bundle}`);
        }
      }
      const candidate = options.candidate;
      const pointer = await updatePointer(bundle, (current) => {
        const busyNow = inProgress(current);
        if (busyNow) throw conflict(bundle, busyNow, 'promote it or roll it back first (bouncer promote / bouncer rollback)');
        const at = now();
        if (!candidate) {
          return { ...current, bundle, sequence, revision, digest, publishedAt: at, action: 'push', history: withStep(current?.history, { at, action: 'push', sequence, revision, by }) };
        }
        if (!current) throw conflict(bundle, 'has no active revision', 'push one without --shadow/--canary first');
        const ref = { sequence, revision, digest, startedAt: at };
        return {
          ...withoutCandidates(current),
          ...(candidate.mode === 'shadow' ? { shadow: ref } : { canary: { ...ref, slice: candidate.slice, policy: candidate.policy } }),
          history: withStep(current.history, { at, action: candidate.mode, sequence, revision, by }),
        };
      });
      const keep = options.keep ?? 10;
      // The active revision is never pruned while a candidate runs beside it.
      const pruned = existing
        .map((r) => r.sequence)
        .filter((seq) => seq !== (candidate ? pointer.sequence : -1))
        .sort((a, b) => b - a)
        .slice(Math.max(0, keep - 1));
      for (const old of pruned) {
        await core.deleteNamespacedConfigMap({ namespace, name: revisionName(bundle, old) }).catch(() => undefined);
      }
      return { pointer, pruned };
    },

    async rollback(bundle, toSequence, options = {}) {
      checkBundleName(bundle);
      const now = options.now ?? Date.now;
      const by = options.by ?? 'cli';
      const infos = (await revisions(bundle)).map(readRevisionInfo).filter((r): r is RevisionInfo => r !== undefined);
      return updatePointer(bundle, (active) => {
        if (!active) throw new BouncerError('CONFIG_INVALID', `bundle ${bundle} has no active revision in ${namespace}`);
        guard(bundle, active, options.expect);
        const at = now();
        const running = candidateOf(active);
        if (running) {
          if (toSequence !== undefined) throw conflict(bundle, inProgress(active) ?? '', 'roll the candidate back first (bouncer rollback without --to)');
          const reason = options.reason ?? `${running.mode} rolled back by hand`;
          return { ...withoutCandidates(active), action: 'rollback', history: withStep(active.history, { at, action: 'rollback', sequence: running.candidate.sequence, revision: running.candidate.revision, by, reason }) };
        }
        const target = toSequence ?? Math.max(0, ...infos.filter((r) => r.sequence < active.sequence).map((r) => r.sequence));
        const info = infos.find((r) => r.sequence === target);
        if (!info) {
          const known = infos.map((r) => r.sequence).sort((a, b) => a - b).join(', ');
          throw new BouncerError('CONFIG_INVALID', `bundle ${bundle} has no revision ${target || '(none older than the active one)'}; stored: ${known}`);
        }
        return {
          ...active,
          sequence: info.sequence,
          revision: info.revision,
          digest: info.digest,
          publishedAt: at,
          action: 'rollback',
          history: withStep(active.history, { at, action: 'rollback', sequence: info.sequence, revision: info.revision, by, ...(options.reason ? { reason: options.reason } : {}) }),
        };
      });
    },

    async promote(bundle, options = {}) {
      checkBundleName(bundle);
      const now = options.now ?? Date.now;
      return updatePointer(bundle, (active) => {
        const running = active && candidateOf(active);
        if (!active || !running) throw conflict(bundle, 'has no shadow or canary candidate in progress', 'push one with --shadow or --canary');
        guard(bundle, active, options.expect);
        const at = now();
        const c = running.candidate;
        return {
          ...withoutCandidates(active),
          sequence: c.sequence,
          revision: c.revision,
          digest: c.digest,
          publishedAt: at,
          action: 'promote',
          history: withStep(active.history, { at, action: 'promote' as StepAction, sequence: c.sequence, revision: c.revision, by: options.by ?? 'cli', reason: options.reason ?? `${running.mode} promoted by hand` }),
        };
      });
    },

    async reportRollout(bundle, replica, report) {
      try {
        await patchAnnotations(pointerName(bundle), { [`${ROLLOUT_PREFIX}${replica}`]: JSON.stringify(report) });
      } catch (err) {
        if (!isStatus(err, 404)) throw clusterError(err, `writing the rollout report of bundle ${bundle}`);
      }
    },

    async history(bundle) {
      checkBundleName(bundle);
      const infos = (await revisions(bundle)).map(readRevisionInfo).filter((r): r is RevisionInfo => r !== undefined);
      const pointerObject = await readPointerObject(bundle);
      const pointer = pointerObject ? readPointer(pointerObject) : undefined;
      const active = pointer?.sequence;
      const running = pointer && candidateOf(pointer);
      return {
        revisions: infos.sort((a, b) => a.sequence - b.sequence),
        ...(active === undefined ? {} : { active }),
        ...(running ? { candidate: { mode: running.mode, sequence: running.candidate.sequence } } : {}),
        ...(pointer?.history ? { steps: pointer.history } : {}),
      };
    },

    async status() {
      let items: V1ConfigMap[];
      try {
        items = (await core.listNamespacedConfigMap({ namespace, labelSelector: `${LABEL_ROLE}=pointer` })).items;
      } catch (err) {
        throw clusterError(err, `listing bundles in ${namespace}`);
      }
      return items.flatMap((cm) => {
        const pointer = readPointer(cm);
        if (!pointer) return [];
        const replicas: Record<string, ReplicaStatus> = {};
        const rollout: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(cm.metadata?.annotations ?? {})) {
          if (key.startsWith(ROLLOUT_PREFIX)) {
            try {
              rollout[key.slice(ROLLOUT_PREFIX.length)] = parseJson(value) as unknown;
            } catch {
              // Unreadable reports are skipped, as statuses are.
            }
            continue;
          }
          if (!key.startsWith(STATUS_PREFIX)) continue;
          try {
            replicas[key.slice(STATUS_PREFIX.length)] = parseJson(value) as ReplicaStatus;
          } catch {
            // A status this version cannot read is skipped, not fatal.
          }
        }
        return [{ pointer, replicas, ...(Object.keys(rollout).length > 0 ? { rollout } : {}) }];
      });
    },

    async readRevision(bundle, sequence) {
      try {
        return await core.readNamespacedConfigMap({ namespace, name: revisionName(bundle, sequence) });
      } catch (err) {
        if (isStatus(err, 404)) return undefined;
        throw clusterError(err, `reading revision ${sequence} of bundle ${bundle}`);
      }
    },

    async reportStatus(bundle, replica, status) {
      const value = JSON.stringify(status);
      const key = `${STATUS_PREFIX}${replica}`;
      try {
        await patchAnnotations(pointerName(bundle), { [key]: value });
        if (status.state === 'refused') await patchAnnotations(revisionName(bundle, status.sequence), { [key]: value }).catch(() => undefined);
      } catch (err) {
        if (!isStatus(err, 404)) throw clusterError(err, `writing the status of bundle ${bundle}`);
      }
    },

    async event(bundle, type, reason, message, component) {
      const now = new Date();
      try {
        await core.createNamespacedEvent({
          namespace,
          body: {
            metadata: { generateName: `${pointerName(bundle)}.`, namespace },
            involvedObject: { kind: 'ConfigMap', apiVersion: 'v1', namespace, name: pointerName(bundle) },
            type,
            reason,
            message: message.slice(0, 1024),
            source: { component },
            reportingComponent: 'bouncer.dev/bundle-watcher',
            reportingInstance: component,
            firstTimestamp: now,
            lastTimestamp: now,
            count: 1,
          },
        });
      } catch (err) {
        throw clusterError(err, `recording an event for bundle ${bundle}`);
      }
    },
  };
}
