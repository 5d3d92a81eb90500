// The Rego rewrite that lets many ConstraintTemplates share one OPA bundle. Gatekeeper gives
// each template its own compiler, with the entry module at data.template and the libs under
// data.libs.lib.* (frameworks constraint/pkg/client/drivers/rego/compilers.go and
// regorewriter/); bouncer compiles every template into one bundle, so each gets its own
// subtree instead:
//   entry module      package gatekeeper.templates.<name>       (data.gatekeeper.templates.<name>.violation)
//   lib `lib.X`       package gatekeeper.libs.<name>.lib.X
//   data.lib...       data.gatekeeper.libs.<name>.lib...        (in rules and imports; data["lib"] too)
// It enforces what Gatekeeper's regorewriter enforces: libs are packaged under lib.<something>;
// data is read only under data.lib and data.inventory ("disallowed ref"); imports are of
// data.lib.*, future.* (and rego.v1, which Gatekeeper refuses: gatekeeper#3907), never input;
// the entry module defines `violation`. It works on the text, so it needs no OPA CLI, and it
// never adds or removes a line, so OPA's compile errors point at the template's own lines.
import { BouncerError } from '../errors/errors.js';
import { lexRego, RegoLexError, type RegoToken } from './rego-lexer.js';
import { isFieldName, readRef, type TokenRef } from './rego-ref.js';
import { regoFields } from './rego-fields.js';
import type { ConstraintTemplate, RegoVersion } from './types.js';

export interface RewrittenTemplate {
  /** Entry module first, then the libs in order; paths are unique per template. */
  modules: { path: string; text: string; regoVersion: RegoVersion }[];
  /** The entry module's package, without `data.`: `gatekeeper.templates.<name>`. */
  packagePath: string;
}

/** A ref part for `name`: `.name` when it is an identifier, else `["name"]`. */
export function refPart(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
}

/** `data.gatekeeper.templates.<name>` without `data.`. */
export function templatePackagePath(templateName: string): string {
  return `gatekeeper.templates${refPart(templateName)}`;
}

export function rewriteTemplate(template: ConstraintTemplate): RewrittenTemplate {
  const fields = regoFields(template.source);
  const where = (field: string): string => `${template.file}: ConstraintTemplate ${template.name}: ${field}`;
  const packagePath = templatePackagePath(template.name);
  const libPrefix = `gatekeeper.libs${refPart(template.name)}`;
  const entry = rewriteModule(template.rego, { kind: 'entry', packagePath, libPrefix }, where(fields.rego));
  const modules = [{ path: `gatekeeper/${template.name}/template.rego`, text: entry, regoVersion: template.regoVersion }];
  template.libs.forEach((lib, i) => {
    const text = rewriteModule(lib, { kind: 'lib', packagePath, libPrefix }, where(`${fields.libs}[${i}]`));
    modules.push({ path: `gatekeeper/${template.name}/lib-${i}.rego`, text, regoVersion: template.regoVersion });
  });
  return { modules, packagePath };
}

interface ModuleRole {
  readonly kind: 'entry' | 'lib';
  readonly packagePath: string;
  readonly libPrefix: string;
}

interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

function rewriteModule(source: string, role: ModuleRole, where: string): string {
  const fail = (line: number, message: string): BouncerError => new BouncerError('POLICY_SOURCE_INVALID', `${where} (Rego line ${line}): ${message}`);
  let tokens: RegoToken[];
  try {
    tokens = lexRego(source);
  } catch (err) {
    if (err instanceof RegoLexError) throw fail(err.line, err.message);
    throw err;
  }
  const first = tokens[0];
  if (first?.text !== 'package' || tokens[1]?.kind !== 'ident') throw fail(first?.line ?? 1, 'the module must begin with a package declaration');
  const pkg = readRef(tokens, 1, source);
  const edits: Edit[] = [packageEdit(pkg, role, source, fail)];

  const problems: string[] = [];
  const rules = new Set<string>();
  let depth = 0;
  for (let i = pkg.next; i < tokens.length; i++) {
    const t = tokens[i] as RegoToken;
    if (t.kind === 'punct') {
      if ('([{'.includes(t.text)) depth++;
      else if (')]}'.includes(t.text)) depth--;
      continue;
    }
    if (t.kind !== 'ident' || isFieldName(tokens, i)) continue;
    if (depth === 0 && startsLine(tokens, i)) {
      const name = t.text === 'default' ? tokens[i + 1]?.text : t.text;
      if (name !== undefined && !['import', 'else', 'package'].includes(name)) rules.add(name);
    }
    if (t.text === 'import') {
      const problem = importProblem(readRef(tokens, i + 1, source));
      if (problem) problems.push(`line ${t.line}: ${problem}`);
    } else if (t.text === 'data') {
      const ref = readRef(tokens, i, source);
      const head = ref.parts[0];
      const name = head && 'name' in head ? head.name : undefined;
      if (name === 'lib') edits.push({ start: t.end, end: t.end, text: `.${role.libPrefix}` });
      else if (name !== 'inventory')
        problems.push(`line ${t.line}: disallowed ref ${ref.text}: a template may read data only under data.lib (its libs) and data.inventory (replicated objects), as in Gatekeeper`);
    }
  }
  if (problems.length > 0) throw new BouncerError('POLICY_SOURCE_INVALID', `${where}: ${problems.join('; ')}`);
  if (role.kind === 'entry' && !rules.has('violation'))
    throw fail(first.line, 'the entry module does not define the rule `violation`, which Gatekeeper requires (missing required rules: [violation])');
  return applyEdits(source, edits);
}

function packageEdit(pkg: TokenRef, role: ModuleRole, source: string, fail: (line: number, message: string) => BouncerError): Edit {
  const names = [pkg.root.text, ...pkg.parts.map((p) => ('name' in p ? p.name : undefined))];
  if (names.some((n) => n === undefined)) throw fail(pkg.root.line, `package ${pkg.text} has a computed part`);
  const start = pkg.root.start;
  const end = start + pkg.text.length;
  if (role.kind === 'entry') {
    // Keep any line breaks the path spanned, so later lines keep their numbers.
    const breaks = '\n'.repeat((source.slice(start, end).match(/\n/g) ?? []).length);
    return { start, end, text: role.packagePath + breaks };
  }
  if (names[0] !== 'lib' || names.length < 2)
    throw fail(pkg.root.line, `package ${pkg.text} is not under lib: a lib's package must be lib.<name>, as Gatekeeper requires ("path ... not found in lib prefixes")`);
  return { start, end: start, text: `${role.libPrefix}.` };
}

/** Why Gatekeeper would refuse `import <ref>`, or undefined when it is allowed. */
function importProblem(ref: TokenRef): string | undefined {
  const root = ref.root.text;
  const head = ref.parts[0];
  const headName = head && 'name' in head ? head.name : undefined;
  if (root === 'input') return `cannot import input (import ${ref.text}), as in Gatekeeper`;
  if (root === 'data' && headName === 'lib') return undefined;
  if (root === 'future') return undefined;
  // `import rego.v1` is refused by Gatekeeper's regorewriter (gatekeeper#3907); bouncer accepts it.
  if (root === 'rego' && ref.parts.length === 1 && headName === 'v1') return undefined;
  return `bad import ${ref.text}: a template may import only data.lib.*, future.keywords.* and rego.v1`;
}

function startsLine(tokens: readonly RegoToken[], i: number): boolean {
  const prev = tokens[i - 1];
  return prev === undefined || prev.line < (tokens[i] as RegoToken).line;
}

function applyEdits(source: string, edits: readonly Edit[]): string {
  let out = source;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}
