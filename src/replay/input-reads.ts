// Which parts of the input a bundle's Rego may read, from OPA's parse of every module it
// carries (bundles ship their .rego sources beside policy.wasm): what replay needs to refuse a
// record whose masked values a candidate policy could see. The answer must err on the side of
// "reads": a record is evaluated only when no policy can reach what was masked.
//
// A read is an input path, constant parts as strings and anything computed (a variable key, an
// iteration) as null, found where a value of the input is used:
//   - a reference rooted at input, at an import of it, at a local variable bound to a part of it
//     (`x := input.request`, `some c in input.request.object.spec.containers`), or at a rule
//     whose value is a reference to it (`request := input.request`, `pod_spec := request.object.spec if ...`);
//   - such a variable used as a whole value (passed to a function, put in an object, compared):
//     all of it is read, so a container passed on whole reads its env values too.
// A binding's right side alone is no read (its variable's uses are). Modules bouncer generates
// (package bouncer.*) only route entrypoints and are left out; a Gatekeeper template's
// input.review is the request (bouncer builds it from input.request).
// A path covers a masked pointer when one is a prefix of the other, null matching any part.
import { runOpa } from '../authoring/opa-cli.js';

/** An input path: ['input', 'request', 'object', 'spec', 'containers', null, 'image']. */
export type InputPath = readonly (string | null)[];

export interface ModuleReads {
  /** The module's package, e.g. policies.disallow_privileged, lib.kubernetes. */
  readonly package: string;
  readonly reads: readonly InputPath[];
}

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

function constPath(term: unknown): string[] | undefined {
  if (!isNode(term) || term.type !== 'ref' || !Array.isArray(term.value)) return undefined;
  const parts = (term.value as unknown[]).map((p) => (isNode(p) && typeof p.value === 'string' ? p.value : undefined));
  return parts.every((p) => p !== undefined) ? (parts as string[]) : undefined;
}

function packageOf(ast: Node): string[] {
  const pkg = isNode(ast.package) ? ast.package : {};
  return (Array.isArray(pkg.path) ? (pkg.path as unknown[]) : []).map((p) => (isNode(p) && typeof p.value === 'string' ? p.value : '?')).slice(1);
}

function ruleName(rule: Node): string | undefined {
  const head = isNode(rule.head) ? rule.head : {};
  if (typeof head.name === 'string' && head.name !== '') return head.name;
  const first = Array.isArray(head.ref) ? (head.ref as unknown[])[0] : undefined;
  return isNode(first) && typeof first.value === 'string' ? first.value : undefined;
}

/** `v := t`, `v = t`, `t = v`, `some v in t`, `some k, v in t`: [var, term, iterated]. */
function bindingOf(n: Node): [string, unknown, boolean][] {
  const call = n.type === 'call' && Array.isArray(n.value) ? (n.value as unknown[]) : undefined;
  if (call) {
    const op = constPath(call[0])?.join('.');
    const out: [string, unknown, boolean][] = [];
    const coll = call[call.length - 1];
    const vars = op === 'internal.member_2' ? [call[1]] : op === 'internal.member_3' ? [call[1], call[2]] : [];
    vars.forEach((v, i) => {
      // member_3's first var is the key: bound to a key, not to a part of the collection.
      if (isNode(v) && v.type === 'var' && typeof v.value === 'string' && !(op === 'internal.member_3' && i === 0)) out.push([v.value, coll, true]);
    });
    return out;
  }
  const terms = Array.isArray(n.terms) ? (n.terms as unknown[]) : undefined;
  if (!terms || terms.length !== 3) return [];
  const op = constPath(terms[0]);
  if (!op || op.length !== 1 || (op[0] !== 'assign' && op[0] !== 'eq')) return [];
  const [, left, right] = terms;
  const out: [string, unknown, boolean][] = [];
  if (isNode(left) && left.type === 'var' && typeof left.value === 'string') out.push([left.value, right, false]);
  if (op[0] === 'eq' && isNode(right) && right.type === 'var' && typeof right.value === 'string') out.push([right.value, left, false]);
  return out;
}

interface Scope {
  readonly pkg: readonly string[];
  readonly imports: ReadonlyMap<string, readonly string[]>;
  readonly rules: ReadonlySet<string>;
}

/**
 * The input reads of every module (OPA ASTs), in order. Rule aliases are resolved across all
 * modules; `review` maps a Gatekeeper template's input.review to input.request.
 */
export function moduleInputReads(asts: readonly unknown[]): ModuleReads[] {
  const modules = asts.filter(isNode).map((ast) => {
    const pkg = packageOf(ast);
    const imports = new Map<string, readonly string[]>();
    for (const imp of Array.isArray(ast.imports) ? (ast.imports as unknown[]) : []) {
      const path = isNode(imp) ? constPath(imp.path) : undefined;
      if (!path || (path[0] !== 'input' && path[0] !== 'data')) continue;
      imports.set(isNode(imp) && typeof imp.alias === 'string' && imp.alias !== '' ? imp.alias : (path[path.length - 1] as string), path);
    }
    const rules = (Array.isArray(ast.rules) ? (ast.rules as unknown[]) : []).filter(isNode);
    const scope: Scope = { pkg, imports, rules: new Set(rules.map(ruleName).filter((n): n is string => n !== undefined)) };
    return { pkg, rules, scope, template: pkg[0] === 'gatekeeper' };
  });
  // data.<pkg>.<rule> → the terms its definitions take as value, for rules whose value is a ref or var.
  const aliases = new Map<string, { term: unknown; scope: Scope }[]>();
  for (const m of modules) {
    for (const rule of m.rules) {
      const head = isNode(rule.head) ? rule.head : {};
      const name = ruleName(rule);
      const value = head.value;
      if (!name || Array.isArray(head.args) || head.key !== undefined || !isNode(value) || (value.type !== 'ref' && value.type !== 'var')) continue;
      const key = ['data', ...m.pkg, name].join('.');
      aliases.set(key, [...(aliases.get(key) ?? []), { term: value, scope: m.scope }]);
    }
  }

  /** The input paths a term stands for (several through a rule with several definitions). */
  const pathsOf = (term: unknown, scope: Scope, locals: ReadonlyMap<string, InputPath[]>, depth = 0): InputPath[] => {
    if (!isNode(term) || depth > 8) return [];
    const parts = term.type === 'ref' && Array.isArray(term.value) ? (term.value as unknown[]) : term.type === 'var' ? [term] : undefined;
    if (!parts) return [];
    const [head, ...rest] = parts;
    if (!isNode(head) || head.type !== 'var' || typeof head.value !== 'string') return [];
    const tail = rest.map((p) => (isNode(p) && p.type === 'string' && typeof p.value === 'string' ? p.value : null));
    const name = head.value;
    let bases: (readonly (string | null)[])[];
    const local = locals.get(name);
    if (local) bases = local;
    else if (scope.imports.has(name)) bases = [scope.imports.get(name) as string[]];
    else if (scope.rules.has(name)) bases = [['data', ...scope.pkg, name]];
    else if (name === 'input' || name === 'data') bases = [[name]];
    else return [];
    const out: InputPath[] = [];
    for (const base of bases) {
      const full = [...base, ...tail];
      if (full[0] === 'input') {
        out.push(full);
        continue;
      }
      // A data ref: through the longest rule alias that prefixes it.
      for (let n = full.length; n >= 2; n--) {
        const defs = aliases.get(full.slice(0, n).join('.'));
        if (!defs) continue;
        for (const d of defs) {
          for (const target of pathsOf(d.term, d.scope, new Map(), depth + 1)) out.push([...target, ...full.slice(n)]);
        }
        break;
      }
    }
    return out;
  };

  return modules.map((m) => {
    const reads: InputPath[] = [];
    if (m.pkg[0] === 'bouncer') return { package: m.pkg.join('.'), reads };
    const add = (paths: readonly InputPath[]) => {
      for (const p of paths) reads.push(m.template && p[1] === 'review' ? ['input', 'request', ...p.slice(2)] : p);
    };
    for (const rule of m.rules) {
      const locals = new Map<string, InputPath[]>();
      const bound = new Set<unknown>();
      const binds: [string, unknown, boolean][] = [];
      const collect = (node: unknown): void => {
        if (Array.isArray(node)) node.forEach(collect);
        else if (isNode(node)) {
          for (const b of bindingOf(node)) {
            binds.push(b);
            bound.add(b[1]);
          }
          Object.values(node).forEach(collect);
        }
      };
      collect([rule.body, rule.else]);
      for (let pass = 0; pass < 4; pass++) {
        for (const [name, term, iterated] of binds) {
          if (locals.has(name)) continue;
          const paths = pathsOf(term, m.scope, locals);
          if (paths.length > 0) locals.set(name, iterated ? paths.map((p) => [...p, null]) : paths);
        }
      }
      const head = isNode(rule.head) ? rule.head : {};
      // A rule aliasing a ref is read through its users; its own value is no read.
      const aliasValue = !Array.isArray(head.args) && head.key === undefined && isNode(head.value) && (head.value.type === 'ref' || head.value.type === 'var') ? head.value : undefined;
      const lhs = new Set(binds.filter(([, , it]) => !it).map(([name]) => name));
      const visit = (node: unknown, skipVarNamed?: string): void => {
        if (Array.isArray(node)) {
          node.forEach((n) => visit(n, skipVarNamed));
          return;
        }
        if (!isNode(node) || node === aliasValue) return;
        if (bound.has(node)) {
          // A binding's right side: only the computed keys inside it are visited.
          if (node.type === 'ref' && Array.isArray(node.value)) (node.value as unknown[]).slice(1).forEach((p) => visit(p));
          else if (node.type !== 'var') Object.values(node).forEach((v) => visit(v));
          return;
        }
        if (node.type === 'ref' && Array.isArray(node.value)) {
          add(pathsOf(node, m.scope, locals));
          (node.value as unknown[]).slice(1).forEach((p) => visit(p));
          return;
        }
        if (node.type === 'var' && typeof node.value === 'string') {
          if (node.value !== skipVarNamed) add(pathsOf(node, m.scope, locals));
          return;
        }
        // `x := ...` / `x = ...`: the variable on the left is being bound, not read.
        const terms = Array.isArray(node.terms) ? (node.terms as unknown[]) : undefined;
        const op = terms && terms.length === 3 ? constPath(terms[0]) : undefined;
        if (terms && op?.length === 1 && (op[0] === 'assign' || op[0] === 'eq')) {
          const left = terms[1];
          const name = isNode(left) && left.type === 'var' && typeof left.value === 'string' && lhs.has(left.value) ? left.value : undefined;
          terms.slice(1).forEach((t) => visit(t, name));
          return;
        }
        if (node.type === 'call' && Array.isArray(node.value) && ['internal.member_2', 'internal.member_3'].includes(constPath(node.value[0])?.join('.') ?? '')) {
          // `some k, v in coll`: the declared variables are bound, the collection is the binding's right side.
          visit((node.value as unknown[]).at(-1));
          return;
        }
        // object.get(x, key, default) with a constant key reads x.key, not all of x.
        const call = node.type === 'call' && Array.isArray(node.value) ? (node.value as unknown[]) : terms;
        if (call && constPath(call[0])?.join('.') === 'object.get' && call.length === 4) {
          const key = call[2];
          const keys = isNode(key) && key.type === 'string' ? [key.value] : isNode(key) && key.type === 'array' && Array.isArray(key.value) ? (key.value as unknown[]).map((k) => (isNode(k) && k.type === 'string' ? k.value : null)) : undefined;
          const bases = isNode(call[1]) && !bound.has(call[1]) ? pathsOf(call[1], m.scope, locals) : [];
          if (keys && bases.length > 0) {
            add(bases.map((b) => [...b, ...keys.map((k) => (typeof k === 'string' ? k : null))]));
            if (isNode(call[1]) && call[1].type === 'ref' && Array.isArray(call[1].value)) (call[1].value as unknown[]).slice(1).forEach((p) => visit(p));
            visit(call.slice(2));
            return;
          }
        }
        if (node.type === 'some' || node.type === 'location') return;
        for (const [key, v] of Object.entries(node)) if (key !== 'location') visit(v);
      };
      visit([head.key, head.value, head.args, rule.body, rule.else]);
    }
    return { package: m.pkg.join('.'), reads };
  });
}

/** A JSON pointer's segments (RFC 6901 unescaped). */
export function pointerSegments(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Whether reading `path` can see the value at `masked` (segments from the event's root: input, request, ...). */
export function covers(path: InputPath, masked: readonly string[]): boolean {
  const n = Math.min(path.length, masked.length);
  for (let i = 0; i < n; i++) if (path[i] !== null && path[i] !== masked[i]) return false;
  return true;
}

/** The dotted form of a path, for reports: input.request.object.spec.containers[_].env. */
export function pathText(path: InputPath): string {
  return path.map((p, i) => (p === null ? '[_]' : i === 0 ? p : /^[A-Za-z_][A-Za-z0-9_]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`)).join('');
}

/** OPA's parse of each Rego file (relative to `dir`); a Rego v0 module (a Gatekeeper template) is parsed as such. */
export async function parseModules(opa: string, dir: string, files: readonly string[]): Promise<unknown[]> {
  return Promise.all(
    files.map(async (file) => {
      const parse = (v0: boolean) => runOpa(opa, ['parse', '--format', 'json', ...(v0 ? ['--v0-compatible'] : []), file], dir);
      const { stdout } = await parse(false).catch(() => parse(true));
      return JSON.parse(stdout) as unknown;
    }),
  );
}
