// What the OPA CLI's parser sees in a Rego module: its package, imports and the refs rooted
// at data, each written as a dotted path (`data.a.b[x]`), for tests that check a text
// rewrite of Rego against OPA itself.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Term = { type: string; value: unknown };

export interface ParsedRefs {
  readonly pkg: string;
  readonly imports: string[];
  /** Distinct, sorted. */
  readonly dataRefs: string[];
}

export function opaParseRefs(opa: string, text: string, version: 'v0' | 'v1'): ParsedRefs {
  const dir = mkdtempSync(join(tmpdir(), 'bouncer-opa-parse-'));
  try {
    const file = join(dir, 'm.rego');
    writeFileSync(file, text);
    const args = ['parse', '--format', 'json', '--json-include', '-comments', ...(version === 'v0' ? ['--v0-compatible'] : []), file];
    const ast = JSON.parse(execFileSync(opa, args, { encoding: 'utf8' })) as { package: { path: Term[] }; imports?: { path: Term }[]; rules?: unknown };
    const refs: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        const t = node as Term;
        if (t.type === 'ref' && Array.isArray(t.value) && (t.value[0] as Term | undefined)?.value === 'data') refs.push(show(t.value as Term[]));
        Object.values(node).forEach(walk);
      }
    };
    walk(ast.rules);
    return { pkg: show(ast.package.path), imports: (ast.imports ?? []).map((i) => show(i.path.value as Term[])), dataRefs: [...new Set(refs)].sort() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function show(ref: Term[]): string {
  return ref.map((t, i) => (i === 0 ? String(t.value) : t.type === 'string' ? `.${String(t.value)}` : `[${t.type === 'ref' ? show(t.value as Term[]) : String(t.value)}]`)).join('');
}
