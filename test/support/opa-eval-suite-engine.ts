// A SuiteEngine for tests until the WASM engine lands: the real OPA CLI (`opa eval`) runs
// each template's Rego with Gatekeeper's input ({review, parameters}) and data.inventory in
// Gatekeeper's layout. It does not implement spec.match (every constraint given is matched)
// and reports every violation under the constraint's own enforcementAction. It records what
// it was asked, so tests can check that templates are compiled once.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CaseInput, CompiledTemplates, SuiteEngine } from '../../src/gatekeeper/suite-engine.js';
import type { ConstraintTemplate } from '../../src/gatekeeper/types.js';

const run = promisify(execFile);

export interface RecordingEngine extends SuiteEngine {
  readonly compiles: (readonly string[])[];
  readonly reviews: CaseInput[];
}

function packageOf(rego: string): string {
  const m = /^\s*package\s+([\w.]+)/m.exec(rego);
  if (!m?.[1]) throw new Error('template Rego has no package');
  return m[1];
}

/** data.inventory as Gatekeeper lays it out (pkg/target processUnstructured). */
function inventoryData(objects: CaseInput['inventory']): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  const put = (path: string[], value: unknown): void => {
    let node = root;
    for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
    node[path[path.length - 1] as string] = value;
  };
  for (const obj of objects) {
    const meta = (obj['metadata'] ?? {}) as Record<string, unknown>;
    const gv = String(obj['apiVersion']);
    const key = [gv, String(obj['kind']), String(meta['name'] ?? '')];
    put(typeof meta['namespace'] === 'string' && meta['namespace'] !== '' ? ['namespace', meta['namespace'], ...key] : ['cluster', ...key], obj);
  }
  return root;
}

export function createOpaEvalEngine(opa: string): RecordingEngine {
  const compiles: (readonly string[])[] = [];
  const reviews: CaseInput[] = [];
  return {
    compiles,
    reviews,
    async compile(templates: readonly ConstraintTemplate[]): Promise<CompiledTemplates> {
      compiles.push(templates.map((t) => t.kind));
      const dir = mkdtempSync(join(tmpdir(), 'bouncer-suite-engine-'));
      const byKind = new Map<string, { pkg: string; dir: string; v0: boolean }>();
      for (const t of templates) {
        const tdir = join(dir, t.kind);
        mkdirSync(tdir, { recursive: true });
        writeFileSync(join(tdir, 'template.rego'), t.rego);
        t.libs.forEach((lib, i) => writeFileSync(join(tdir, `lib${i}.rego`), lib));
        const v0 = t.regoVersion === 'v0';
        // Fail at compile time, as the real engine would, on Rego that does not parse.
        await run(opa, ['check', ...(v0 ? ['--v0-compatible'] : []), tdir]).catch((err: { stderr?: string }) => {
          throw new Error(`${t.file}: ${err.stderr ?? String(err)}`);
        });
        byKind.set(t.kind, { pkg: packageOf(t.rego), dir: tdir, v0 });
      }
      return {
        async review(constraints, input) {
          reviews.push(input);
          const out = [];
          for (const c of constraints) {
            const t = byKind.get(c.kind);
            if (!t) throw new Error(`no template for ${c.kind}`);
            const caseDir = mkdtempSync(join(dir, 'case-'));
            writeFileSync(join(caseDir, 'input.json'), JSON.stringify({ review: { ...input.request, namespaceObject: null }, parameters: c.parameters }));
            writeFileSync(join(caseDir, 'data.json'), JSON.stringify({ inventory: inventoryData(input.inventory) }));
            const { stdout } = await run(opa, [
              'eval', ...(t.v0 ? ['--v0-compatible'] : []), '--format', 'json', '-d', t.dir, '-d', join(caseDir, 'data.json'),
              '-i', join(caseDir, 'input.json'), `data.${t.pkg}.violation`,
            ]);
            const result = JSON.parse(stdout) as { result?: { expressions: { value: { msg: string; details?: unknown }[] }[] }[] };
            for (const v of result.result?.[0]?.expressions[0]?.value ?? []) {
              out.push({ constraint: c.id, msg: v.msg, enforcementAction: c.enforcementAction, details: v.details ?? {} });
            }
          }
          return out;
        },
        close: () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  };
}
