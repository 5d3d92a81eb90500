// Every template of the gatekeeper-library, read where a checkout exists (GATEKEEPER_LIBRARY,
// default /work/ref/gatekeeper-library/library; skipped otherwise, never copied): each parses
// and rewrites, all of them compile together in one set of modules with a stub entry that
// reads every template's violation (`opa check`, v0 or v1 as declared), and the sample
// constraints check against their templates.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { opaParseRefs } from '../../test/support/opa-rego-refs.js';
import { checkGatekeeperObjects } from './check-objects.js';
import { isConstraintTemplate, parseGatekeeperDocuments } from './parse-documents.js';
import { rewriteTemplate } from './rewrite-template.js';
import type { ConstraintTemplate } from './types.js';

const LIBRARY = process.env.GATEKEEPER_LIBRARY ?? '/work/ref/gatekeeper-library/library';

function find(dir: string, pick: (path: string) => boolean): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((e) => {
      const p = join(dir, e);
      return statSync(p).isDirectory() ? find(p, pick) : pick(p) ? [p] : [];
    });
}

describe.skipIf(!existsSync(LIBRARY))('the gatekeeper-library templates', () => {
  const work = mkdtempSync(join(tmpdir(), 'bouncer-library-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const files = existsSync(LIBRARY) ? find(LIBRARY, (p) => p.endsWith('/template.yaml')) : [];
  const templates = (): ConstraintTemplate[] =>
    files.map((f) => {
      const [t] = parseGatekeeperDocuments(readFileSync(f, 'utf8'), f);
      if (!t || !isConstraintTemplate(t)) throw new Error(`${f}: no template`);
      return t;
    });

  it('parse, rewrite and compile together with a stub entry', () => {
    const all = templates();
    expect(all.length).toBeGreaterThanOrEqual(49);
    for (const version of ['v0', 'v1'] as const) {
      const group = all.filter((t) => t.regoVersion === version);
      if (group.length === 0) continue;
      const dir = join(work, version);
      const stub = ['package stub', ...group.map((t, i) => `r${i} = ${'data.' + rewriteTemplate(t).packagePath}.violation`)].join('\n');
      for (const t of group)
        for (const m of rewriteTemplate(t).modules) {
          mkdirSync(dirname(join(dir, m.path)), { recursive: true });
          writeFileSync(join(dir, m.path), m.text);
        }
      writeFileSync(join(dir, 'stub.rego'), `${stub}\n`);
      execFileSync(inject('opa'), ['check', ...(version === 'v0' ? ['--v0-compatible'] : []), dir], { encoding: 'utf8' });
    }
  });

  it('rewrite exactly the refs OPA parses: every data ref is under the template\'s libs or data.inventory', () => {
    for (const t of templates()) {
      for (const m of rewriteTemplate(t).modules) {
        const { pkg, dataRefs } = opaParseRefs(inject('opa'), m.text, t.regoVersion);
        const own = new RegExp(`^data\\.gatekeeper\\.(templates|libs)\\.${t.name}(\\.|$)`);
        expect(pkg, m.path).toMatch(own);
        for (const ref of dataRefs) expect(ref, `${t.file}: ${m.path}`).toMatch(new RegExp(`${own.source}|^data\\.inventory(\\.|\\[|$)`));
        expect(m.text.split('\n').length).toBe((m.path.endsWith('template.rego') ? t.rego : (t.libs[Number(/lib-(\d+)/.exec(m.path)?.[1])] as string)).split('\n').length);
      }
    }
  });

  it('check their sample constraints', () => {
    const all = templates();
    const samples = find(LIBRARY, (p) => /\/samples\/[^/]+\/constraint\.yaml$/.test(p));
    expect(samples.length).toBeGreaterThan(49);
    const constraints = samples.flatMap((f) => parseGatekeeperDocuments(readFileSync(f, 'utf8'), f));
    // Samples reuse names across folders: check each with its template alone.
    for (const c of constraints) {
      const template = all.filter((t) => 'id' in c && t.kind === c.kind);
      expect(() => checkGatekeeperObjects([...template, c]), 'id' in c ? `${c.file}: ${c.id}` : c.file).not.toThrow();
    }
  });
});
