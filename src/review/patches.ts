// Combining the patches of several mutating policies into one JSONPatch. Every policy
// computed its patch on the object under review, not on the others' results, so combining
// is only safe when each patch means on the combined result what it meant on the object:
// - outcomes are taken in their deterministic order (bundle, then policy id);
// - each policy's patch must apply to the object on its own, else it is refused
//   (POLICY_PATCH_INVALID);
// - an operation identical to one already accepted is dropped (two policies agreeing);
// - a policy writing a path another policy already wrote (or its parent or child) conflicts,
//   as does a policy touching an array another policy inserts into or removes from (the
//   indices no longer name the same elements), or addressing an element past the original
//   end of an array another policy appends to: its whole patch is refused
//   (POLICY_PATCH_CONFLICT). Appends by several policies to one array combine, in order;
// - the accepted operations are applied to the combined result in-process, so the combined
//   patch is known to apply cleanly; a patch that does not is refused (POLICY_PATCH_INVALID).
// A refused patch becomes an error outcome, which the policy's failure mode then decides.
// Nothing here recurses: objects as deep as the API server accepts are combined like any other.
import type { JsonPatchOperation } from '../admission/types.js';
import type { PolicyOutcome } from './decision.js';
import { applyJsonPatch, resolve } from './json-patch.js';
import { equalJson } from './json-value.js';
import { touchConflict, touchesOf, type Touch } from './patch-effects.js';

interface Accepted {
  readonly op: JsonPatchOperation;
  readonly policy: string;
  /** Where the operation reaches, seen in its policy's own view of the object. */
  readonly touches: readonly Touch[];
}

function same(a: JsonPatchOperation, b: JsonPatchOperation): boolean {
  return a.op === b.op && a.path === b.path && a.from === b.from && equalJson(a.value, b.value);
}

export interface CombinedPatch {
  readonly patch: readonly JsonPatchOperation[];
  /** The outcomes with refused patches turned into errors. */
  readonly outcomes: readonly PolicyOutcome[];
}

function refused(outcome: PolicyOutcome, kind: 'conflict' | 'invalid', message: string): PolicyOutcome {
  const code = kind === 'conflict' ? 'POLICY_PATCH_CONFLICT' : 'POLICY_PATCH_INVALID';
  return { ...outcome, action: 'error', error: { code, class: kind, message } };
}

/** The first reason an operation cannot join the operations accepted from earlier policies. */
function conflictOf(op: JsonPatchOperation, touches: readonly Touch[], accepted: readonly Accepted[], originalLength: (prefix: readonly string[]) => number): string | undefined {
  for (const a of accepted) {
    for (const t of touches) {
      for (const u of a.touches) {
        const reason = touchConflict(t, u, originalLength);
        if (reason !== undefined) return `patch of ${op.path} conflicts with policy ${a.policy}'s patch of ${a.op.path}${reason ? `: ${reason}` : ''}`;
      }
    }
  }
  return undefined;
}

/**
 * The combined patch of the outcomes' patches on `object` (the request's object; not
 * modified), and the outcomes with every refused patch turned into an error outcome; other
 * outcomes are returned as they are (the same objects).
 */
export function combinePatches(object: unknown, outcomes: readonly PolicyOutcome[]): CombinedPatch {
  const original: unknown = object ?? {};
  const originalLength = (prefix: readonly string[]): number => {
    const found = resolve(original, prefix);
    return found.found && Array.isArray(found.value) ? found.value.length : 0;
  };
  let combined: unknown = original;
  const accepted: Accepted[] = [];
  const result = outcomes.map((outcome): PolicyOutcome => {
    if (outcome.action !== 'mutate' || !outcome.patch) return outcome;
    // The patch on the object alone: it must apply, and this is the view its indices refer to.
    const touches: Touch[][] = [];
    const alone = applyJsonPatch(original, outcome.patch, (op, current) => touches.push(touchesOf(op, current)));
    if (!alone.ok) return refused(outcome, 'invalid', `patch does not apply: ${alone.message}`);
    const fresh = outcome.patch.flatMap((op, i) => (accepted.some((a) => same(a.op, op)) ? [] : [{ op, policy: outcome.policy, touches: touches[i] ?? [] }]));
    for (const f of fresh) {
      const conflict = conflictOf(f.op, f.touches, accepted, originalLength);
      if (conflict) return refused(outcome, 'conflict', conflict);
    }
    const applied = applyJsonPatch(
      combined,
      fresh.map((f) => f.op),
    );
    if (!applied.ok) return refused(outcome, 'invalid', `patch does not apply: ${applied.message}`);
    combined = applied.document;
    accepted.push(...fresh);
    return outcome;
  });
  return { patch: accepted.map((a) => a.op), outcomes: result };
}
