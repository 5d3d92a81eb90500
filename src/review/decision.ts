// The Decision: computed once per review, it feeds the AdmissionReview answer, the
// metrics and the decision log, so the three can never disagree.
import type { Endpoint } from '../admission/respond.js';
import type { JsonPatchOperation, Operation } from '../admission/types.js';
import type { Enforcement, FailureMode } from '../bundles/policy-metadata.js';
import type { Violation } from '../bundles/policy-result.js';
import type { ErrorCode } from '../errors/errors.js';

/** What one policy contributed to a decision. */
export type PolicyAction =
  | 'pass' // evaluated, nothing to say
  | 'deny' // violations, enforced
  | 'warn' // violations (or warn rules) shown as warnings
  | 'dryrun' // violations recorded only
  | 'mutate' // patch operations accepted
  | 'error' // evaluation failed; `failure` decided
  | 'exempt'; // a policy exception in force overrode what it would have been (`exemption`)

/** The exception that overrode an outcome (review/exemptions.ts). */
export interface Exemption {
  /** The exception's name. */
  readonly exception: string;
  readonly ticket?: string;
  readonly expiresAt: string;
  /** What the outcome would have been without it. */
  readonly action: Exclude<PolicyAction, 'pass' | 'exempt'>;
}

export interface PolicyError {
  readonly code: ErrorCode;
  /** Engine failure class (runtime, builtin, memory, input, result) or patch (conflict, invalid). */
  readonly class: string;
  readonly message: string;
}

export interface PolicyOutcome {
  readonly policy: string;
  readonly bundle: string;
  readonly enforcement: Enforcement;
  readonly failure: FailureMode;
  readonly action: PolicyAction;
  readonly violations: readonly Violation[];
  readonly warnings: readonly Violation[];
  readonly patch?: readonly JsonPatchOperation[];
  readonly error?: PolicyError;
  /** Set when the outcome is a Gatekeeper constraint's (`policy` is then `<kind>/<name>`). */
  readonly constraint?: { readonly kind: string; readonly name: string };
  /** Set when action is `exempt`. */
  readonly exemption?: Exemption;
}

export interface RequestSummary {
  readonly uid: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly operation: Operation;
  readonly subResource: string;
  readonly user: string;
  readonly dryRun: boolean;
}

export interface Decision {
  readonly id: string;
  readonly endpoint: Endpoint;
  readonly request: RequestSummary;
  readonly allowed: boolean;
  readonly code?: number;
  readonly message?: string;
  readonly warnings: readonly string[];
  readonly patch?: readonly JsonPatchOperation[];
  /** The policy set's revision, or undefined when none was active. */
  readonly revision: string | undefined;
  readonly outcomes: readonly PolicyOutcome[];
  readonly auditAnnotations: Readonly<Record<string, string>>;
  /** Evaluation time, in milliseconds (fractional). */
  readonly durationMs: number;
  /** The policies' outcomes were those of an earlier review of the same content (decision cache). */
  readonly cached?: boolean;
  /** The time.now_ns the policies saw (epoch ns), when the reviewer pins it (ReviewerDeps.clockNs). */
  readonly nowNs?: bigint;
  /** Set while a canary runs: which revision decided (role) and, for a canary, which candidates. */
  readonly rollout?: DecisionRollout;
}

export interface DecisionRollout {
  readonly role: 'active' | 'canary';
  readonly canaries: readonly { readonly bundle: string; readonly sequence: number }[];
}
