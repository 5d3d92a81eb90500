// RFC 6902 JSON Patch, applied without touching its inputs and without recursion.
// https://www.rfc-editor.org/rfc/rfc6902
//
// Why not fast-json-patch's applyPatch: with mutateDocument=false it deep-copies the whole
// document per call through JSON.parse(JSON.stringify()), `copy`, `move` and its validator
// deep-copy again, `test` compares recursively, and every error message pretty-prints the
// whole document — all of which overflow the stack on objects the API server accepts (up to
// 10,000 levels deep) and cost the object's size per operation. Here an operation copies only
// the containers on its path (copy-on-write; a container already copied by this call is
// written in place), so the cost is the path's length, and the inputs — the document and the
// operations' values — are never modified.
import fastJsonPatch from 'fast-json-patch';
import type { JsonPatchOperation } from '../admission/types.js';
import { cloneJson, equalJson, setOwn, shallowCopy } from './json-value.js';

const { unescapePathComponent } = fastJsonPatch;

type Container = Record<string, unknown> | unknown[];

const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;

/** An array index as RFC 6901 spells it: decimal, no leading zero. */
export function isArrayIndex(token: string): boolean {
  return ARRAY_INDEX.test(token);
}

/** A JSON pointer's reference tokens, unescaped; undefined when it is not a pointer. */
export function pointerTokens(pointer: string): string[] | undefined {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return undefined;
  return pointer.slice(1).split('/').map(unescapePathComponent);
}

function isContainer(value: unknown): value is Container {
  return typeof value === 'object' && value !== null;
}

/** The member `token` of a container: for arrays a decimal index below the length, for objects an own key. */
function child(node: Container, token: string): { found: boolean; value?: unknown } {
  if (Array.isArray(node)) {
    if (!ARRAY_INDEX.test(token) || Number(token) >= node.length) return { found: false };
    return { found: true, value: node[Number(token)] };
  }
  return Object.prototype.hasOwnProperty.call(node, token) ? { found: true, value: node[token] } : { found: false };
}

/** The value `tokens` lead to in `document`, if it exists. */
export function resolve(document: unknown, tokens: readonly string[]): { found: boolean; value?: unknown } {
  let node: unknown = document;
  for (const token of tokens) {
    if (!isContainer(node)) return { found: false };
    const next = child(node, token);
    if (!next.found) return next;
    node = next.value;
  }
  return { found: true, value: node };
}

class PatchFailure extends Error {}

/** One call's copy-on-write state: the new root, and the containers this call created (safe to write). */
class Draft {
  private readonly owned = new WeakSet<object>();
  constructor(public root: unknown) {}

  /** The container at `tokens`, copied along the way unless this call already owns it. */
  private writable(tokens: readonly string[]): Container {
    if (!isContainer(this.root)) throw new PatchFailure('the document is not an object or array');
    if (!this.owned.has(this.root)) {
      this.root = shallowCopy(this.root);
      this.owned.add(this.root as Container);
    }
    let node = this.root as Container;
    for (const token of tokens) {
      const next = child(node, token);
      if (!next.found || !isContainer(next.value)) throw new PatchFailure('path does not exist');
      let target = next.value;
      if (!this.owned.has(target)) {
        target = shallowCopy(target);
        this.owned.add(target);
        if (Array.isArray(node)) node[Number(token)] = target;
        else setOwn(node, token, target);
      }
      node = target;
    }
    return node;
  }

  add(tokens: readonly string[], value: unknown): void {
    if (tokens.length === 0) {
      this.root = value;
      return;
    }
    const parent = this.writable(tokens.slice(0, -1));
    const last = tokens[tokens.length - 1] as string;
    if (!Array.isArray(parent)) {
      setOwn(parent, last, value);
      return;
    }
    if (last === '-') {
      parent.push(value);
      return;
    }
    if (!ARRAY_INDEX.test(last) || Number(last) > parent.length) throw new PatchFailure(`array index ${last} is out of range`);
    parent.splice(Number(last), 0, value);
  }

  remove(tokens: readonly string[]): unknown {
    if (tokens.length === 0) throw new PatchFailure('the whole document cannot be removed');
    const parent = this.writable(tokens.slice(0, -1));
    const last = tokens[tokens.length - 1] as string;
    const existing = child(parent, last);
    if (!existing.found) throw new PatchFailure('path does not exist');
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
    return existing.value;
  }

  replace(tokens: readonly string[], value: unknown): void {
    if (tokens.length === 0) {
      this.root = value;
      return;
    }
    const parent = this.writable(tokens.slice(0, -1));
    const last = tokens[tokens.length - 1] as string;
    if (!child(parent, last).found) throw new PatchFailure('path does not exist');
    if (Array.isArray(parent)) parent[Number(last)] = value;
    else setOwn(parent, last, value);
  }

  get(tokens: readonly string[]): unknown {
    const found = resolve(this.root, tokens);
    if (!found.found) throw new PatchFailure('path does not exist');
    return found.value;
  }
}

function tokensOf(pointer: unknown, field: string): string[] {
  const tokens = typeof pointer === 'string' ? pointerTokens(pointer) : undefined;
  if (!tokens) throw new PatchFailure(`${field} is not a JSON pointer`);
  return tokens;
}

function applyOne(draft: Draft, op: JsonPatchOperation): void {
  const path = tokensOf(op.path, 'path');
  const needsValue = op.op === 'add' || op.op === 'replace' || op.op === 'test';
  if (needsValue && op.value === undefined) throw new PatchFailure('value is missing');
  switch (op.op) {
    case 'add':
      draft.add(path, op.value);
      return;
    case 'remove':
      draft.remove(path);
      return;
    case 'replace':
      draft.replace(path, op.value);
      return;
    case 'move': {
      const from = tokensOf(op.from, 'from');
      if (from.length < path.length && from.every((t, i) => t === path[i])) throw new PatchFailure('from is a parent of path');
      if (from.length === path.length && from.every((t, i) => t === path[i])) {
        draft.get(from);
        return;
      }
      const value = draft.get(from);
      if (path.length === 0) draft.root = value;
      else {
        draft.remove(from);
        draft.add(path, value);
      }
      return;
    }
    case 'copy':
      // A deep copy, so a later operation on either place leaves the other as it is.
      draft.add(path, cloneJson(draft.get(tokensOf(op.from, 'from'))));
      return;
    case 'test':
      if (!equalJson(draft.get(path), op.value)) throw new PatchFailure('test failed');
      return;
    default:
      throw new PatchFailure(`unknown op ${JSON.stringify((op as { op: unknown }).op)}`);
  }
}

/** A path as quoted in a message: deep paths are legal, but a message need not carry 20 KB of them. */
function shorten(path: string): string {
  return path.length <= 200 ? path : `${path.slice(0, 100)}…${path.slice(-100)}`;
}

export type PatchResult = { readonly ok: true; readonly document: unknown } | { readonly ok: false; readonly message: string };

/**
 * `document` with `ops` applied in order (all or nothing). `before`, when given, sees each
 * operation and the document as it stands just before that operation is applied.
 * Neither `document` nor the operations' values are modified; the result shares with them
 * every container the operations did not write.
 */
export function applyJsonPatch(document: unknown, ops: readonly JsonPatchOperation[], before?: (op: JsonPatchOperation, current: unknown) => void): PatchResult {
  const draft = new Draft(document);
  for (const [i, op] of ops.entries()) {
    before?.(op, draft.root);
    try {
      applyOne(draft, op);
    } catch (err) {
      if (!(err instanceof PatchFailure)) throw err;
      return { ok: false, message: `operation ${i} (${String(op.op)} ${shorten(String(op.path))}): ${err.message}` };
    }
  }
  return { ok: true, document: draft.root };
}
