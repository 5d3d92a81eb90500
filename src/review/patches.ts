// Combining the patches of several mutating policies into one JSONPatch:
// - in the outcomes' deterministic order (bundle, then policy id);
// - an operation identical to one already accepted is dropped (two policies agreeing);
// - a policy writing a path another policy already wrote (or its parent or child) with a
//   different value conflicts: its whole patch is refused (POLICY_PATCH_CONFLICT);
// - each policy's patch is applied to the object in-process, so the combined patch is known
//   to apply cleanly; one that does not is refused (POLICY_PATCH_INVALID).
// A refused patch becomes an error outcome, which the policy's failure mode then decides.
import fastJsonPatch from 'fast-json-patch';
import type { JsonPatchOperation } from '../admission/types.js';
import type { PolicyOutcome } from './decision.js';

const { applyPatch } = fastJsonPatch;

function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

function same(a: JsonPatchOperation, b: JsonPatchOperation): boolean {
  return a.op === b.op && a.path === b.path && a.from === b.from && JSON.stringify(a.value) === JSON.stringify(b.value);
}

export interface CombinedPatch {
  readonly patch: readonly JsonPatchOperation[];
  /** The outcomes with refused patches turned into errors. */
  readonly outcomes: readonly PolicyOutcome[];
}

export function combinePatches(object: unknown, outcomes: readonly PolicyOutcome[]): CombinedPatch {
  let document: unknown = structuredClone(object ?? {});
  const accepted: { op: JsonPatchOperation; policy: string }[] = [];
  const result = outcomes.map((outcome): PolicyOutcome => {
    if (outcome.action !== 'mutate' || !outcome.patch) return outcome;
    const fresh = outcome.patch.filter((op) => !accepted.some((a) => same(a.op, op)));
    const touched = (op: JsonPatchOperation): string[] => (op.from === undefined ? [op.path] : [op.path, op.from]);
    const clash = fresh.flatMap((op) =>
      accepted.filter((a) => touched(op).some((p) => touched(a.op).some((q) => overlaps(p, q)))).map((a) => ({ op, with: a })),
    )[0];
    if (clash) {
      return {
        ...outcome,
        action: 'error',
        error: {
          code: 'POLICY_PATCH_CONFLICT',
          class: 'conflict',
          message: `patch of ${clash.op.path} conflicts with policy ${clash.with.policy}'s patch of ${clash.with.op.path}`,
        },
      };
    }
    try {
      document = applyPatch(document, structuredClone(fresh) as fastJsonPatch.Operation[], true, false).newDocument;
    } catch (err) {
      return {
        ...outcome,
        action: 'error',
        error: { code: 'POLICY_PATCH_INVALID', class: 'invalid', message: `patch does not apply: ${(err as Error).message.split('\n')[0]}` },
      };
    }
    accepted.push(...fresh.map((op) => ({ op, policy: outcome.policy })));
    return outcome;
  });
  return { patch: accepted.map((a) => a.op), outcomes: result };
}
