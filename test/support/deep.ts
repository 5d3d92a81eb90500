// Objects nested as deep as the API server accepts, built without recursion (the point of
// the tests that use them is that nothing on bouncer's path recurses either).
import { KUBERNETES_MAX_JSON_DEPTH } from '../../src/review/json-value.js';

export { KUBERNETES_MAX_JSON_DEPTH };

/** `levels` nested objects `{a: {a: … leaf}}`: `leaf` is the innermost one (it counts as a level). */
export function deepChain(levels: number, leaf: Record<string, unknown> = { leaf: true }): Record<string, unknown> {
  let node: Record<string, unknown> = leaf;
  for (let i = 1; i < levels; i++) node = { a: node };
  return node;
}

/** The pointer from the outermost object of a deepChain(levels) to its leaf object. */
export function deepChainPointer(levels: number): string {
  return '/a'.repeat(levels - 1);
}

/** The leaf object of a deepChain, found without recursion. */
export function deepChainLeaf(chain: unknown): unknown {
  let node = chain as Record<string, unknown>;
  while (node && typeof node === 'object' && 'a' in node) node = node.a as Record<string, unknown>;
  return node;
}

/** How deep a JSON text nests, counted on its brackets (strings skipped). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') max = Math.max(max, ++depth);
    else if (c === '}' || c === ']') depth--;
  }
  return max;
}
