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
import { parseJson } from '../json/parse-json.js';

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

/** A raw path: rooted at input, at data (a rule, expanded through aliases at use), or at a function's argument ($0, $1...). */
type Raw = readonly (string | null)[];

const MAX_DEPTH = 8;

/**
 * The strings a variable iterating a literal collection takes: the key of `some k, v in` an
 * object (its constant keys), the element of `some x in` a set or array (its string elements).
 */
function literalStrings(term: unknown, want: 'keys' | 'elements'): string[] | undefined {
  if (!isNode(term) || !Array.isArray(term.value)) return undefined;
  const items = want === 'keys' ? (term.type === 'object' ? (term.value as unknown[][]).map((pair) => pair[0]) : undefined) : term.type === 'set' || term.type === 'array' ? (term.value as unknown[]) : undefined;
  if (!items || items.length === 0) return undefined;
  const strings = items.map((t) => (isNode(t) && t.type === 'string' && typeof t.value === 'string' ? t.value : undefined));
  return strings.every((x) => x !== undefined) ? (strings as string[]) : undefined;
}

/** The composite positions of a rule's value and the terms found there: `{"container": c}` → [['container'], c]. */
function valueLeaves(term: unknown, at: (string | null)[] = [], out: [Raw, unknown][] = []): [Raw, unknown][] {
  if (!isNode(term)) return out;
  if (term.type === 'ref' || term.type === 'var') out.push([at, term]);
  else if (term.type === 'object' && Array.isArray(term.value)) {
    for (const pair of term.value as unknown[][]) {
      const k = pair[0];
      valueLeaves(pair[1], [...at, isNode(k) && k.type === 'string' && typeof k.value === 'string' ? k.value : null], out);
    }
  } else if ((term.type === 'array' || term.type === 'set') && Array.isArray(term.value)) for (const t of term.value as unknown[]) valueLeaves(t, [...at, null], out);
  else if ((term.type === 'arraycomprehension' || term.type === 'setcomprehension') && isNode(term.value)) valueLeaves(term.value.term, [...at, null], out);
  else if (term.type === 'objectcomprehension' && isNode(term.value)) valueLeaves(term.value.value, [...at, null], out);
  return out;
}

/** The terms of a rule's value that flow into it (not read where they are written: read by whoever reads the rule). */
function flowTerms(term: unknown): Set<unknown> {
  const out = new Set<unknown>();
  for (const [, t] of valueLeaves(term)) out.add(t);
  return out;
}

/**
 * The input reads of every module (OPA ASTs), in order. Rules are followed into the values
 * they hold (a rule whose value is, or holds at some position, a part of the input stands for
 * that part wherever it is read) and functions into what they read of their arguments; a
 * Gatekeeper template's input.review is mapped to input.request.
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

  // Rules whose value is a literal collection (`namespaces := {"hostNetwork": "network", ...}`): the
  // constant keys or elements a variable iterating it takes.
  const literals = new Map<string, Node>();
  for (const m of modules) {
    for (const rule of m.rules) {
      const head = isNode(rule.head) ? rule.head : {};
      const name = ruleName(rule);
      if (name && !Array.isArray(head.args) && isNode(head.value) && ['object', 'set', 'array'].includes(String(head.value.type))) literals.set(['data', ...m.pkg, name].join('.'), head.value);
    }
  }

  /**
   * The raw paths a ref or var term stands for, through locals, imports and package rules; a key
   * that is a variable taking known constants (`consts`) stands for each of them.
   */
  const rawOf = (term: unknown, scope: Scope, locals: ReadonlyMap<string, Raw[]>, consts?: ReadonlyMap<string, string[]>): Raw[] => {
    if (!isNode(term)) return [];
    const parts = term.type === 'ref' && Array.isArray(term.value) ? (term.value as unknown[]) : term.type === 'var' ? [term] : undefined;
    if (!parts) return [];
    const [head, ...rest] = parts;
    if (!isNode(head) || head.type !== 'var' || typeof head.value !== 'string') return [];
    let tails: (string | null)[][] = [[]];
    for (const p of rest) {
      const known = isNode(p) && p.type === 'var' && typeof p.value === 'string' ? consts?.get(p.value) : undefined;
      const options: (string | null)[] = isNode(p) && p.type === 'string' && typeof p.value === 'string' ? [p.value] : known && known.length * tails.length <= 64 ? known : [null];
      tails = tails.flatMap((t) => options.map((o) => [...t, o]));
    }
    const name = head.value;
    const local = locals.get(name);
    const bases: Raw[] = local ?? (scope.imports.has(name) ? [scope.imports.get(name) as string[]] : scope.rules.has(name) ? [['data', ...scope.pkg, name]] : name === 'input' || name === 'data' ? [[name]] : []);
    return bases.flatMap((b) => tails.map((t) => [...b, ...t]));
  };

  /** The constants a collection term iterates over: a literal, or a rule holding one. */
  const constantsOf = (term: unknown, scope: Scope, want: 'keys' | 'elements'): string[] | undefined => {
    const literal = literalStrings(term, want);
    if (literal) return literal;
    const raws = rawOf(term, scope, new Map());
    return raws.length === 1 ? literalStrings(literals.get((raws[0] as Raw).join('.')), want) : undefined;
  };

  /** Locals of one rule (or function: its arguments are $0, $1...), bound to raw paths, to a fixed point. */
  const localsOf = (rule: Node, scope: Scope): { locals: Map<string, Raw[]>; consts: Map<string, string[]>; bound: Set<unknown>; lhs: Set<string> } => {
    const locals = new Map<string, Raw[]>();
    const consts = new Map<string, string[]>();
    const head = isNode(rule.head) ? rule.head : {};
    if (Array.isArray(head.args)) {
      (head.args as unknown[]).forEach((a, i) => {
        if (isNode(a) && a.type === 'var' && typeof a.value === 'string') locals.set(a.value, [[`$${i}`]]);
      });
    }
    const binds: [string, unknown, boolean][] = [];
    const bound = new Set<unknown>();
    const collect = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(collect);
      else if (isNode(node)) {
        for (const b of bindingOf(node)) {
          binds.push(b);
          bound.add(b[1]);
        }
        // `some k, v in coll` / `some x in coll` over constants: the key (or element) is one of them.
        const call = node.type === 'call' && Array.isArray(node.value) ? (node.value as unknown[]) : undefined;
        const op = call ? constPath(call[0])?.join('.') : undefined;
        const key = op === 'internal.member_3' || op === 'internal.member_2' ? call?.[1] : undefined;
        if (isNode(key) && key.type === 'var' && typeof key.value === 'string') {
          const constants = constantsOf(call?.at(-1), scope, op === 'internal.member_3' ? 'keys' : 'elements');
          if (constants) consts.set(key.value, constants);
        }
        Object.values(node).forEach(collect);
      }
    };
    collect([rule.body, rule.else, head.value]);
    for (let pass = 0; pass < 4; pass++) {
      for (const [name, term, iterated] of binds) {
        if (locals.has(name)) continue;
        const paths = rawOf(term, scope, locals, consts);
        if (paths.length > 0) locals.set(name, iterated ? paths.map((p) => [...p, null]) : paths);
      }
    }
    return { locals, consts, bound, lhs: new Set(binds.filter(([, , it]) => !it).map(([name]) => name)) };
  };

  // Aliases: data.<pkg>.<rule>[position] → the raw paths its value holds there.
  const aliases: { pattern: Raw; targets: Raw[] }[] = [];
  const ruleInfo = new Map<Node, ReturnType<typeof localsOf>>();
  for (const m of modules) {
    for (const rule of m.rules) {
      const info = localsOf(rule, m.scope);
      ruleInfo.set(rule, info);
      const head = isNode(rule.head) ? rule.head : {};
      const name = ruleName(rule);
      if (!name || Array.isArray(head.args)) continue;
      const base = ['data', ...m.pkg, name];
      if (head.key !== undefined && head.value === undefined) {
        for (const [at, t] of valueLeaves(head.key)) aliases.push({ pattern: [...base, null, ...at], targets: rawOf(t, m.scope, info.locals) });
      }
      for (const [at, t] of valueLeaves(head.value)) aliases.push({ pattern: [...base, ...(head.key !== undefined ? [null] : []), ...at], targets: rawOf(t, m.scope, info.locals) });
    }
  }

  /** The input paths a raw path reaches (a data path through every alias it meets). */
  const expand = (raw: Raw, depth = 0): InputPath[] => {
    if (raw[0] === 'input' || (typeof raw[0] === 'string' && raw[0].startsWith('$'))) return [raw];
    if (raw[0] !== 'data' || depth > MAX_DEPTH) return [];
    const out: InputPath[] = [];
    for (const a of aliases) {
      const n = Math.min(a.pattern.length, raw.length);
      let match = n >= 2;
      for (let i = 0; match && i < n; i++) if (a.pattern[i] !== null && raw[i] !== null && a.pattern[i] !== raw[i]) match = false;
      if (!match) continue;
      // A path shorter than the alias reads all of what the alias holds; a longer one reads below it.
      const below = raw.length > a.pattern.length ? raw.slice(a.pattern.length) : [];
      for (const t of a.targets) for (const p of expand([...t, ...below], depth + 1)) out.push(p);
    }
    return out;
  };

  // Function summaries: data.<pkg>.<f> → per argument, the paths below it the function reads ([] is all of it).
  let summaries = new Map<string, InputPath[][]>();
  const functionKey = (op: unknown, scope: Scope): string | undefined => {
    const raws = rawOf(op, scope, new Map());
    const raw = raws.length === 1 ? raws[0] : undefined;
    return raw && raw[0] === 'data' && raw.every((p) => p !== null) ? raw.join('.') : undefined;
  };

  /** The uses of input in one rule: input paths, and for a function the paths below its arguments. */
  const usesOf = (m: (typeof modules)[number], rule: Node): InputPath[] => {
    const { locals, consts, bound, lhs } = ruleInfo.get(rule) as ReturnType<typeof localsOf>;
    const head = isNode(rule.head) ? rule.head : {};
    const isFunction = Array.isArray(head.args);
    // A rule's value flows to its readers; a function's value is read whole by its callers.
    const flows = isFunction ? new Set<unknown>() : flowTerms(head.value);
    if (!isFunction && head.key !== undefined && head.value === undefined) for (const t of flowTerms(head.key)) flows.add(t);
    const uses: InputPath[] = [];
    const use = (raws: readonly Raw[]) => {
      for (const r of raws) for (const p of expand(r)) uses.push(m.template && p[0] === 'input' && p[1] === 'review' ? ['input', 'request', ...p.slice(2)] : p);
    };
    const visitRefParts = (ref: Node) => (Array.isArray(ref.value) ? (ref.value as unknown[]).slice(1).forEach((p) => visit(p)) : undefined);
    const visit = (node: unknown, skipVarNamed?: string): void => {
      if (Array.isArray(node)) {
        node.forEach((n) => visit(n, skipVarNamed));
        return;
      }
      if (!isNode(node)) return;
      if (flows.has(node) || bound.has(node)) {
        // Flows into the rule's value, or a binding's right side: its variable's uses are the reads.
        if (node.type === 'ref') visitRefParts(node);
        else if (node.type !== 'var') Object.values(node).forEach((v) => visit(v));
        return;
      }
      if (node.type === 'ref' && Array.isArray(node.value)) {
        use(rawOf(node, m.scope, locals, consts));
        visitRefParts(node);
        return;
      }
      if (node.type === 'var' && typeof node.value === 'string') {
        if (node.value !== skipVarNamed) use(rawOf(node, m.scope, locals, consts));
        return;
      }
      const terms = Array.isArray(node.terms) ? (node.terms as unknown[]) : undefined;
      const op = terms && terms.length === 3 ? constPath(terms[0]) : undefined;
      if (terms && op?.length === 1 && (op[0] === 'assign' || op[0] === 'eq')) {
        const left = terms[1];
        const name = isNode(left) && left.type === 'var' && typeof left.value === 'string' && lhs.has(left.value) ? left.value : undefined;
        terms.slice(1).forEach((t) => visit(t, name));
        return;
      }
      const call = node.type === 'call' && Array.isArray(node.value) ? (node.value as unknown[]) : terms;
      const callee = call ? constPath(call[0])?.join('.') : undefined;
      if (call && (callee === 'internal.member_2' || callee === 'internal.member_3')) {
        visit(call.at(-1));
        return;
      }
      if (call && callee === 'object.get' && call.length === 4) {
        // object.get(x, key, default) with a constant key reads x.key, not all of x.
        const key = call[2];
        const keys = isNode(key) && key.type === 'string' ? [key.value] : isNode(key) && key.type === 'array' && Array.isArray(key.value) ? (key.value as unknown[]).map((k) => (isNode(k) && k.type === 'string' ? k.value : null)) : undefined;
        const bases = rawOf(call[1], m.scope, locals, consts);
        if (keys && bases.length > 0) {
          use(bases.map((b) => [...b, ...keys.map((k) => (typeof k === 'string' ? k : null))]));
          if (isNode(call[1]) && call[1].type === 'ref') visitRefParts(call[1]);
          visit(call.slice(2));
          return;
        }
      }
      const summary = call ? summaries.get(functionKey(call[0], m.scope) ?? '') : undefined;
      if (call && summary) {
        // A function of the policies: each argument is read where the function reads it.
        call.slice(1).forEach((arg, i) => {
          const raws = rawOf(arg, m.scope, locals, consts);
          const below = summary[i];
          if (raws.length === 0 || !below) visit(arg);
          else use(raws.flatMap((r) => below.map((b) => [...r, ...b])));
        });
        return;
      }
      if (node.type === 'some' || node.type === 'location') return;
      for (const [key, v] of Object.entries(node)) if (key !== 'location') visit(v);
    };
    visit([head.key, head.value, rule.body, rule.else]);
    return uses;
  };

  // Function summaries to a fixed point (3 passes; a function not summarized yet reads its arguments whole).
  for (let pass = 0; pass < 3; pass++) {
    const next = new Map<string, InputPath[][]>();
    for (const m of modules) {
      for (const rule of m.rules) {
        const head = isNode(rule.head) ? rule.head : {};
        const name = ruleName(rule);
        if (!name || !Array.isArray(head.args)) continue;
        const key = ['data', ...m.pkg, name].join('.');
        const per = next.get(key) ?? (head.args as unknown[]).map(() => [] as InputPath[]);
        for (const u of usesOf(m, rule)) {
          const arg = /^\$(\d+)$/.exec(String(u[0]))?.[1];
          if (arg !== undefined) per[Number(arg)]?.push(u.slice(1));
        }
        next.set(key, per);
      }
    }
    summaries = next;
  }

  return modules.map((m) => {
    if (m.pkg[0] === 'bouncer') return { package: m.pkg.join('.'), reads: [] };
    const reads = m.rules.flatMap((rule) => usesOf(m, rule)).filter((p) => p[0] === 'input');
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
      return parseJson(stdout) as unknown;
    }),
  );
}
