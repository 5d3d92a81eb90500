import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isBouncerError } from '../errors/errors.js';
import { asServed, constraint, REGO, template } from '../../test/support/gatekeeper-objects.js';
import { readImportFiles } from './import-files.js';
import { importYaml, renderImportLayout, writeImportLayout } from './import-layout.js';
import { planImport } from './import-plan.js';

const root = mkdtempSync(join(tmpdir(), 'bouncer-import-layout-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `d${n++}`);

/** Every file under dir, relative path → text. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}

const plan = () =>
  planImport([
    { object: asServed(template()), source: 'cluster' },
    { object: asServed(constraint('owner', ['owner'])), source: 'cluster' },
    { object: asServed(constraint('cost-center', ['cost-center', 'yes'])), source: 'cluster' },
  ]);

describe('renderImportLayout and writeImportLayout', () => {
  it('writes gatekeeper/<template>/template.yaml and constraints/<name>.yaml, one object each', () => {
    const dir = fresh();
    const { target, replaced } = writeImportLayout(dir, renderImportLayout(plan()));
    expect([target, replaced]).toEqual([join(dir, 'gatekeeper'), false]);
    const files = tree(dir);
    expect(Object.keys(files).sort()).toEqual([
      'gatekeeper/bouncerrequiredlabels/constraints/cost-center.yaml',
      'gatekeeper/bouncerrequiredlabels/constraints/owner.yaml',
      'gatekeeper/bouncerrequiredlabels/template.yaml',
    ]);
    expect(parse(files['gatekeeper/bouncerrequiredlabels/template.yaml']!)).toEqual(template());
    expect(parse(files['gatekeeper/bouncerrequiredlabels/constraints/owner.yaml']!)).toEqual(constraint('owner', ['owner']));
  });

  it('writes the Rego as a literal block, unfolded, and quotes what YAML 1.1 would read as a boolean', () => {
    const [tmpl, cost] = renderImportLayout(plan());
    expect(tmpl!.text).toContain(`rego: |\n${REGO.trimEnd().split('\n').map((l) => (l ? `        ${l}` : '')).join('\n')}\n`);
    expect(cost!.text).toContain('- "yes"');
  });

  it('gives byte-identical files when the written files are imported again', () => {
    const first = fresh();
    writeImportLayout(first, renderImportLayout(plan()));
    const second = fresh();
    writeImportLayout(second, renderImportLayout(planImport(readImportFiles([first], () => ''))));
    expect(tree(second)).toEqual(tree(first));
  });

  it('refuses a non-empty gatekeeper/ without force, and changes nothing', () => {
    const dir = fresh();
    mkdirSync(join(dir, 'gatekeeper', 'old'), { recursive: true });
    writeFileSync(join(dir, 'gatekeeper', 'old', 'template.yaml'), 'old');
    let thrown: unknown;
    try {
      writeImportLayout(dir, renderImportLayout(plan()));
    } catch (err) {
      thrown = err;
    }
    expect(isBouncerError(thrown, 'IMPORT_TARGET_NOT_EMPTY')).toBe(true);
    expect((thrown as Error).message).toContain('--force');
    expect(tree(dir)).toEqual({ 'gatekeeper/old/template.yaml': 'old' });
  });

  it('with force replaces gatekeeper/ only; the rest of DIR stays as it was', () => {
    const dir = fresh();
    mkdirSync(join(dir, 'gatekeeper', 'old'), { recursive: true });
    mkdirSync(join(dir, 'policies', 'p'), { recursive: true });
    writeFileSync(join(dir, 'gatekeeper', 'old', 'template.yaml'), 'old');
    writeFileSync(join(dir, 'policies', 'p', 'policy.rego'), 'package p');
    writeFileSync(join(dir, 'README.md'), 'mine');
    const { replaced } = writeImportLayout(dir, renderImportLayout(plan()), { force: true });
    expect(replaced).toBe(true);
    const files = tree(dir);
    expect(files['policies/p/policy.rego']).toBe('package p');
    expect(files['README.md']).toBe('mine');
    expect(Object.keys(files).filter((f) => f.startsWith('gatekeeper/')).sort()).toEqual([
      'gatekeeper/bouncerrequiredlabels/constraints/cost-center.yaml',
      'gatekeeper/bouncerrequiredlabels/constraints/owner.yaml',
      'gatekeeper/bouncerrequiredlabels/template.yaml',
    ]);
    expect(readdirSync(dir).sort()).toEqual(['README.md', 'gatekeeper', 'policies']);
  });

  it('writes into an empty gatekeeper/ and into a DIR that does not exist yet', () => {
    const dir = fresh();
    mkdirSync(join(dir, 'gatekeeper'), { recursive: true });
    expect(writeImportLayout(dir, renderImportLayout(plan())).replaced).toBe(false);
    const missing = join(fresh(), 'a', 'b');
    writeImportLayout(missing, renderImportLayout(plan()));
    expect(existsSync(join(missing, 'gatekeeper', 'bouncerrequiredlabels', 'template.yaml'))).toBe(true);
  });

  it('refuses a path outside gatekeeper/ and leaves no staging folder behind', () => {
    const dir = fresh();
    expect(() => writeImportLayout(dir, [{ path: 'gatekeeper/../x.yaml', text: '' }])).toThrow(/outside gatekeeper/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('writes YAML that reads back as the object, keys in the order given', () => {
    const object = { b: 1, a: { '<<': 'merge?', z: 'on', y: '0x1F' }, s: 'line\n  indented\n' };
    const text = importYaml(object);
    expect(parse(text)).toEqual(object);
    expect(text.indexOf('b:')).toBeLessThan(text.indexOf('a:'));
  });
});
