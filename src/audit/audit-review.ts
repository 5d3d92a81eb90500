// An existing object as the AdmissionReview the audit evaluates: a CREATE of the object, as
// the issue asks and as close to what Gatekeeper's audit sends its templates as bouncer's
// request shape allows (pkg/target/target.go unstructuredToAdmissionRequest: kind, name,
// namespace and object; no userInfo, no oldObject). Differences, each needed by the shared
// reviewer: the operation is CREATE (Gatekeeper leaves it empty), the resource is filled from
// discovery (native scopes match by resource), and the uid is derived from the run and the
// object (Gatekeeper sends none). The bytes go through the webhook's own decoder
// (admission/decode.ts), so the review is checked exactly as an admission request is.
import { createHash } from 'node:crypto';
import { decodeReview } from '../admission/decode.js';
import type { AdmissionReview } from '../admission/types.js';
import { BouncerError } from '../errors/errors.js';
import type { AuditResource } from './types.js';
import type { ApiResource } from './cluster-access.js';

export interface AuditSubject {
  readonly resource: AuditResource;
  readonly review: AdmissionReview;
  readonly bytes: Uint8Array;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const encoder = new TextEncoder();

/** A request uid for the object in this run: a UUID-shaped digest of both, the same for a rerun of one run. */
export function auditRequestUid(runId: string, objectUid: string): string {
  const h = createHash('sha256').update(runId).update('\u0000').update(objectUid).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function invalid(message: string, details: Record<string, unknown>, cause?: unknown): BouncerError {
  return new BouncerError('AUDIT_OBJECT_INVALID', message, { details, ...(cause === undefined ? {} : { cause }) });
}

/** The identity of a listed object; throws AUDIT_OBJECT_INVALID when it has no name or uid. */
export function auditResource(api: ApiResource, item: unknown): AuditResource {
  const apiVersion = api.group === '' ? api.version : `${api.group}/${api.version}`;
  const where = { apiVersion, kind: api.kind };
  if (!isObject(item) || !isObject(item.metadata)) throw invalid(`a listed ${api.kind} is not an object with metadata`, where);
  const m = item.metadata;
  if (typeof m.name !== 'string' || m.name === '') throw invalid(`a listed ${api.kind} has no metadata.name`, where);
  const namespace = typeof m.namespace === 'string' ? m.namespace : '';
  if (typeof m.uid !== 'string' || m.uid === '') throw invalid(`${api.kind} ${namespace ? `${namespace}/` : ''}${m.name} has no metadata.uid`, { ...where, namespace, name: m.name });
  if (api.namespaced && namespace === '') throw invalid(`${api.kind} ${m.name} is namespaced but has no metadata.namespace`, { ...where, name: m.name });
  return {
    apiVersion,
    kind: api.kind,
    namespace: api.namespaced ? namespace : '',
    name: m.name,
    uid: m.uid,
    ...(typeof m.resourceVersion === 'string' ? { resourceVersion: m.resourceVersion } : {}),
  };
}

/** The review of `item` (checked by auditResource) as a CREATE; throws AUDIT_OBJECT_INVALID when the decoder refuses it. */
export function auditReview(api: ApiResource, item: Json, resource: AuditResource, runId: string): AuditSubject {
  const kind = { group: api.group, version: api.version, kind: api.kind };
  const gvr = { group: api.group, version: api.version, resource: api.resource };
  // List items of built-in kinds come without apiVersion and kind; admission's object has them.
  const object = item.apiVersion === resource.apiVersion && item.kind === api.kind ? item : { apiVersion: resource.apiVersion, kind: api.kind, ...item };
  const request = {
    uid: auditRequestUid(runId, resource.uid),
    kind,
    resource: gvr,
    requestKind: kind,
    requestResource: gvr,
    name: resource.name,
    ...(resource.namespace ? { namespace: resource.namespace } : {}),
    operation: 'CREATE',
    userInfo: {},
    object,
    oldObject: null,
  };
  let bytes: Uint8Array;
  try {
    bytes = encoder.encode(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request }));
  } catch (cause) {
    throw invalid(`${api.kind} ${resource.name} cannot be serialized: ${(cause as Error).message}`, { uid: resource.uid }, cause);
  }
  try {
    return { resource, review: decodeReview(bytes), bytes };
  } catch (cause) {
    throw invalid(`${api.kind} ${resource.namespace ? `${resource.namespace}/` : ''}${resource.name} is not a reviewable object: ${(cause as Error).message}`, { uid: resource.uid }, cause);
  }
}
