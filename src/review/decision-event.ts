// The decision log's event: a versioned, self-describing record of one decision. It
// carries what was decided and why, never the object's content.
import type { Decision } from './decision.js';

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
  }[];
  readonly duration_ms: number;
}

export function toDecisionEvent(decision: Decision, now = new Date()): DecisionEvent {
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
    })),
    duration_ms: decision.durationMs,
  };
}
