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

export interface PushResult {
  readonly pointer: Pointer;
  readonly pruned: readonly number[];
}

export interface BundleStatus {
  readonly pointer: Pointer;
  readonly replicas: Readonly<Record<string, ReplicaStatus>>;
}

export interface BundleStore {
  readonly namespace: string;
  push(bundle: string, bytes: Uint8Array, revision: string, options?: { keep?: number; now?: () => number }): Promise<PushResult>;
  rollback(bundle: string, toSequence?: number): Promise<Pointer>;
  history(bundle: string): Promise<{ revisions: RevisionInfo[]; active?: number }>;
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
      message = (JSON.parse(String(err.body)) as { message?: string }).message ?? '';
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

  /** Creates or replaces the pointer (optimistic concurrency on replace). */
  async function writePointer(pointer: Pointer): Promise<void> {
    const body: V1ConfigMap = {
      metadata: { name: pointerName(pointer.bundle), namespace, labels: { [LABEL_BUNDLE]: pointer.bundle, [LABEL_ROLE]: 'pointer' } },
      data: pointerData(pointer),
    };
    try {
      await core.createNamespacedConfigMap({ namespace, body });
      return;
    } catch (err) {
      if (!isStatus(err, 409)) throw clusterError(err, `creating the pointer of bundle ${pointer.bundle}`);
    }
    const patch = { data: pointerData(pointer) };
    try {
      await core.patchNamespacedConfigMap({ namespace, name: pointerName(pointer.bundle), body: patch }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    } catch (err) {
      throw clusterError(err, `moving the pointer of bundle ${pointer.bundle}`);
    }
  }

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
      const pointer: Pointer = { bundle, sequence, revision, digest, publishedAt: (options.now ?? Date.now)(), action: 'push' };
      await writePointer(pointer);
      const keep = options.keep ?? 10;
      const pruned = existing
        .map((r) => r.sequence)
        .sort((a, b) => b - a)
        .slice(Math.max(0, keep - 1));
      for (const old of pruned) {
        await core.deleteNamespacedConfigMap({ namespace, name: revisionName(bundle, old) }).catch(() => undefined);
      }
      return { pointer, pruned };
    },

    async rollback(bundle, toSequence) {
      checkBundleName(bundle);
      const current = await readPointerObject(bundle);
      const active = current ? readPointer(current) : undefined;
      if (!active) throw new BouncerError('CONFIG_INVALID', `bundle ${bundle} has no active revision in ${namespace}`);
      const infos = (await revisions(bundle)).map(readRevisionInfo).filter((r): r is RevisionInfo => r !== undefined);
      const target = toSequence ?? Math.max(0, ...infos.filter((r) => r.sequence < active.sequence).map((r) => r.sequence));
      const info = infos.find((r) => r.sequence === target);
      if (!info) {
        const known = infos.map((r) => r.sequence).sort((a, b) => a - b).join(', ');
        throw new BouncerError('CONFIG_INVALID', `bundle ${bundle} has no revision ${target || '(none older than the active one)'}; stored: ${known}`);
      }
      const pointer: Pointer = { bundle, sequence: info.sequence, revision: info.revision, digest: info.digest, publishedAt: Date.now(), action: 'rollback' };
      await writePointer(pointer);
      return pointer;
    },

    async history(bundle) {
      checkBundleName(bundle);
      const infos = (await revisions(bundle)).map(readRevisionInfo).filter((r): r is RevisionInfo => r !== undefined);
      const pointerObject = await readPointerObject(bundle);
      const active = pointerObject ? readPointer(pointerObject)?.sequence : undefined;
      return { revisions: infos.sort((a, b) => a.sequence - b.sequence), ...(active === undefined ? {} : { active }) };
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
        for (const [key, value] of Object.entries(cm.metadata?.annotations ?? {})) {
          if (!key.startsWith(STATUS_PREFIX)) continue;
          try {
            replicas[key.slice(STATUS_PREFIX.length)] = JSON.parse(value) as ReplicaStatus;
          } catch {
            // A status this version cannot read is skipped, not fatal.
          }
        }
        return [{ pointer, replicas }];
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
