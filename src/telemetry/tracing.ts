// The tracing interface the webhook server and the reviewer are given (optional: without it
// they do no tracing work at all). Its one implementation, otel-tracing.ts, is the only code
// that touches the OpenTelemetry SDK, and main.ts loads it only when tracing is configured.
//
// Span tree of one admission request, joined to the API server's trace by its W3C
// `traceparent` header:
//   POST /validate (server)            admission.request.*, admission.response.*, http.*
//   └─ review                          bouncer.bundle.revision, bouncer.decision.cached
//      ├─ GET namespaces/{name} (client)  a Kubernetes read on the request path
//      └─ policy {id}                  bouncer.policy.id, bouncer.policy.action, ...
// Attribute names follow Kyverno's (pkg/tracing: admission.request.*, admission.response.*).
// Never recorded: object bodies, patches, policy messages (a message may quote the object),
// user extra fields; every string is cut to MAX_ATTRIBUTE_LENGTH.

/** Longest string attribute value; longer ones are cut (the SDK's span limit says the same). */
export const MAX_ATTRIBUTE_LENGTH = 256;
/** Most items of an array attribute (user groups). */
export const MAX_ARRAY_ITEMS = 32;

export type AttributeValue = string | number | boolean | string[];
export type Attributes = Record<string, AttributeValue>;

/** What of an AdmissionRequest goes on the server span (structurally an AdmissionRequest). */
export interface TracedRequest {
  readonly uid: string;
  readonly kind: { readonly group: string; readonly version: string; readonly kind: string };
  readonly resource?: { readonly group: string; readonly version: string; readonly resource: string };
  readonly subResource?: string;
  readonly requestKind?: { readonly group: string; readonly version: string; readonly kind: string };
  readonly requestResource?: { readonly group: string; readonly version: string; readonly resource: string };
  readonly requestSubResource?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly operation: string;
  readonly dryRun?: boolean;
  readonly userInfo: { readonly username?: string; readonly uid?: string; readonly groups?: readonly string[] };
}

/** What of a policy's outcome goes on its span (structurally a PolicyOutcome). */
export interface TracedOutcome {
  readonly policy: string;
  readonly bundle: string;
  readonly action: string;
  readonly enforcement: string;
  readonly failure: string;
  readonly error?: { readonly code: string; readonly class: string };
  readonly constraint?: { readonly kind: string; readonly name: string };
}

/** What of a Decision goes on the spans (structurally a Decision). */
export interface TracedDecision {
  readonly allowed: boolean;
  readonly code?: number;
  readonly warnings: readonly string[];
  readonly revision: string | undefined;
  readonly outcomes: readonly TracedOutcome[];
  readonly cached?: boolean;
  readonly patch?: readonly unknown[];
}

/** The review's span (the decision), live from start to end. */
export interface ReviewSpan {
  /**
   * Runs the policy evaluation and times it: each outcome's span (recorded at end()) covers
   * this window, the time the review's policies were running (they run as one task in a
   * worker, so one policy's own share is not measured).
   */
  evaluation<T>(run: () => Promise<T>): Promise<T>;
  /** Ends the span with the decision's attributes and records one span per policy outcome. */
  end(decision: TracedDecision): void;
}

/** One webhook request's server span and what hangs under it. */
export interface RequestTrace {
  /** The trace id when this request is sampled (for exemplars), else undefined. */
  readonly sampledTraceId: string | undefined;
  /** Adds the admission.request.* attributes of the decoded review. */
  admission(request: TracedRequest): void;
  /** Adds the admission.response.* attributes of the answer. */
  response(uid: string, decision: TracedDecision): void;
  /** Starts the review (decision) span, a child of the server span. */
  review(): ReviewSpan;
  /** A client span around a call to the Kubernetes API made on the request path. */
  client<T>(name: string, attributes: Attributes, call: () => Promise<T>): Promise<T>;
  /** Ends the server span with the HTTP status (and an error description for a 5xx). */
  end(statusCode: number): void;
}

export interface Tracing {
  /** Starts the server span of a webhook request, its parent read from the W3C trace context headers. */
  startRequest(request: { readonly method: string; readonly path: string; readonly traceparent?: string; readonly tracestate?: string }): RequestTrace;
  /** Runs `fn` with `trace` as the current request (the reviewer finds it with current()). */
  run<T>(trace: RequestTrace, fn: () => T): T;
  /** The request whose handling is running now, if any. */
  current(): RequestTrace | undefined;
  /** Exports what is buffered, then stops. */
  shutdown(): Promise<void>;
}

/** `text` cut to MAX_ATTRIBUTE_LENGTH characters (never inside a surrogate pair). */
export function bounded(text: string): string {
  if (text.length <= MAX_ATTRIBUTE_LENGTH) return text;
  const cut = text.charCodeAt(MAX_ATTRIBUTE_LENGTH - 1);
  return text.slice(0, cut >= 0xd800 && cut <= 0xdbff ? MAX_ATTRIBUTE_LENGTH - 1 : MAX_ATTRIBUTE_LENGTH);
}

/** Kyverno's admission.request.* attributes of a request (pkg/tracing/tracing.go). */
export function requestAttributes(r: TracedRequest): Attributes {
  const a: Attributes = {
    'admission.request.uid': bounded(r.uid),
    'admission.request.operation': bounded(r.operation),
    'admission.request.kind.group': bounded(r.kind.group),
    'admission.request.kind.version': bounded(r.kind.version),
    'admission.request.kind.kind': bounded(r.kind.kind),
    'admission.request.dryrun': r.dryRun === true,
    'admission.request.name': bounded(r.name ?? ''),
    'admission.request.namespace': bounded(r.namespace ?? ''),
    'admission.request.subresource': bounded(r.subResource ?? ''),
    'admission.request.user.name': bounded(r.userInfo.username ?? ''),
    'admission.request.user.uid': bounded(r.userInfo.uid ?? ''),
    'admission.request.user.groups': (r.userInfo.groups ?? []).slice(0, MAX_ARRAY_ITEMS).map(bounded),
  };
  if (r.resource) {
    a['admission.request.resource.group'] = bounded(r.resource.group);
    a['admission.request.resource.version'] = bounded(r.resource.version);
    a['admission.request.resource.resource'] = bounded(r.resource.resource);
  }
  if (r.requestKind) {
    a['admission.request.requestkind.group'] = bounded(r.requestKind.group);
    a['admission.request.requestkind.version'] = bounded(r.requestKind.version);
    a['admission.request.requestkind.kind'] = bounded(r.requestKind.kind);
  }
  if (r.requestResource) {
    a['admission.request.requestresource.group'] = bounded(r.requestResource.group);
    a['admission.request.requestresource.version'] = bounded(r.requestResource.version);
    a['admission.request.requestresource.resource'] = bounded(r.requestResource.resource);
  }
  if (r.requestSubResource !== undefined) a['admission.request.requestsubresource'] = bounded(r.requestSubResource);
  return a;
}

/** Kyverno's admission.response.* attributes; the result message and warnings' text are left out (they may quote the object). */
export function responseAttributes(uid: string, d: TracedDecision): Attributes {
  return {
    'admission.response.uid': bounded(uid),
    'admission.response.allowed': d.allowed,
    'admission.response.result.code': d.code ?? 200,
    'bouncer.response.warnings': d.warnings.length,
    ...(d.patch && d.patch.length > 0 ? { 'admission.response.patchtype': 'JSONPatch' } : {}),
  };
}

/** The review span's own attributes. */
export function reviewAttributes(d: TracedDecision): Attributes {
  return {
    'bouncer.bundle.revision': bounded(d.revision ?? ''),
    'bouncer.decision.cached': d.cached === true,
    'bouncer.decision.allowed': d.allowed,
    'bouncer.policies': d.outcomes.length,
  };
}

/** A policy outcome's span attributes. */
export function outcomeAttributes(o: TracedOutcome, cached: boolean): Attributes {
  return {
    'bouncer.policy.id': bounded(o.policy),
    'bouncer.policy.bundle': bounded(o.bundle),
    'bouncer.policy.action': o.action,
    'bouncer.policy.enforcement': o.enforcement,
    'bouncer.policy.failure_mode': o.failure,
    'bouncer.decision.cached': cached,
    ...(o.error ? { 'bouncer.policy.error.code': o.error.code, 'bouncer.policy.error.class': bounded(o.error.class) } : {}),
    ...(o.constraint ? { 'bouncer.constraint.kind': bounded(o.constraint.kind), 'bouncer.constraint.name': bounded(o.constraint.name) } : {}),
  };
}
