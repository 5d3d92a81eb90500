// AdmissionReview admission.k8s.io/v1, the part bouncer reads and writes.
// https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#request

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
export const OPERATIONS: readonly Operation[] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface GroupVersionResource {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
}

export interface UserInfo {
  readonly username?: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
}

/** A checked AdmissionRequest: the fields bouncer relies on are present and typed. */
export interface AdmissionRequest {
  readonly uid: string;
  readonly kind: GroupVersionKind;
  readonly resource: GroupVersionResource;
  readonly subResource?: string;
  readonly requestKind?: GroupVersionKind;
  readonly name?: string;
  readonly namespace?: string;
  readonly operation: Operation;
  readonly userInfo: UserInfo;
  readonly object?: unknown;
  readonly oldObject?: unknown;
  /** object.metadata, read without parsing the whole object (undefined when absent or not an object). */
  readonly objectMetadata?: Readonly<Record<string, unknown>>;
  /** oldObject.metadata, read the same way. */
  readonly oldObjectMetadata?: Readonly<Record<string, unknown>>;
  readonly dryRun?: boolean;
}

export interface AdmissionReview {
  readonly apiVersion: typeof ADMISSION_API_VERSION;
  readonly kind: 'AdmissionReview';
  readonly request: AdmissionRequest;
  /** A digest of the review's bytes without request.uid (decoded from bytes only; computed on demand). */
  readonly contentDigest?: () => string;
}

export interface Status {
  readonly code: number;
  readonly message: string;
  readonly reason?: string;
}

export interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: boolean;
  readonly status?: Status;
  readonly patch?: string;
  readonly patchType?: 'JSONPatch';
  readonly warnings?: readonly string[];
  readonly auditAnnotations?: Readonly<Record<string, string>>;
}

export interface AdmissionReviewResponse {
  readonly apiVersion: typeof ADMISSION_API_VERSION;
  readonly kind: 'AdmissionReview';
  readonly response: AdmissionResponse;
}

export interface JsonPatchOperation {
  readonly op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  readonly path: string;
  readonly value?: unknown;
  readonly from?: string;
}

/**
 * The member bouncer adds in front of a review to make the policy input of Gatekeeper
 * templates (bundles/gatekeeper-input.ts); a review that brings its own is refused.
 */
export const CONTEXT_MEMBER = '__bouncer';
