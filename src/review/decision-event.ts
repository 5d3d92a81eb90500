// The decision log's event: a versioned, self-describing record of one decision. It
// carries what was decided and why, never the object's content.
import type { AdmissionRequest } from '../admission/types.js';
import type { Decision } from './decision.js';
import { redactInput } from './redact.js';

export const DECISION_EVENT_VERSION = 1;

export interface DecisionEvent {
  readonly version: typeof DECISION_EVENT_VERSION;
  readonly decision_id: string;
  readonly timestamp: string;
  readonly endpoint: string;
  readonly request: Decision['request'];
  readonly allowed: boolean;
  readonly code?: number;
  readonly message?: string;
  readonly warnings: readonly string[];
  readonly patched: boolean;
  readonly revision: string | null;
  readonly policies: readonly {
    readonly policy: string;
    readonly bundle: string;
    readonly enforcement: string;
    readonly failure: string;
    readonly action: string;
    readonly messages: readonly string[];
    readonly error?: { readonly code: string; readonly class: string; readonly message: string };
    /** With action `exempt`: the policy exception that overrode the outcome, and what it would have been. */
    readonly exempted_by?: string;
    readonly exemption?: { readonly ticket?: string; readonly expires_at: string; readonly would_be: string };
  }[];
  readonly duration_ms: number;
  /** Present (true) when the outcomes came from the decision cache. */
  readonly cached?: boolean;
  /** The request's objects, masked (see redact.ts); only when the decision log is configured to carry input. */
  readonly input?: { readonly object: unknown; readonly oldObject: unknown };
  /** JSON pointers (into input) whose values were masked. */
  readonly masked?: readonly string[];
  /** The audit run that made this decision (an existing object evaluated by the background audit); absent for admission. */
  readonly audit_id?: string;
  /** While a canary runs: the role of the revision that decided (active, canary), and the canaries as bundle#sequence. */
  readonly rollout?: { readonly role: string; readonly canaries: readonly string[] };
}

export interface EventInput {
  readonly request: AdmissionRequest;
  /** Further JSON pointers to mask, relative to the object. */
  readonly maskPointers: readonly string[];
}

export function toDecisionEvent(decision: Decision, now = new Date(), withInput?: EventInput): DecisionEvent {
  const input = withInput ? redactInput({ object: withInput.request.object ?? null, oldObject: withInput.request.oldObject ?? null }, withInput.maskPointers) : undefined;
  return {
    version: DECISION_EVENT_VERSION,
    decision_id: decision.id,
    timestamp: now.toISOString(),
    endpoint: decision.endpoint,
    request: decision.request,
    allowed: decision.allowed,
    ...(decision.code === undefined ? {} : { code: decision.code }),
    ...(decision.message === undefined ? {} : { message: decision.message }),
    warnings: decision.warnings,
    patched: (decision.patch?.length ?? 0) > 0,
    revision: decision.revision ?? null,
    policies: decision.outcomes.map((o) => ({
      policy: o.policy,
      bundle: o.bundle,
      enforcement: o.enforcement,
      failure: o.failure,
      action: o.action,
      messages: [...o.violations, ...o.warnings].map((v) => v.msg),
      ...(o.error ? { error: o.error } : {}),
      ...(o.exemption
        ? { exempted_by: o.exemption.exception, exemption: { ...(o.exemption.ticket ? { ticket: o.exemption.ticket } : {}), expires_at: o.exemption.expiresAt, would_be: o.exemption.action } }
        : {}),
    })),
    duration_ms: decision.durationMs,
    ...(decision.cached ? { cached: true } : {}),
    ...(decision.rollout ? { rollout: { role: decision.rollout.role, canaries: decision.rollout.canaries.map((c) => `${c.bundle}#${c.sequence}`) } } : {}),
    ...(input ? { input: input.value, masked: input.masked } : {}),
  };
}
