// How bundles live in the cluster. Each revision of a bundle is its own immutable
// ConfigMap holding the bundle tarball; a small mutable "pointer" ConfigMap per bundle
// names the active revision. Publishing writes the revision first, then moves the
// pointer, so a watcher never sees a pointer to a revision that was not fully written.
//
//   bouncer-bundle-<name>-r<seq>   labels bouncer.dev/bundle=<name>, bouncer.dev/role=revision
//                                  binaryData bundle.tar.gz; annotations revision, sequence, sha256
//   bouncer-bundle-<name>          labels bouncer.dev/bundle=<name>, bouncer.dev/role=pointer
//                                  data: sequence, revision, sha256, publishedAt (ms), action (push|rollback)
//                                  annotations status.bouncer.dev/<replica>: what each replica runs
//                                  data shadow, canary, history: the rollout fields (rollout-objects.ts)
//                                  annotations rollout.bouncer.dev/<replica>: each replica's candidate window
import type { V1ConfigMap } from '@kubernetes/client-node';
import { BouncerError } from '../errors/errors.js';
import { readRolloutFields, type RolloutFields } from './rollout-objects.js';

export const LABEL_BUNDLE = 'bouncer.dev/bundle';
export const LABEL_ROLE = 'bouncer.dev/role';
export const ANNOTATION_REVISION = 'bouncer.dev/revision';
export const ANNOTATION_SEQUENCE = 'bouncer.dev/sequence';
export const ANNOTATION_DIGEST = 'bouncer.dev/sha256';
export const STATUS_PREFIX = 'status.bouncer.dev/';
export const ROLLOUT_PREFIX = 'rollout.bouncer.dev/';
export const BUNDLE_KEY = 'bundle.tar.gz';
/** The API server refuses ConfigMaps whose data exceeds 1 MiB. */
export const MAX_CONFIGMAP_DATA = 1024 * 1024;

const NAME = /^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$/;

export function checkBundleName(name: string): string {
  if (!NAME.test(name)) throw new BouncerError('CONFIG_INVALID', `bundle name ${JSON.stringify(name)} must be a DNS label of at most 42 characters`);
  return name;
}

export const pointerName = (bundle: string): string => `bouncer-bundle-${bundle}`;
export const revisionName = (bundle: string, sequence: number): string => `bouncer-bundle-${bundle}-r${sequence}`;

export interface Pointer extends RolloutFields {
  readonly bundle: string;
  readonly sequence: number;
  readonly revision: string;
  readonly digest: string;
  /** When the pusher published it (ms since the epoch); propagation is measured from here. */
  readonly publishedAt: number;
  /** What last moved the active revision; an older bouncer reads 'promote' as 'push'. */
  readonly action: 'push' | 'rollback' | 'promote';
}

export interface RevisionInfo {
  readonly bundle: string;
  readonly sequence: number;
  readonly revision: string;
  readonly digest: string;
  readonly created?: Date;
  readonly sizeBytes: number;
}

export function roleOf(cm: V1ConfigMap): 'pointer' | 'revision' | undefined {
  const role = cm.metadata?.labels?.[LABEL_ROLE];
  return role === 'pointer' || role === 'revision' ? role : undefined;
}

export function bundleOf(cm: V1ConfigMap): string | undefined {
  return cm.metadata?.labels?.[LABEL_BUNDLE];
}

/** Reads a pointer ConfigMap; undefined when it is not a well-formed pointer. */
export function readPointer(cm: V1ConfigMap): Pointer | undefined {
  const bundle = bundleOf(cm);
  const d = cm.data ?? {};
  const sequence = Number(d.sequence);
  if (!bundle || roleOf(cm) !== 'pointer' || !Number.isInteger(sequence) || sequence < 1) return undefined;
  return {
    bundle,
    sequence,
    revision: d.revision ?? '',
    digest: d.sha256 ?? '',
    publishedAt: Number(d.publishedAt) || 0,
    action: d.action === 'rollback' ? 'rollback' : d.action === 'promote' ? 'promote' : 'push',
    ...readRolloutFields(d),
  };
}

export function pointerData(p: Pointer): Record<string, string> {
  return { sequence: String(p.sequence), revision: p.revision, sha256: p.digest, publishedAt: String(p.publishedAt), action: p.action };
}

export function readRevisionInfo(cm: V1ConfigMap): RevisionInfo | undefined {
  const bundle = bundleOf(cm);
  const a = cm.metadata?.annotations ?? {};
  const sequence = Number(a[ANNOTATION_SEQUENCE]);
  if (!bundle || roleOf(cm) !== 'revision' || !Number.isInteger(sequence)) return undefined;
  const data = cm.binaryData?.[BUNDLE_KEY];
  return {
    bundle,
    sequence,
    revision: a[ANNOTATION_REVISION] ?? '',
    digest: a[ANNOTATION_DIGEST] ?? '',
    ...(cm.metadata?.creationTimestamp ? { created: new Date(cm.metadata.creationTimestamp) } : {}),
    sizeBytes: data ? Buffer.byteLength(data, 'base64') : 0,
  };
}

/** The bundle bytes of a revision ConfigMap. */
export function revisionBytes(cm: V1ConfigMap): Uint8Array {
  const data = cm.binaryData?.[BUNDLE_KEY];
  if (!data) throw new BouncerError('BUNDLE_CORRUPT', `ConfigMap ${cm.metadata?.name} has no binaryData.${BUNDLE_KEY}`);
  return Buffer.from(data, 'base64');
}

/** What one replica reports on a pointer (and on a refused revision). */
export interface ReplicaStatus {
  readonly state: 'active' | 'refused' | 'removed';
  readonly sequence: number;
  readonly revision: string;
  readonly at: string;
  readonly code?: string;
  readonly reason?: string;
  /** The sequence this replica keeps serving after a refusal. */
  readonly serving?: number;
}
