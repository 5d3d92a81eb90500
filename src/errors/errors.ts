// The error registry: every failure bouncer reports has a stable code, a one-line
// meaning, and the HTTP status it maps to at the edge. Codes never change once released;
// docs/errors.md documents each (a test keeps the two in step).

export const ERRORS = {
  // Request decoding (the HTTP edge answers these with a 4xx).
  REVIEW_EMPTY: { status: 400, meaning: 'the request body is empty' },
  REVIEW_TOO_LARGE: { status: 413, meaning: 'the request body exceeds the configured limit' },
  REVIEW_CONTENT_TYPE: { status: 415, meaning: 'the request is not application/json' },
  REVIEW_NOT_JSON: { status: 400, meaning: 'the request body is not valid UTF-8 JSON' },
  REVIEW_UNSUPPORTED_VERSION: { status: 400, meaning: 'only admission.k8s.io/v1 AdmissionReview is accepted' },
  REVIEW_INVALID: { status: 400, meaning: 'the AdmissionReview is missing or has malformed required fields' },
  // Evaluation (turned into an admission answer by the policy's failure mode).
  POLICY_EVAL_FAILED: { status: 500, meaning: 'a policy raised an error while evaluating' },
  POLICY_RESULT_INVALID: { status: 500, meaning: 'a policy returned a result of the wrong shape' },
  POLICY_PATCH_CONFLICT: { status: 500, meaning: 'two policies patch the same path differently' },
  POLICY_PATCH_INVALID: { status: 500, meaning: "a policy's patch does not apply to the object" },
  NO_POLICY_SET: { status: 503, meaning: 'no policy set is active yet' },
  INTERNAL: { status: 500, meaning: 'an unexpected internal error; the request is denied' },
  // Bundles (a refused bundle never replaces the active one).
  BUNDLE_CORRUPT: { status: 400, meaning: 'the bundle is not a readable gzipped tarball' },
  BUNDLE_MANIFEST_INVALID: { status: 400, meaning: 'the bundle manifest is missing or malformed' },
  BUNDLE_WASM_INVALID: { status: 400, meaning: "the bundle's policy.wasm does not compile or instantiate" },
  BUNDLE_DATA_INVALID: { status: 400, meaning: "the bundle's data.json does not load" },
  BUNDLE_BUILTIN_UNSUPPORTED: { status: 400, meaning: 'the policy needs a builtin the WASM runtime does not implement' },
  BUNDLE_SIGNATURE_INVALID: { status: 400, meaning: 'the bundle is unsigned, signed by another key, or a file does not match its signed hash' },
  BUNDLE_REVISION_OLDER: { status: 409, meaning: 'the revision is older than the active one and did not come through a rollback' },
  BUNDLE_TOO_LARGE: { status: 413, meaning: 'the bundle does not fit in a ConfigMap (1 MiB)' },
  BUNDLE_SELF_CHECK_FAILED: { status: 400, meaning: "the bundle's policies fail to evaluate a probe review" },
  // Configuration and tooling.
  CLUSTER_FAILED: { status: 502, meaning: 'a call to the Kubernetes API failed (unreachable, unauthenticated or forbidden)' },
  CONFIG_INVALID: { status: 500, meaning: 'a setting is missing or invalid' },
  TLS_INVALID: { status: 500, meaning: 'the TLS certificate or key cannot be used' },
  OPA_FAILED: { status: 500, meaning: 'the OPA CLI failed' },
  POLICY_SOURCE_INVALID: { status: 400, meaning: 'a policy directory does not follow the policy contract' },
  INPUT_INVALID: { status: 400, meaning: 'an input file cannot be read as AdmissionReview documents' },
  // Evaluation cut by time (decided by the policy's failure mode, like POLICY_EVAL_FAILED).
  POLICY_TIMEOUT: { status: 500, meaning: "a policy ran past its time budget (--policy-timeout, or what was left of the review's --review-timeout) and was stopped" },
  POLICY_NOT_EVALUATED: { status: 503, meaning: "a policy was not started: the review's time budget ran out first, or every worker was busy past the queue bound" },
  // Bundle load budgets (the last good revision keeps serving).
  BUNDLE_LOAD_TIMEOUT: { status: 400, meaning: 'loading the bundle (compile, instantiate, data, self-check) ran past its time budget' },
  BUNDLE_OVER_BUDGET: { status: 400, meaning: 'loading the bundle needed more memory than its budget' },
  // Admission control at the edge (src/http/admission-gate.ts).
  OVERLOADED: { status: 503, meaning: "bouncer is at capacity: the request's body would take the buffered bytes past their bound; retry later" },
  // bouncer import gatekeeper (src/gatekeeper/import-*.ts, src/cluster/gatekeeper-objects.ts).
  IMPORT_INPUT_INVALID: { status: 400, meaning: 'an input of bouncer import cannot be read, or holds two different objects under one name' },
  IMPORT_TARGET_NOT_EMPTY: { status: 409, meaning: "the output directory's gatekeeper/ folder already holds files (--force replaces that folder)" },
  GATEKEEPER_NOT_INSTALLED: { status: 404, meaning: 'the cluster serves no ConstraintTemplates (templates.gatekeeper.sh): Gatekeeper is not installed there' },
  // bouncer verify (gator suites).
  SUITE_INVALID: { status: 400, meaning: 'a gator verify suite, a path given to bouncer verify, or a --run filter cannot be read' },
  INVENTORY_UNAVAILABLE: { status: 503, meaning: 'a policy reads replicated cluster objects (data.inventory) of a kind that is not usable now (not listed yet, stale, over the memory budget, or not listable); the policy was not evaluated and its failure mode decided' },
  UNINSTALL_REFUSED: { status: 409, meaning: 'bouncer uninstall stopped before removing the backend: another webhook still sends Fail requests to its namespace, or the API server still calls the deleted webhooks' },
  // Replicated cluster data (src/inventory/store.ts, src/cluster/inventory-replicator.ts, src/engine/evaluator.ts applyData); a policy reading a kind in any of these states fails by its failure mode.
  INVENTORY_KIND_UNAVAILABLE: { status: 503, meaning: 'a replicated kind is not served by the API server (no such group, version or kind: a missing or deleted CRD); retried with backoff' },
  INVENTORY_KIND_FORBIDDEN: { status: 503, meaning: "bouncer's service account may not list or watch a replicated kind (RBAC): a ClusterRole rule granting the verb is missing" },
  INVENTORY_KIND_FAILED: { status: 503, meaning: 'listing or watching a replicated kind failed repeatedly (API server unreachable or answering errors); retried with backoff' },
  INVENTORY_OBJECT_INVALID: { status: 502, meaning: 'an object the API server sent for a replicated kind cannot be read (not JSON, or no metadata.name); it is skipped' },
  INVENTORY_OVER_BUDGET: {
    status: 503,
    meaning: "the replicated data reached its memory budget (--inventory-max-mb: further objects are refused and the kinds missing them are not usable), or does not fit a policy instance's WASM memory (--max-memory-mb: the bundle's policies fail by their failure mode until it fits)",
  },
  INVENTORY_STALE: { status: 503, meaning: 'a replicated kind was not confirmed current (list, watch event or bookmark) within the staleness bound (--inventory-max-staleness)' },
  INVENTORY_DATA_INVALID: {
    status: 500,
    meaning: "a change to the replicated cluster data could not be applied to a policy instance; the bundle's policies fail by their failure mode until its data is put whole again",
  },
  // The background audit and bouncer audit (src/audit/).
  AUDIT_KIND_UNLISTABLE: { status: 502, meaning: 'a kind could not be listed completely in an audit run (forbidden, no longer served, past the kinds bound, or the API server kept failing); the run goes on with the other kinds' },
  AUDIT_OBJECT_INVALID: { status: 400, meaning: 'a listed object cannot be reviewed (not an object, no name or uid, or bytes the decoder refuses); it is counted and skipped' },
  AUDIT_LIST_EXPIRED: { status: 410, meaning: "a list's continue token expired (410 Gone) before the kind was read to the end; the kind is listed again from the start" },
  AUDIT_RUN_FAILED: { status: 500, meaning: 'an audit run ended before it completed (discovery failed, the lease was lost, or bouncer is stopping); nothing of it is reported' },
  // Audit reports (a report that cannot be written is recorded; the others are still written).
  REPORT_CRD_MISSING: { status: 404, meaning: "the cluster does not serve the audit report kinds: their CRDs (manifests/base/crds/) are not installed" },
  REPORT_TOO_LARGE: { status: 413, meaning: 'the API server refused an audit report as too large, even with its results cut to the floor' },
  REPORT_CONFLICT: { status: 409, meaning: 'an audit report kept changing under the writer (409 Conflict) past its retries' },
  REPORT_WRITE_FAILED: { status: 502, meaning: 'the API server refused to write or delete an audit report' },
  // Policy exceptions (docs/exceptions.md).
  EXCEPTION_INVALID: {
    status: 400,
    meaning: 'a policy exception is refused (at build, or when its bundle is loaded): no known policy, no or an unreadable expiresAt, an expiry beyond --exception-max-days, an over-broad match, or a malformed selector',
  },
  // Rollout of a candidate revision (shadow, canary, promotion).
  ROLLOUT_CONFLICT: { status: 409, meaning: "the bundle's pointer does not allow this step now (a candidate already in progress, or none to promote or roll back)" },
  ROLLOUT_CANDIDATE_REFUSED: { status: 400, meaning: 'a shadow or canary candidate revision did not load; the active revision keeps serving alone' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** An error with a stable code; `cause` keeps the underlying failure for the log. */
export class BouncerError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BouncerError';
    this.code = code;
    this.details = options.details;
  }

  get status(): number {
    return ERRORS[this.code].status;
  }
}

export function isBouncerError(err: unknown, code?: ErrorCode): err is BouncerError {
  return err instanceof BouncerError && (code === undefined || err.code === code);
}

/**
 * A readable one-line description of anything thrown. The opa-wasm SDK throws strings
 * and plain objects, not Errors, so `String(err)` would print "[object Object]".
 */
export function describeThrown(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  if (typeof err === 'object' && err !== null && 'message' in err && typeof err.message === 'string') return err.message;
  try {
    // A plain object thrown by the SDK: its fields are the whole message.
    // eslint-disable-next-line no-restricted-syntax
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}

/** Whether `code` is one of bouncer's error codes (for codes carried as plain strings across layers). */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERRORS, code);
}
