// What `bouncer verify` needs from the evaluation engine: the templates of every suite are
// compiled once (one OPA build), then each case is one review of its test's constraints.
// The lead's engine implements it over the same compiled WASM path as the server.
import type { Constraint, ConstraintTemplate } from './types.js';

export interface SuiteEngine { compile(templates: readonly ConstraintTemplate[]): Promise<CompiledTemplates> }
export interface CompiledTemplates {
  /** Violations of each constraint (matched first by Gatekeeper's spec.match, enforcement point gator.gatekeeper.sh) for one review. */
  review(constraints: readonly Constraint[], review: CaseInput): Promise<readonly CaseViolation[]>;
  close(): void;
}
export interface CaseInput { readonly request: Readonly<Record<string, unknown>>; readonly inventory: readonly Readonly<Record<string, unknown>>[]; }
export interface CaseViolation { readonly constraint: string; readonly msg: string; readonly enforcementAction: string; readonly details?: unknown }
