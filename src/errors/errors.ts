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
  // Audit reports (a report that cannot be written is recorded; the others are still written).
  REPORT_CRD_MISSING: { status: 404, meaning: "the cluster does not serve the audit report kinds: their CRDs (manifests/base/crds/) are not installed" },
  REPORT_TOO_LARGE: { status: 413, meaning: 'the API server refused an audit report as too large, even with its results cut to the floor' },
  REPORT_CONFLICT: { status: 409, meaning: 'an audit report kept changing under the writer (409 Conflict) past its retries' },
  REPORT_WRITE_FAILED: { status: 502, meaning: 'the API server refused to write or delete an audit report' },
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
