// Turns each decision into a decision event for the decision log, with the request's
// objects (masked) when the log is configured to carry input.
import type { AdmissionRequest } from '../admission/types.js';
import type { DecisionLog } from '../telemetry/decision-log.js';
import type { Decision } from './decision.js';
import { toDecisionEvent } from './decision-event.js';

export interface DecisionRecorderOptions {
  readonly log: DecisionLog;
  /** Carry the request objects, with these extra JSON pointers masked. */
  readonly input?: { readonly maskPointers: readonly string[] };
  /** A decision that could not be recorded: reported here, never turned into a denial. */
  readonly onError: (err: unknown) => void;
}

export function decisionRecorder(options: DecisionRecorderOptions): (decision: Decision, request: AdmissionRequest) => void {
  const { log, input } = options;
  if (!log.active) return () => undefined;
  return (decision, request) => {
    try {
      log.record(toDecisionEvent(decision, new Date(), input ? { request, maskPointers: input.maskPointers } : undefined));
    } catch (err) {
      options.onError(err);
    }
  };
}
