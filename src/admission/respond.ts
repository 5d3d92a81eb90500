// Response constructors. Every answer goes through `toReview`, which enforces the rules
// the API server applies to webhook responses, so no caller can break them:
// - the request uid is echoed;
// - a patch only with patchType JSONPatch, base64-encoded, and never from a validating webhook
//   or on DELETE/CONNECT (the API server rejects a validating response carrying a patch);
// - warnings are short, deduplicated and capped (kubectl prints each on its own line;
//   the API server truncates the total);
// - audit annotation keys are qualified names without '/': the API server prefixes each
//   with "<webhook name>/" and silently drops a key that is not valid.
//   https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#response
import type { BouncerError } from '../errors/errors.js';
import {
  ADMISSION_API_VERSION,
  type AdmissionResponse,
  type AdmissionReviewResponse,
  type JsonPatchOperation,
  type Operation,
} from './types.js';

export const MAX_WARNINGS = 10;
export const MAX_WARNING_LENGTH = 120;
/** Kubernetes limits a whole denial to 1 KiB-ish in kubectl's output; keep ours bounded too. */
export const MAX_MESSAGE_LENGTH = 4096;
const MAX_ANNOTATION_VALUE = 1024;
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

export type Endpoint = 'validate' | 'mutate';

export interface Answer {
  readonly allowed: boolean;
  /** For denials: HTTP-style status code (403 for policy denials, 500 for errors). */
  readonly code?: number;
  readonly reason?: string;
  readonly message?: string;
  readonly warnings?: readonly string[];
  readonly patch?: readonly JsonPatchOperation[];
  readonly auditAnnotations?: Readonly<Record<string, string>>;
}

/**
 * Replaces control characters with spaces (they garble terminals and logs) and truncates with
 * an ellipsis. A denial message keeps its newlines: Gatekeeper's form is one `[constraint] msg`
 * line per violation, and kubectl prints them as lines.
 */
export function clip(text: string, max: number, options: { newlines?: boolean } = {}): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(options.newlines ? /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g : /[\u0000-\u001f\u007f-\u009f]/g, ' ');
  return clean.length <= max ? clean : `${clean.slice(0, max - 1)}…`;
}

export function normalizeWarnings(warnings: readonly string[]): string[] {
  const unique = [...new Set(warnings.map((w) => clip(w, MAX_WARNING_LENGTH)))];
  if (unique.length <= MAX_WARNINGS) return unique;
  const kept = unique.slice(0, MAX_WARNINGS - 1);
  kept.push(`… and ${unique.length - kept.length} more warnings`);
  return kept;
}

export function isAuditAnnotationKey(key: string): boolean {
  return QUALIFIED_NAME.test(key);
}

function annotations(input: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(input)) {
    if (!isAuditAnnotationKey(key)) throw new Error(`audit annotation key ${JSON.stringify(key)} is not a qualified name`);
    out[key] = clip(value, MAX_ANNOTATION_VALUE);
  }
  return out;
}

/** Builds the AdmissionReview answer for `uid`, applying the API server's rules above. */
export function toReview(uid: string, endpoint: Endpoint, operation: Operation | undefined, answer: Answer): AdmissionReviewResponse {
  const patchAllowed = endpoint === 'mutate' && operation !== 'DELETE' && operation !== 'CONNECT';
  const patch = answer.allowed && patchAllowed && answer.patch && answer.patch.length > 0 ? answer.patch : undefined;
  const warnings = answer.warnings ? normalizeWarnings(answer.warnings) : [];
  const audit = answer.auditAnnotations ? annotations(answer.auditAnnotations) : {};
  const response: AdmissionResponse = {
    uid,
    allowed: answer.allowed,
    ...(answer.allowed
      ? {}
      : {
          status: {
            code: answer.code ?? 403,
            message: clip(answer.message ?? 'denied by bouncer', MAX_MESSAGE_LENGTH, { newlines: true }),
            ...(answer.reason ? { reason: answer.reason } : {}),
          },
        }),
    ...(patch ? { patch: Buffer.from(JSON.stringify(patch)).toString('base64'), patchType: 'JSONPatch' as const } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
    ...(Object.keys(audit).length > 0 ? { auditAnnotations: audit } : {}),
  };
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}

/** The deliberate denial for a review that names its uid but cannot be evaluated. */
export function rejectedReview(uid: string, endpoint: Endpoint, err: BouncerError): AdmissionReviewResponse {
  return toReview(uid, endpoint, undefined, {
    allowed: false,
    code: err.status,
    reason: err.code,
    message: `bouncer cannot evaluate this request: ${err.message}`,
    auditAnnotations: { decision: 'rejected', 'rejected-code': err.code },
  });
}
