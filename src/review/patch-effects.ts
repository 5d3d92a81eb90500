// Where one JSON Patch operation reaches, and what it does to the arrays on its way, seen
// in the document it is applied to: at each array it either addresses an element by index,
// shifts the array (inserts or removes an element), or appends to it ("-"). Patch combining
// uses it to refuse combinations where one policy's indices would land on elements another
// policy moved.
import fastJsonPatch from 'fast-json-patch';
import type { JsonPatchOperation } from '../admission/types.js';
import { isArrayIndex, pointerTokens } from './json-patch.js';

const { escapePathComponent } = fastJsonPatch;

export type ElementEffect =
  /** Inserts an element at an index or removes one: every later index of the array changes meaning. */
  | { readonly kind: 'shift' }
  /** Adds an element at the end ("-"): no existing index changes meaning. */
  | { readonly kind: 'append' }
  /** Reads or writes at, or under, element `index`. */
  | { readonly kind: 'index'; readonly index: number };

/** One pointer of an operation (its path, or its from), unescaped, and its effect at each array on the way. */
export interface Touch {
  readonly tokens: readonly string[];
  /** effects[i]: what the pointer does at tokens[i], when the container there is an array. */
  readonly effects: readonly (ElementEffect | undefined)[];
}

/** The pointer of `tokens` in one spelling. */
export function pointerOf(tokens: readonly string[]): string {
  return tokens.map((t) => `/${escapePathComponent(t)}`).join('') || '/';
}

/** What `op`'s end at `role` does at an element position of an array. */
function endEffect(op: JsonPatchOperation, role: 'path' | 'from', token: string): ElementEffect | undefined {
  const inserts = role === 'path' && (op.op === 'add' || op.op === 'copy' || op.op === 'move');
  if (inserts) return token === '-' ? { kind: 'append' } : { kind: 'shift' };
  if ((role === 'path' && op.op === 'remove') || (role === 'from' && op.op === 'move')) return { kind: 'shift' };
  return isArrayIndex(token) ? { kind: 'index', index: Number(token) } : undefined;
}

/**
 * The pointers of `op` with their effects, seen in `document` (not modified). A pointer that
 * does not resolve yields what it can; applying the operation reports the error.
 */
export function touchesOf(op: JsonPatchOperation, document: unknown): Touch[] {
  const ends: ['path' | 'from', unknown][] = [['path', op.path]];
  if (op.op === 'move' || op.op === 'copy') ends.push(['from', op.from]);
  const touches: Touch[] = [];
  for (const [role, pointer] of ends) {
    const tokens = typeof pointer === 'string' ? pointerTokens(pointer) : undefined;
    if (!tokens) continue;
    const effects: (ElementEffect | undefined)[] = [];
    let node: unknown = document;
    for (let i = 0; i < tokens.length && typeof node === 'object' && node !== null; i++) {
      const token = tokens[i] as string;
      if (Array.isArray(node)) {
        effects[i] = i === tokens.length - 1 ? endEffect(op, role, token) : isArrayIndex(token) ? { kind: 'index', index: Number(token) } : undefined;
        node = isArrayIndex(token) ? node[Number(token)] : undefined;
      } else {
        node = Object.hasOwn(node, token) ? (node as Record<string, unknown>)[token] : undefined;
      }
    }
    touches.push({ tokens, effects });
  }
  return touches;
}

/**
 * Why two pointers of different policies' operations cannot be combined, or undefined.
 * `originalLength` gives the length of the array at a prefix in the object under review.
 * - One is the other or under it: both write one place (appends to one array excepted).
 * - Where they part, inside one array, one shifts it: the other's index (computed on the
 *   object under review) would land on another element, whichever is applied first.
 * - Where they part, one appends and the other addresses an element past the original end:
 *   in its own view that is its own appended element, which sits elsewhere once both appended.
 * Appends by several policies to one array (sidecars, volumes, env entries) combine.
 */
export function touchConflict(a: Touch, b: Touch, originalLength: (prefix: readonly string[]) => number): string | undefined {
  const shorter = Math.min(a.tokens.length, b.tokens.length);
  let common = 0;
  while (common < shorter && a.tokens[common] === b.tokens[common]) common++;
  if (common === shorter) {
    const last = a.tokens.length - 1;
    const appendsBoth = a.tokens.length === b.tokens.length && a.effects[last]?.kind === 'append' && b.effects[last]?.kind === 'append';
    return appendsBoth ? undefined : '';
  }
  const [x, y] = [a.effects[common], b.effects[common]];
  if (!x || !y) return undefined;
  const array = pointerOf(a.tokens.slice(0, common));
  if (x.kind === 'shift' || y.kind === 'shift') return `one inserts into or removes from the array ${array}, which shifts the other's indices`;
  const [append, index] = x.kind === 'append' ? [x, y] : [y, x];
  if (append.kind === 'append' && index.kind === 'index' && index.index >= originalLength(a.tokens.slice(0, common))) {
    return `one appends to the array ${array} and the other addresses index ${index.index}, past its original end`;
  }
  return undefined;
}
