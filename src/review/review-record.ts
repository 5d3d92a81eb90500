// A recorded review: what `bouncer replay` needs to evaluate the same review again under
// another policy set and compare. It is an OPA decision-log event (EventV1's field names, so
// OPA tooling reads it: decision_id, path, input, result, nd_builtin_cache, masked, bundles,
// labels, requested_by, timestamp) whose input is the AdmissionReview as the policies saw it,
// masked as the decision log masks it (redact.ts), and whose result is bouncer's decision.
// https://www.openpolicyagent.org/docs/management-decision-logs
//
// Determinism: the only non-deterministic builtin the WASM runtime offers is time.now_ns.
// When any bundle of the set imports it, the record carries the time every policy of the
// review saw (the reviewer pins one per review, ReviewerDeps.clockNs) as OPA's nd_builtin_cache
// does: {"time.now_ns": {"[]": <ns>}}, the key being the JSON of the (empty) argument list.
import type { Endpoint } from '../admission/respond.js';
import type { AdmissionRequest, JsonPatchOperation } from '../admission/types.js';
import type { PolicySet } from '../bundles/policy-set.js';
import type { Decision } from './decision.js';
import { redactInput } from './redact.js';

/** Version of the record's own fields (labels.record_version). */
export const REVIEW_RECORD_VERSION = '1';

/** The OPA `path` of a record: the decision queried. */
export const recordPath = (endpoint: Endpoint): string => `bouncer/${endpoint}`;

export interface RecordedPolicy {
  readonly policy: string;
  readonly bundle: string;
  readonly enforcement: string;
  readonly failure: string;
  readonly action: string;
  readonly messages: readonly string[];
  readonly warnings: readonly string[];
  readonly error?: { readonly code: string; readonly class: string };
}

export interface RecordedResult {
  readonly allowed: boolean;
  readonly code?: number;
  readonly message?: string;
  readonly warnings: readonly string[];
  readonly patch?: readonly JsonPatchOperation[];
  readonly policies: readonly RecordedPolicy[];
  /** The outcomes came from the decision cache (computed for an earlier review of the same content). */
  readonly cached?: boolean;
}

export interface ReviewRecord {
  readonly decision_id: string;
  readonly timestamp: string;
  readonly path: string;
  readonly input: { readonly apiVersion: string; readonly kind: string; readonly request: Record<string, unknown> };
  readonly result: RecordedResult;
  readonly nd_builtin_cache?: { readonly 'time.now_ns': { readonly '[]': bigint } };
  /** JSON pointers into the event (/input/request/object/...) whose values were masked. */
  readonly masked?: readonly string[];
  readonly bundles: Readonly<Record<string, { readonly revision: string }>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly requested_by?: string;
}

export interface RecordOptions {
  /** The set that decided (its bundles, digest and builtins); ignored when its revision is not the decision's. */
  readonly set: PolicySet | undefined;
  /** Further JSON pointers to mask, relative to the object (--decision-log-mask). */
  readonly maskPointers: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
  readonly now?: Date;
}

/** Whether a policy of the set may call time.now_ns (its module imports it from the host). */
export function setReadsClock(set: PolicySet): boolean {
  return set.bundles.some((b) => b.wasm.hostBuiltins.includes('time.now_ns'));
}

export function toReviewRecord(decision: Decision, review: { readonly apiVersion?: string; readonly kind?: string; readonly request: AdmissionRequest }, options: RecordOptions): ReviewRecord {
  const request = review.request;
  const masked = redactInput({ object: request.object ?? null, oldObject: request.oldObject ?? null }, options.maskPointers);
  const set = options.set && options.set.revision === decision.revision ? options.set : undefined;
  const clock = set && decision.nowNs !== undefined && setReadsClock(set) ? { 'time.now_ns': { '[]': decision.nowNs } } : undefined;
  const maskedRequest: Record<string, unknown> = { ...request };
  if (request.object !== undefined) maskedRequest.object = masked.value.object;
  if (request.oldObject !== undefined) maskedRequest.oldObject = masked.value.oldObject;
  return {
    decision_id: decision.id,
    timestamp: (options.now ?? new Date()).toISOString(),
    path: recordPath(decision.endpoint),
    input: { apiVersion: review.apiVersion ?? 'admission.k8s.io/v1', kind: review.kind ?? 'AdmissionReview', request: maskedRequest },
    result: {
      allowed: decision.allowed,
      ...(decision.code === undefined ? {} : { code: decision.code }),
      ...(decision.message === undefined ? {} : { message: decision.message }),
      warnings: decision.warnings,
      ...(decision.patch && decision.patch.length > 0 ? { patch: decision.patch } : {}),
      policies: decision.outcomes.map((o) => ({
        policy: o.policy,
        bundle: o.bundle,
        enforcement: o.enforcement,
        failure: o.failure,
        action: o.action,
        messages: o.violations.map((v) => v.msg),
        warnings: o.warnings.map((v) => v.msg),
        ...(o.error ? { error: { code: o.error.code, class: o.error.class } } : {}),
      })),
      ...(decision.cached ? { cached: true } : {}),
    },
    ...(clock ? { nd_builtin_cache: clock } : {}),
    ...(masked.masked.length > 0 ? { masked: masked.masked.map((p) => `/input/request${p}`) } : {}),
    bundles: Object.fromEntries((set?.bundles ?? []).map((b) => [b.name, { revision: b.revision }])),
    labels: {
      ...options.labels,
      app: 'bouncer',
      record_version: REVIEW_RECORD_VERSION,
      endpoint: decision.endpoint,
      policy_set: decision.revision ?? '',
      ...(set ? { policy_set_digest: set.digest } : {}),
    },
    ...(request.userInfo.username ? { requested_by: request.userInfo.username } : {}),
  };
}

/** Stands in for the recorded time while the line is serialized (a JSON string no UUID contains). */
const NOW_PLACEHOLDER = '\u0000now_ns';

/**
 * One record as a JSON line. The recorded time is written as the exact integer OPA writes
 * (beyond 2^53, which JSON.parse would round: replay reads it from the text). It is written
 * second, after the decision id, so the placeholder replaced is this one and never a copy of
 * it in the request's content; JSON.stringify runs without a replacer (one call per value
 * would triple the cost of a large object).
 */
export function reviewRecordLine(record: ReviewRecord): string {
  const { decision_id, nd_builtin_cache, ...rest } = record;
  if (!nd_builtin_cache) return JSON.stringify(record);
  const text = JSON.stringify({ decision_id, nd_builtin_cache: { 'time.now_ns': { '[]': NOW_PLACEHOLDER } }, ...rest });
  return text.replace(JSON.stringify(NOW_PLACEHOLDER), String(nd_builtin_cache['time.now_ns']['[]']));
}
