// What a policy's Rego reads, from OPA's own parse of it (`opa parse --format json`, the AST
// with locations): the parts of the request the background audit cannot supply, and whether it
// reads data.inventory (and the `status` of replicated objects).
//
// The audit evaluates an existing object as a CREATE request with no old object and no user,
// so a policy reading `operation`, `oldObject` or `userInfo` of the request (native:
// input.request; template: input.review) would be judged on made-up input. Detected:
//   - a direct ref:                      input.request.operation, input.request["userInfo"].username
//   - a ref through a local variable:    r := input.request; r.operation   (also `=`, chains of them,
//                                        and the element of `some x in ...` / `some k, x in ...`)
//   - an import:                         import input.request as req; req.oldObject
//   - a rule that is a constant alias:   request := input.request (e.g. lib.kubernetes), then
//                                        data.lib.kubernetes.request.userInfo or k.request.userInfo
//                                        through `import data.lib.kubernetes as k`
//   - object.get(input.request, "operation", d) and object.get(input.request, ["oldObject", ...], d)
// Not detected (documented in policies/README.md): the request passed whole to a function that
// reads the field, dynamic keys (input.request[k]), iteration over the request (some k, v in
// input.request, walk), and functions of other modules that read the fields themselves.
// The same resolution finds data.inventory refs; `status` counts as read when a path under
// data.inventory (through the same aliases) names a `status` member below the object.

/** One parsed module: OPA's AST, and the name its locations are reported under. */
export interface ParsedModule {
  readonly name: string;
  readonly ast: unknown;
}

export interface RegoReads {
  /** References to fields the audit cannot supply, each `<ref> (<file>:<line>)`, in source order. */
  readonly requestFields: readonly string[];
  readonly inventory: boolean;
  /**
   * The kinds whose `status` is read under data.inventory: the kind named in the ref
   * (cluster[gv][kind]..., namespace[ns][gv][kind]...), or null when the ref does not name it
   * as a constant (then any kind may be meant).
   */
  readonly inventoryStatus: readonly (string | null)[];
}

/** The request fields whose value the audit does not have. */
export const UNAUDITABLE_FIELDS = ['operation', 'oldObject', 'userInfo'] as const;

type Node = Record<string, unknown>;
/** A resolved ref: constant parts as strings, anything computed as null. */
type Path = readonly (string | null)[];

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

function termPath(term: unknown, resolveVar: (name: string) => Path | undefined): Path | undefined {
  if (!isNode(term)) return undefined;
  if (term.type === 'var' && typeof term.value === 'string') return resolveVar(term.value);
  if (term.type !== 'ref' || !Array.isArray(term.value)) return undefined;
  const [head, ...rest] = term.value as unknown[];
  const base = isNode(head) && head.type === 'var' && typeof head.value === 'string' ? resolveVar(head.value) : undefined;
  if (!base) return undefined;
  return [...base, ...rest.map((p) => (isNode(p) && p.type === 'string' && typeof p.value === 'string' ? p.value : null))];
}

function constPath(term: unknown): string[] | undefined {
  if (!isNode(term) || term.type !== 'ref' || !Array.isArray(term.value)) return undefined;
  const parts = (term.value as unknown[]).map((p) => (isNode(p) && typeof p.value === 'string' ? p.value : undefined));
  return parts.every((p) => p !== undefined) ? (parts as string[]) : undefined;
}

/** Every node of `node` for which `visit` is called, depth first, in source order. */
function walk(node: unknown, visit: (n: Node) => void): void {
  if (Array.isArray(node)) for (const c of node) walk(c, visit);
  else if (isNode(node)) {
    visit(node);
    for (const v of Object.values(node)) walk(v, visit);
  }
}

function rowOf(n: Node): number | undefined {
  const loc = n.location;
  return isNode(loc) && typeof loc.row === 'number' ? loc.row : undefined;
}

function textOf(n: Node): string | undefined {
  const loc = n.location;
  return isNode(loc) && typeof loc.text === 'string' ? Buffer.from(loc.text, 'base64').toString('utf8') : undefined;
}

function packagePath(ast: Node): string[] {
  const pkg = isNode(ast.package) ? ast.package : {};
  const path = Array.isArray(pkg.path) ? (pkg.path as unknown[]) : [];
  return path.map((p) => (isNode(p) && typeof p.value === 'string' ? p.value : '?'));
}

function ruleName(rule: Node): string | undefined {
  const head = isNode(rule.head) ? rule.head : {};
  if (typeof head.name === 'string' && head.name !== '') return head.name;
  const ref = Array.isArray(head.ref) ? (head.ref as unknown[]) : [];
  const first = ref[0];
  return isNode(first) && typeof first.value === 'string' ? first.value : undefined;
}

/** `x := <value>` with an empty body: the rule is another name for the value. */
function constantValue(rule: Node): unknown {
  const head = isNode(rule.head) ? rule.head : {};
  const body = Array.isArray(rule.body) ? (rule.body as unknown[]) : [];
  const only = body[0];
  const trivial = body.length === 1 && isNode(only) && isNode(only.terms) && only.terms.type === 'boolean' && only.terms.value === true;
  return trivial && !Array.isArray(head.args) && head.key === undefined ? head.value : undefined;
}

/** `coll[_]`: an element of a collection term, as a ref whose last part is not a constant. */
function elementOf(coll: unknown): unknown {
  const any = { type: 'var', value: '$element' };
  if (isNode(coll) && coll.type === 'ref' && Array.isArray(coll.value)) return { type: 'ref', value: [...(coll.value as unknown[]), any] };
  if (isNode(coll) && coll.type === 'var') return { type: 'ref', value: [coll, any] };
  return undefined;
}

/**
 * Binding expressions of a rule: var name → term. `v := t`, `v = t`, `t = v`, and the element
 * of `some v in coll` / `some k, v in coll` (OPA parses them as internal.member_2/3 calls).
 */
function bindings(rule: Node): [string, unknown][] {
  const out: [string, unknown][] = [];
  walk(rule.body, (n) => {
    if (n.type === 'call' && Array.isArray(n.value)) {
      const [op, ...args] = n.value as unknown[];
      const name = constPath(op)?.join('.');
      const element = name === 'internal.member_2' ? args[0] : name === 'internal.member_3' ? args[1] : undefined;
      const coll = elementOf(args[args.length - 1]);
      if (isNode(element) && element.type === 'var' && typeof element.value === 'string' && coll) out.push([element.value, coll]);
      return;
    }
    const terms = n.terms;
    if (!Array.isArray(terms) || terms.length !== 3) return;
    const op = constPath(terms[0]);
    if (!op || op.length !== 1 || (op[0] !== 'assign' && op[0] !== 'eq')) return;
    const [, left, right] = terms as [unknown, unknown, unknown];
    if (isNode(left) && left.type === 'var' && typeof left.value === 'string') out.push([left.value, right]);
    if (op[0] === 'eq' && isNode(right) && right.type === 'var' && typeof right.value === 'string') out.push([right.value, left]);
  });
  return out;
}

/**
 * What `modules` read. `root` is where the request is: 'request' for native policies
 * (input.request), 'review' for templates (input.review). Constant-alias rules are collected
 * from `context` too (the shared libs), so a policy reading lib.kubernetes.request.operation is
 * found; only refs written in `modules` are reported.
 */
export function regoReads(modules: readonly ParsedModule[], root: 'request' | 'review', context: readonly ParsedModule[] = []): RegoReads {
  // Rule paths (data.<package>.<rule>) that are constant aliases of another ref.
  const aliasRules: { path: string[]; value: unknown; pkg: string[]; imports: Map<string, Path> }[] = [];
  const perModule = [...modules, ...context].map((m) => {
    const ast = isNode(m.ast) ? m.ast : {};
    const pkg = packagePath(ast);
    const imports = new Map<string, Path>();
    for (const imp of Array.isArray(ast.imports) ? (ast.imports as unknown[]) : []) {
      if (!isNode(imp)) continue;
      const path = constPath(imp.path);
      if (!path || (path[0] !== 'input' && path[0] !== 'data') || path.length < 2) continue;
      imports.set(typeof imp.alias === 'string' ? imp.alias : (path[path.length - 1] as string), path);
    }
    const rules = (Array.isArray(ast.rules) ? (ast.rules as unknown[]) : []).filter(isNode);
    for (const rule of rules) {
      const name = ruleName(rule);
      const value = constantValue(rule);
      if (name !== undefined && value !== undefined) aliasRules.push({ path: [...pkg, name], value, pkg, imports });
    }
    return { module: m, pkg, imports, rules, names: new Set(rules.map(ruleName).filter((n): n is string => n !== undefined)) };
  });
  const packageRules = new Map<string, Set<string>>();
  for (const m of perModule) {
    const key = m.pkg.join('.');
    const set = packageRules.get(key) ?? new Set<string>();
    for (const n of m.names) set.add(n);
    packageRules.set(key, set);
  }

  /** A path with a constant-alias rule prefix replaced by what the rule stands for (bounded). */
  const expand = (path: Path, depth = 0): Path => {
    if (depth > 8) return path;
    for (const alias of aliasRules) {
      if (alias.path.length > path.length || !alias.path.every((p, i) => path[i] === p)) continue;
      const target = termPath(alias.value, (name) => moduleVar(name, alias.pkg, alias.imports, new Map()));
      if (!target) continue;
      return expand([...target, ...path.slice(alias.path.length)], depth + 1);
    }
    return path;
  };
  const moduleVar = (name: string, pkg: readonly string[], imports: ReadonlyMap<string, Path>, locals: ReadonlyMap<string, Path>): Path | undefined => {
    const local = locals.get(name);
    if (local) return local;
    const imported = imports.get(name);
    if (imported) return imported;
    if (packageRules.get(pkg.join('.'))?.has(name)) return [...pkg, name];
    if (name === 'input' || name === 'data') return [name];
    return undefined;
  };

  const found: string[] = [];
  const seen = new Set<string>();
  let inventory = false;
  const inventoryStatus: (string | null)[] = [];
  for (const m of perModule.slice(0, modules.length)) {
    for (const rule of m.rules) {
      // Local variables bound to refs, resolved to a fixed point (chains r := input; q := r.request).
      const locals = new Map<string, Path>();
      const binds = bindings(rule);
      for (let pass = 0; pass < 4; pass++) {
        for (const [name, term] of binds) {
          if (locals.has(name)) continue;
          const p = termPath(term, (v) => (v === name ? undefined : moduleVar(v, m.pkg, m.imports, locals)));
          if (p) locals.set(name, expand(p));
        }
      }
      const resolve = (term: unknown): Path | undefined => {
        const p = termPath(term, (v) => moduleVar(v, m.pkg, m.imports, locals));
        return p ? expand(p) : undefined;
      };
      const check = (path: Path | undefined, n: Node, written?: string): void => {
        if (!path) return;
        if (path[0] === 'data' && path[1] === 'inventory') {
          inventory = true;
          // data.inventory.cluster[gv][kind][name].status / data.inventory.namespace[ns][gv][kind][name].status
          const kindAt = path[2] === 'cluster' ? 4 : path[2] === 'namespace' ? 5 : -1;
          if (kindAt > 0 && path.slice(kindAt + 2).includes('status')) {
            const kind = path[kindAt] ?? null;
            if (!inventoryStatus.includes(kind)) inventoryStatus.push(kind);
          }
        }
        const field = path[2];
        if (path[0] !== 'input' || path[1] !== root || typeof field !== 'string' || !(UNAUDITABLE_FIELDS as readonly string[]).includes(field)) return;
        const ref = `input.${root}.${field}`;
        const text = written ?? textOf(n);
        const where = `${m.module.name}:${rowOf(n) ?? '?'}`;
        // One report per field and line: a binding and its uses on one line are one read.
        if (seen.has(`${ref} ${where}`)) return;
        seen.add(`${ref} ${where}`);
        found.push(text !== undefined && !text.startsWith(ref) ? `${ref} (as ${text}, ${where})` : `${ref} (${where})`);
      };
      walk([rule.head, rule.body, rule.else], (n) => {
        if (n.type === 'ref') {
          // Only a ref's full form is checked (a call's operator and the parts of a ref are refs of their own).
          check(resolve(n), n);
          return;
        }
        const call = n.type === 'call' && Array.isArray(n.value) ? (n.value as unknown[]) : Array.isArray(n.terms) ? (n.terms as unknown[]) : undefined;
        if (!call) return;
        const op = constPath(call[0]);
        if (op?.join('.') !== 'object.get') return;
        const base = resolve(call[1]);
        const key = call[2];
        const keys = isNode(key) && key.type === 'string' ? [key.value] : isNode(key) && key.type === 'array' && Array.isArray(key.value) ? (key.value as unknown[]).map((k) => (isNode(k) && k.type === 'string' ? k.value : null)) : undefined;
        if (base && keys) check([...base, ...keys.map((k) => (typeof k === 'string' ? k : null))], n, textOf(n));
      });
    }
  }
  return { requestFields: found, inventory, inventoryStatus };
}
