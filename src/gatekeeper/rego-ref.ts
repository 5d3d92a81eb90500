// Reading references out of the token stream of rego-lexer.ts: a root (`data`, `input`, a
// var) followed by `.name` and `[term]` parts written without whitespace, as OPA requires.
import { stringTokenValue, type RegoToken } from './rego-lexer.js';

/** One part after the root: `.name` or `["name"]` (a name), or `[expr]` (anything else). */
export type RefPart = { readonly name: string } | { readonly expr: string };

export interface TokenRef {
  readonly root: RegoToken;
  readonly parts: readonly RefPart[];
  /** Index of the first token after the ref. */
  readonly next: number;
  /** The ref as written, e.g. `data.lib.x[i]`. */
  readonly text: string;
}

const adjacent = (a: RegoToken | undefined, b: RegoToken | undefined): boolean => a !== undefined && b !== undefined && a.end === b.start;

/** The ref whose root is tokens[index]. */
export function readRef(tokens: readonly RegoToken[], index: number, source: string): TokenRef {
  const root = tokens[index] as RegoToken;
  const parts: RefPart[] = [];
  let i = index + 1;
  for (;;) {
    const open = tokens[i];
    if (!adjacent(tokens[i - 1], open) || open?.kind !== 'punct') break;
    if (open.text === '.') {
      const name = tokens[i + 1];
      if (!adjacent(open, name) || name?.kind !== 'ident') break;
      parts.push({ name: name.text });
      i += 2;
    } else if (open.text === '[') {
      const close = matchingBracket(tokens, i);
      if (close === undefined) break;
      const inner = tokens.slice(i + 1, close);
      const only = inner[0];
      if (inner.length === 1 && only !== undefined && (only.kind === 'string' || only.kind === 'rawString')) parts.push({ name: stringTokenValue(only) });
      else parts.push({ expr: source.slice(open.end, (tokens[close] as RegoToken).start) });
      i = close + 1;
    } else {
      break;
    }
  }
  const last = tokens[i - 1] as RegoToken;
  return { root, parts, next: i, text: source.slice(root.start, last.end) };
}

function matchingBracket(tokens: readonly RegoToken[], open: number): number | undefined {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i] as RegoToken;
    if (t.kind !== 'punct') continue;
    if (t.text === '[' || t.text === '(' || t.text === '{') depth++;
    else if (t.text === ']' || t.text === ')' || t.text === '}') {
      depth--;
      if (depth === 0) return t.text === ']' ? i : undefined;
    }
  }
  return undefined;
}

/** True when tokens[index] is a field name after a dot (`x.data`), not the root of a ref. */
export function isFieldName(tokens: readonly RegoToken[], index: number): boolean {
  const prev = tokens[index - 1];
  return prev?.kind === 'punct' && prev.text === '.' && adjacent(prev, tokens[index]);
}
