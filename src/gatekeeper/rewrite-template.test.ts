// The rewrite checked against the OPA CLI: `opa parse` of the rewritten text shows the
// packages, imports and data refs expected; `opa check` compiles the rewritten modules with a
// stub entry; `opa eval` shows two templates with the same lib package each calling its own.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { opaParseRefs, type ParsedRefs } from '../../test/support/opa-rego-refs.js';
import { thrown } from '../../test/support/thrown.js';
import { rewriteTemplate, type RewrittenTemplate } from './rewrite-template.js';
import type { ConstraintTemplate, RegoVersion } from './types.js';

const opa = inject('opa');
const work = mkdtempSync(join(tmpdir(), 'bouncer-rewrite-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function template(name: string, rego: string, libs: string[] = [], regoVersion: RegoVersion = 'v0'): ConstraintTemplate {
  return { name, kind: name, file: 't.yaml', rego, libs, regoVersion, source: { spec: { targets: [{ rego }] } } };
}

/** Writes the modules (plus extra files) to a fresh directory; returns it. */
function write(rewritten: readonly RewrittenTemplate[], extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(work, 'm-'));
  const files = { ...Object.fromEntries(rewritten.flatMap((r) => r.modules.map((m) => [m.path, m.text]))), ...extra };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const opaParse = (text: string, version: RegoVersion): ParsedRefs => opaParseRefs(opa, text, version);

const ENTRY_V0 = `# data.lib.commented is not code
package k8s.whatever
import data.lib.alpha
import data.lib.beta.check as chk
import future.keywords.in

violation[{"msg": msg, "details": {"where": "data.lib.in_a_string"}}] {
  x := data.lib
  y := data["lib"]["beta"].check(input.review.object)
  ns := data.inventory.cluster["v1"].Namespace[input.review.namespace]
  raw := \`data.lib.in_raw
  data.other.in_raw\`
  field := input.review.object.data.lib
  chk(alpha.value)
  msg := sprintf("%v %v %v", [x, y, ns])
}
`;
const LIB_ALPHA = 'package lib.alpha\n\nvalue := data.lib.beta.answer # data.other in a comment\n';
const LIB_BETA = 'package lib["beta"]\nanswer := 42\ncheck(obj) { obj.kind == "Pod" }\n';

describe('rewriteTemplate', () => {
  it('moves the entry module and libs under the template and rewrites only code refs to data.lib, keeping every line', () => {
    const rewritten = rewriteTemplate(template('k8sdemo', ENTRY_V0, [LIB_ALPHA, LIB_BETA]));
    expect(rewritten.packagePath).toBe('gatekeeper.templates.k8sdemo');
    expect(rewritten.modules.map((m) => [m.path, m.regoVersion])).toEqual([
      ['gatekeeper/k8sdemo/template.rego', 'v0'],
      ['gatekeeper/k8sdemo/lib-0.rego', 'v0'],
      ['gatekeeper/k8sdemo/lib-1.rego', 'v0'],
    ]);
    const [entry, alpha, beta] = rewritten.modules.map((m) => opaParse(m.text, 'v0'));
    expect(entry).toEqual({
      pkg: 'data.gatekeeper.templates.k8sdemo',
      imports: ['data.gatekeeper.libs.k8sdemo.lib.alpha', 'data.gatekeeper.libs.k8sdemo.lib.beta.check', 'future.keywords.in'],
      dataRefs: ['data.gatekeeper.libs.k8sdemo.lib', 'data.gatekeeper.libs.k8sdemo.lib.beta.check', 'data.inventory.cluster.v1.Namespace[input.review.namespace]'].sort(),
    });
    expect(alpha).toEqual({ pkg: 'data.gatekeeper.libs.k8sdemo.lib.alpha', imports: [], dataRefs: ['data.gatekeeper.libs.k8sdemo.lib.beta.answer'] });
    expect(beta).toMatchObject({ pkg: 'data.gatekeeper.libs.k8sdemo.lib.beta', dataRefs: [] });
    // Comments, strings and raw strings are untouched; no line is added or removed.
    const [entryText] = rewritten.modules.map((m) => m.text);
    const original = ENTRY_V0.split('\n');
    const back = (entryText as string).split('\n').map((l) => l.replaceAll('.gatekeeper.libs.k8sdemo', ''));
    expect(back.length).toBe(original.length);
    expect(back.filter((l, i) => l !== original[i])).toEqual(['package gatekeeper.templates.k8sdemo']);
    const dir = write([rewritten], { 'stub.rego': 'package stub\nresult = data.gatekeeper.templates.k8sdemo.violation\n' });
    execFileSync(opa, ['check', '--v0-compatible', dir], { encoding: 'utf8' });
  });

  it('rewrites Rego v1, template strings included', () => {
    const entry = 'package k8sdemo\n\nviolation contains {"msg": $"value {data.lib.x.value} \\"{input.a}\\""} if {\n  data.lib.x.value > 1\n}\n';
    const rewritten = rewriteTemplate(template('k8sdemo', entry, ['package lib.x\n\nvalue := 2\n'], 'v1'));
    expect(rewritten.modules.every((m) => m.regoVersion === 'v1')).toBe(true);
    expect(opaParse(rewritten.modules[0]?.text ?? '', 'v1').dataRefs).toEqual(['data.gatekeeper.libs.k8sdemo.lib.x.value']);
    const dir = write([rewritten], { 'stub.rego': 'package stub\nresult := data.gatekeeper.templates.k8sdemo.violation\n' });
    execFileSync(opa, ['check', dir], { encoding: 'utf8' });
  });

  it('uses bracket parts for a template name that is no Rego identifier', () => {
    const rewritten = rewriteTemplate(template('k8s-demo', 'package x\nviolation[{"msg": m}] { m := data.lib.l.m }\n', ['package lib.l\nm := "no"\n']));
    expect(rewritten.packagePath).toBe('gatekeeper.templates["k8s-demo"]');
    expect(opaParse(rewritten.modules[0]?.text ?? '', 'v0')).toMatchObject({ pkg: 'data.gatekeeper.templates.k8s-demo', dataRefs: ['data.gatekeeper.libs.k8s-demo.lib.l.m'] });
    const dir = write([rewritten], { 'stub.rego': 'package stub\nresult = data.gatekeeper.templates["k8s-demo"].violation\n' });
    execFileSync(opa, ['check', '--v0-compatible', dir], { encoding: 'utf8' });
  });

  it('lets two templates with the same lib package coexist in one bundle, each calling its own', () => {
    const entry = (name: string): string => `package ${name}\nimport data.lib.common.say\nviolation[{"msg": say}] { true }\n`;
    const one = rewriteTemplate(template('one', entry('one'), ['package lib.common\nsay := "from one"\n']));
    const two = rewriteTemplate(template('two', entry('two'), ['package lib.common\nsay := "from two"\n']));
    const dir = write([one, two]);
    const out = execFileSync(opa, ['eval', '--v0-compatible', '--format', 'raw', '-d', dir, '[data.gatekeeper.templates.one.violation, data.gatekeeper.templates.two.violation]'], {
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual([[{ msg: 'from one' }], [{ msg: 'from two' }]]);
  });

  it('accepts import rego.v1, which Gatekeeper refuses (gatekeeper#3907)', () => {
    expect(() => rewriteTemplate(template('k8sdemo', 'package k8sdemo\nimport rego.v1\nviolation contains 1 if { false }\n'))).not.toThrow();
  });

  const lib = (text: string): ConstraintTemplate => template('k8sdemo', 'package k8sdemo\nviolation[1] { false }\n', [text]);
  it.each([
    { name: 'a ref to other data', t: template('k8sdemo', 'package k8sdemo\nviolation[1] {\n  data.other.x\n}\n'), message: 'spec.targets[0].rego: line 3: disallowed ref data.other.x' },
    { name: 'all of data', t: template('k8sdemo', 'package k8sdemo\nviolation[1] { x := data; x.a }\n'), message: 'line 2: disallowed ref data:' },
    { name: 'data indexed by a var', t: template('k8sdemo', 'package k8sdemo\nviolation[1] { k := "lib"; data[k].x }\n'), message: 'disallowed ref data[k].x' },
    { name: 'with on other data', t: template('k8sdemo', 'package k8sdemo\nviolation[1] { true with data.bobs as 1 }\n'), message: 'disallowed ref data.bobs' },
    { name: 'every disallowed ref at once', t: template('k8sdemo', 'package k8sdemo\nviolation[1] { data.a }\nx { data.b }\n'), message: 'line 2: disallowed ref data.a: a template may read data only under data.lib (its libs) and data.inventory (replicated objects), as in Gatekeeper; line 3: disallowed ref data.b' },
    { name: 'a disallowed ref in a lib', t: lib('package lib.x\ny := data.z\n'), message: 'spec.targets[0].libs[0]: line 2: disallowed ref data.z' },
    { name: 'import input', t: template('k8sdemo', 'package k8sdemo\nimport input.review\nviolation[1] { false }\n'), message: 'line 2: cannot import input (import input.review)' },
    { name: 'an import of data outside data.lib', t: template('k8sdemo', 'package k8sdemo\nimport data.inventory\nviolation[1] { false }\n'), message: 'line 2: bad import data.inventory' },
    { name: 'an import of another root', t: template('k8sdemo', 'package k8sdemo\nimport other.thing\nviolation[1] { false }\n'), message: 'bad import other.thing' },
    { name: 'a lib outside lib.', t: lib('package util\nx := 1\n'), message: "spec.targets[0].libs[0] (Rego line 1): package util is not under lib: a lib's package must be lib.<name>" },
    { name: 'a lib at lib itself', t: lib('# header\npackage lib\nx := 1\n'), message: '(Rego line 2): package lib is not under lib' },
    { name: 'an entry without violation', t: template('k8sdemo', 'package k8sdemo\ndeny[1] { false }\n'), message: 'spec.targets[0].rego (Rego line 1): the entry module does not define the rule `violation`' },
    { name: 'no package', t: template('k8sdemo', '# nothing\nviolation[1] { false }\n'), message: '(Rego line 2): the module must begin with a package declaration' },
    { name: 'an unterminated string', t: template('k8sdemo', 'package k8sdemo\nviolation[1] {\n  x := "abc\n}\n'), message: '(Rego line 3): unterminated string' },
  ])('refuses $name', ({ t, message }) => {
    const err = thrown(() => rewriteTemplate(t));
    expect(err.code).toBe('POLICY_SOURCE_INVALID');
    expect(err.message).toContain(`t.yaml: ConstraintTemplate k8sdemo: `);
    expect(err.message).toContain(message);
  });

  it('names the code[] field for a template from code[]', () => {
    const t = { ...template('k8sdemo', 'package k8sdemo\nviolation[1] { data.x }\n'), source: { spec: { targets: [{ code: [{ engine: 'K8sNativeValidation' }, { engine: 'Rego' }] }] } } };
    expect(thrown(() => rewriteTemplate(t)).message).toContain('spec.targets[0].code[1].source.rego: line 2: disallowed ref data.x');
  });
});
