// What a builtin throws for an error Go OPA's builtin would return. OPA treats builtin
// errors as non-fatal unless strict-builtin-errors is set (Gatekeeper does not set it):
// the call is undefined. The host turns this error into an undefined result; anything
// else a builtin throws fails the policy's evaluation.
// https://www.openpolicyagent.org/docs/policy-reference#errors
import type { RegoValue } from './rego-value.js';

export class BuiltinError extends Error {
  override readonly name = 'BuiltinError';
}

/** The string an operand must be (OPA's builtins.StringOperand), or a BuiltinError. */
export function stringOperand(v: RegoValue | undefined, position: number): string {
  if (v?.type !== 'string') throw new BuiltinError(`operand ${position} must be string but got ${v?.type ?? 'nothing'}`);
  return v.value;
}
