// The result contract of a policy's generated entrypoints (see policies/README.md):
//   validate → {"deny": [violation], "warn": [violation]}, a violation being a message
//              string or {"msg": string, "details": object}
//   mutate   → [JSONPatch operation]
// Anything else is a POLICY_RESULT_INVALID failure of that policy, handled by its failure mode.
import type { JsonPatchOperation } from '../admission/types.js';
import { BouncerError } from '../errors/errors.js';

export interface Violation {
  readonly msg: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface ValidateResult {
  readonly deny: readonly Violation[];
  readonly warn: readonly Violation[];
}

const PATCH_OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

function invalid(message: string): BouncerError {
  return new BouncerError('POLICY_RESULT_INVALID', message);
}

function violations(value: unknown, rule: string): Violation[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`${rule} must be a set of messages`);
  return value.map((v: unknown) => {
    if (typeof v === 'string') return { msg: v };
    if (typeof v === 'object' && v !== null && 'msg' in v && typeof v.msg === 'string') {
      const details = 'details' in v && typeof v.details === 'object' && v.details !== null ? (v.details as Record<string, unknown>) : undefined;
      return details ? { msg: v.msg, details } : { msg: v.msg };
    }
    throw invalid(`${rule} entries must be strings or objects with a string msg`);
  });
}

/** Reads a validate entrypoint's value; undefined (the policy said nothing) is no violation. */
export function readValidateResult(value: unknown): ValidateResult {
  if (value === undefined) return { deny: [], warn: [] };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('the validate result must be an object');
  const v = value as Record<string, unknown>;
  return { deny: violations(v.deny, 'deny'), warn: violations(v.warn, 'warn') };
}

/** Reads a mutate entrypoint's value: a list of JSONPatch operations (RFC 6902). */
export function readMutateResult(value: unknown): JsonPatchOperation[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid('patch must be a set or array of JSONPatch operations');
  return value.map((op: unknown) => {
    if (typeof op !== 'object' || op === null) throw invalid('a patch operation must be an object');
    const o = op as Record<string, unknown>;
    if (typeof o.op !== 'string' || !PATCH_OPS.has(o.op)) throw invalid(`patch op must be one of ${[...PATCH_OPS].join(', ')}`);
    if (typeof o.path !== 'string' || !(o.path === '' || o.path.startsWith('/'))) throw invalid('patch path must be a JSON pointer');
    if ((o.op === 'move' || o.op === 'copy') && typeof o.from !== 'string') throw invalid(`patch ${o.op} needs from`);
    if ((o.op === 'add' || o.op === 'replace' || o.op === 'test') && !('value' in o)) throw invalid(`patch ${o.op} needs value`);
    return o as unknown as JsonPatchOperation;
  });
}
